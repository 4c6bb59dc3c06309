package classify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// makeFernet builds a real Fernet token per github.com/fernet/spec: key is
// 16 bytes of signing key then 16 bytes of encryption key.
func makeFernet(t testing.TB, key [32]byte, iv [16]byte, ts uint64, plaintext []byte) string {
	t.Helper()
	block, err := aes.NewCipher(key[16:])
	require.NoError(t, err)
	pad := 16 - len(plaintext)%16
	padded := append([]byte(nil), plaintext...)
	for range pad {
		padded = append(padded, byte(pad))
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(ct, padded)

	msg := []byte{fernetVersion}
	msg = binary.BigEndian.AppendUint64(msg, ts)
	msg = append(msg, iv[:]...)
	msg = append(msg, ct...)
	mac := hmac.New(sha256.New, key[:16])
	mac.Write(msg)
	msg = mac.Sum(msg)
	return base64.URLEncoding.EncodeToString(msg)
}

func testFernet(t testing.TB, plaintext string) string {
	var key [32]byte
	var iv [16]byte
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	for i := range iv {
		iv[i] = byte(i*13 + 5)
	}
	return makeFernet(t, key, iv, 1_700_000_000, []byte(plaintext))
}

func TestFernet(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	short := testFernet(t, "123-45-6789")
	long := testFernet(t, "a longer plaintext that spans several AES blocks of sixteen bytes")
	require.Equal(t, "gAAAAA", short[:6])

	flipVersion := []byte(short)
	flipVersion[1] = 'Q' // first byte 0x81
	truncated := short[:len(short)-8]
	extraBlock := short[:40] + short[44:] // 70 bytes: not 57+16k

	cases := []struct {
		name string
		in   string
		want Class
	}{
		{"one block", short, ClassFernet},
		{"several blocks", long, ClassFernet},
		{"unpadded", trimPad(long), ClassFernet},
		{"bad version byte", string(flipVersion), ClassCiphertext},
		{"truncated", truncated, ClassCiphertext},
		{"length not 57+16k", extraBlock, ClassCiphertext},
		{"standard alphabet", stdAlphabet(long), ClassCiphertext},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, c.Value([]byte(tc.in)), tc.in)
		})
	}
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

// stdAlphabet rewrites a URL-safe token with the standard alphabet, forcing
// at least one '+' so it is no longer URL-safe.
func stdAlphabet(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '-':
			b[i] = '+'
		case '_':
			b[i] = '/'
		}
	}
	b[len(b)/2] = '+'
	return string(b)
}
