package loggen

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
)

// FernetKey derives the 32-byte Fernet key of a seed: the first 16 bytes
// sign, the last 16 encrypt. Its URL-safe base64 form is what a Django
// app would hold in settings (and what truth.json reports).
func FernetKey(seed uint64) [32]byte {
	return sha256.Sum256([]byte("roachwatch-loggen-fernet-key/" + strconv.FormatUint(seed, 10)))
}

// fernetEncrypt builds a Fernet token: 0x80, big-endian timestamp (s),
// 16-byte IV, AES-128-CBC ciphertext with PKCS#7 padding, HMAC-SHA256 of
// all of that; URL-safe base64 with padding.
func fernetEncrypt(key [32]byte, ts int64, iv [16]byte, plaintext []byte) string {
	block, err := aes.NewCipher(key[16:])
	if err != nil {
		panic(err) // a 16-byte key cannot be rejected
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(append([]byte{}, plaintext...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	msg := make([]byte, 0, 1+8+16+len(padded)+32)
	msg = append(msg, 0x80)
	msg = binary.BigEndian.AppendUint64(msg, uint64(ts))
	msg = append(msg, iv[:]...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(ct, padded)
	msg = append(msg, ct...)
	mac := hmac.New(sha256.New, key[:16])
	mac.Write(msg)
	msg = mac.Sum(msg)
	return base64.URLEncoding.EncodeToString(msg)
}

// Errors of FernetDecrypt.
var (
	ErrFernetFormat = errors.New("loggen: not a fernet token")
	ErrFernetMAC    = errors.New("loggen: fernet token signature mismatch")
)

// FernetDecrypt verifies a token with key and returns its timestamp and
// plaintext. Tests and tools use it to check generated ciphertext.
func FernetDecrypt(key [32]byte, token string) (ts int64, plaintext []byte, err error) {
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+8+16+16+32 || raw[0] != 0x80 || (len(raw)-57)%16 != 0 {
		return 0, nil, ErrFernetFormat
	}
	body, sig := raw[:len(raw)-32], raw[len(raw)-32:]
	mac := hmac.New(sha256.New, key[:16])
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sig) {
		return 0, nil, ErrFernetMAC
	}
	block, _ := aes.NewCipher(key[16:])
	ct := append([]byte{}, body[25:]...)
	cipher.NewCBCDecrypter(block, body[9:25]).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1])
	if pad < 1 || pad > aes.BlockSize {
		return 0, nil, ErrFernetFormat
	}
	return int64(binary.BigEndian.Uint64(body[1:9])), ct[:len(ct)-pad], nil
}

// encrypt returns a Fernet token of plaintext written at time ns, with an
// IV drawn from the generator's crypto stream.
func (g *Generator) encrypt(ns int64, plaintext string) string {
	var iv [16]byte
	binary.LittleEndian.PutUint64(iv[:8], g.ivr.u64())
	binary.LittleEndian.PutUint64(iv[8:], g.ivr.u64())
	return fernetEncrypt(g.fernetKey, ns/1e9, iv, []byte(plaintext))
}
