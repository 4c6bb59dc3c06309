package event

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"path/filepath"
	"strconv"
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
	d.pre = append(append(d.pre[:0], source...), 0)
	return d.sum16(raw)
}

// IDAt returns the id of an entry that has no time of its own: like ID,
// but the hash also covers the base name of the file it was read from and
// its offset there, so that byte-identical time-less lines (two
// "Unauthorized: /login/" lines of Django's default console format) stay
// two events. The same file read again, by ingest or by an embedded run
// from another directory, gives the same ids.
func (d *IDer) IDAt(source string, o Origin, raw []byte) string {
	d.pre = append(append(d.pre[:0], source...), 1)
	d.pre = append(d.pre, filepath.Base(o.File)...)
	d.pre = append(d.pre, 0)
	d.pre = strconv.AppendInt(d.pre, o.Offset, 10)
	d.pre = append(d.pre, 0)
	return d.sum16(raw)
}

// sum16 hashes d.pre then raw and returns the first 128 bits in hex.
func (d *IDer) sum16(raw []byte) string {
	if d.h == nil {
		d.h = sha256.New()
		d.sum = make([]byte, 0, sha256.Size)
	} else {
		d.h.Reset()
	}
	d.h.Write(d.pre)
	d.h.Write(raw)
	d.sum = d.h.Sum(d.sum[:0])
	var dst [32]byte
	hex.Encode(dst[:], d.sum[:16])
	return string(dst[:])
}
