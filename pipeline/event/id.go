package event

import (
	"crypto/sha256"
	"encoding/hex"
)

// NewID returns the deterministic id of an entry: the first 128 bits of
// SHA-256 over the source kind and the raw entry bytes, as 32 hex digits.
//
// A cryptographic hash is used on purpose: log content is partly
// attacker-controlled (SQL text), and a crafted collision with a
// non-cryptographic hash would let an attacker's event be deduplicated away
// as a "replay" of an earlier benign one.
func NewID(source string, raw []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(raw)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return hex.EncodeToString(sum[:16])
}
