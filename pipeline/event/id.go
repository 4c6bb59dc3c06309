package event

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
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

// IDer computes the same ids as NewID, reusing one SHA-256 state and its
// scratch buffers between calls. The zero value is ready to use; an IDer
// is not safe for concurrent use.
type IDer struct {
	h   hash.Hash
	pre []byte // source + NUL
	sum []byte
}

// ID returns NewID(source, raw).
func (d *IDer) ID(source string, raw []byte) string {
	if d.h == nil {
		d.h = sha256.New()
		d.sum = make([]byte, 0, sha256.Size)
	} else {
		d.h.Reset()
	}
	d.pre = append(append(d.pre[:0], source...), 0)
	d.h.Write(d.pre)
	d.h.Write(raw)
	d.sum = d.h.Sum(d.sum[:0])
	var dst [32]byte
	hex.Encode(dst[:], d.sum[:16])
	return string(dst[:])
}
