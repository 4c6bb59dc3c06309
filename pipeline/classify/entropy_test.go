package classify

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCiphertextRandom checks the thresholds against random bytes of every
// length from the 24-character minimum up to 2 KiB, in all three encodings.
func TestCiphertextRandom(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	encodings := []struct {
		name   string
		encode func([]byte) string
		minLen int
	}{
		{"hex", hex.EncodeToString, 12},
		{"base64", base64.StdEncoding.EncodeToString, 18},
		{"base64url", base64.RawURLEncoding.EncodeToString, 18},
	}
	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			misses := 0
			total := 0
			for n := enc.minLen; n <= 2048; n += 1 + n/16 {
				for range 20 {
					b := make([]byte, n)
					for i := range b {
						b[i] = byte(rng.Uint32())
					}
					s := enc.encode(b)
					total++
					if cl := c.Value([]byte(s)); cl != ClassCiphertext && cl != ClassFernet && cl != ClassText {
						t.Fatalf("random %d bytes as %s: %s", n, enc.name, cl)
					} else if cl == ClassText {
						misses++
					}
				}
			}
			// base64 without a digit, or a UUID-shaped hex value, is
			// allowed to slip through; everything else must be caught.
			require.Less(t, float64(misses)/float64(total), 0.02, "%d of %d missed", misses, total)
		})
	}
}

func TestCiphertextLowInformation(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	cases := []struct{ name, in string }{
		{"repeated hex letter", strings.Repeat("a", 64)},
		{"repeated hex pattern", strings.Repeat("deadbeef", 6)},
		{"counting hex", strings.Repeat("0123456789abcdef", 3)},
		{"repeated word", strings.Repeat("Secret42", 5)},
		{"uuid", "123e4567-e89b-12d3-a456-426614174000"},
		{"base64 sentence", base64.StdEncoding.EncodeToString([]byte("Please call me back tomorrow at 10"))},
		{"base64url json", base64.RawURLEncoding.EncodeToString([]byte(`{"user_id": 1234, "role": "admin"}`))},
		{"camel case identifier", "AuthenticationMiddlewareFactory2Builder"},
		{"camel case with digits", "getUser2AccountSettingsByIdentifier3"},
		{"snake case identifier", "auth_user_user_permissions_content_type_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, ClassText, c.Value([]byte(tc.in)), tc.in)
		})
	}
}
