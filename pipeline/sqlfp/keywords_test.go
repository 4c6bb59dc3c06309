package sqlfp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLookupKeyword checks the keyword table against the word map: every
// keyword is found, and words that share its length and edge bytes are not.
func TestLookupKeyword(t *testing.T) {
	for w, id := range kwByWord {
		require.Equal(t, id, lookupKeyword([]byte(w)), w)
		for _, other := range []string{w + "s", w[:len(w)-1], "x" + w[1:], w[:len(w)-1] + "x"} {
			if _, ok := kwByWord[other]; !ok && other != "" {
				require.Equal(t, kwNone, lookupKeyword([]byte(other)), other)
			}
		}
	}
	for _, w := range []string{"", "users", "patients", "selects", "\xff", "current_timestampx"} {
		require.Equal(t, kwNone, lookupKeyword([]byte(w)), w)
	}
}
