// Package snapcodec is the binary container and body encoding shared by
// the detectors' Snapshot and Restore (detectors.Stateful).
//
// A snapshot is: magic, version (uvarint), body, CRC-32 (IEEE, 4 bytes
// little endian) of everything before it. In the body integers are
// varints, booleans one uvarint 0 or 1, strings and lists are prefixed
// with their length. Each detector says what goes in its body; this
// package is the only code that knows the container. The bytes it writes
// are part of every detector's snapshot format: changing them changes
// those formats.
package snapcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// MaxBytes bounds the snapshot Open reads, as detectors.LoadState bounds
// a chunk.
const MaxBytes = 1 << 31

// maxBytes is MaxBytes, lowered by tests.
var maxBytes = MaxBytes

// ErrSnapshot is wrapped by content errors of a Format without Err.
var ErrSnapshot = errors.New("snapshot")

// Format describes one detector's snapshot container.
type Format struct {
	Magic   string
	Version uint64
	// Err is wrapped by every error about the snapshot's content that
	// Open and the Decoder report (the detector's ErrSnapshot).
	Err error
	// Name says what a snapshot of this format is, for the error about a
	// wrong magic: "not " + Name, as in "an auditrule detector snapshot".
	Name string
}

func (f Format) err() error {
	if f.Err == nil {
		return ErrSnapshot
	}
	return f.Err
}

// Encoder builds a snapshot in memory.
type Encoder struct{ b []byte }

// NewEncoder starts a snapshot with magic and version; the caller
// appends the body and calls Finish.
func NewEncoder(magic string, version uint64) *Encoder {
	e := &Encoder{b: make([]byte, 0, 4096)}
	e.b = append(e.b, magic...)
	e.U(version)
	return e
}

// U appends an unsigned varint.
func (e *Encoder) U(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

// I appends a signed (zigzag) varint.
func (e *Encoder) I(v int64) { e.b = binary.AppendVarint(e.b, v) }

// Str appends a length-prefixed string.
func (e *Encoder) Str(s string) {
	e.U(uint64(len(s)))
	e.b = append(e.b, s...)
}

// Flag appends a boolean as the uvarint 0 or 1.
func (e *Encoder) Flag(v bool) {
	if v {
		e.U(1)
	} else {
		e.U(0)
	}
}

// Raw appends b as it is, with no length: the reader must know it
// (Decoder.Bytes).
func (e *Encoder) Raw(b []byte) { e.b = append(e.b, b...) }

// Finish appends the checksum and writes the snapshot to w. The encoder
// must not be used afterwards.
func (e *Encoder) Finish(w io.Writer) error {
	e.b = binary.LittleEndian.AppendUint32(e.b, crc32.ChecksumIEEE(e.b))
	_, err := w.Write(e.b)
	return err
}

// Decoder reads a snapshot body. The first error sticks: later reads
// return zero values, so decoding code checks Err once at the end (End)
// and before loops whose length it read.
type Decoder struct {
	data []byte
	err  error
	base error
}

// Open reads r whole, checks size, magic, checksum and version and
// returns a decoder positioned at the body.
func Open(r io.Reader, f Format) (*Decoder, error) {
	base := f.err()
	data, err := io.ReadAll(io.LimitReader(r, int64(maxBytes)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", base, maxBytes)
	}
	if len(data) < len(f.Magic)+5 || string(data[:len(f.Magic)]) != f.Magic {
		return nil, fmt.Errorf("%w: not %s", base, f.Name)
	}
	body, tail := data[:len(data)-4], data[len(data)-4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(tail) {
		return nil, fmt.Errorf("%w: checksum mismatch (file truncated or altered)", base)
	}
	d := &Decoder{data: body[len(f.Magic):], base: base}
	if v := d.U(); d.err != nil || v != f.Version {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", base, v, f.Version)
	}
	return d, nil
}

// Fail records that what is corrupt, unless an error is already recorded,
// and drops the rest of the body.
func (d *Decoder) Fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or corrupt %s", d.base, what)
	}
	d.data = nil
}

// Err is the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// U reads an unsigned varint.
func (d *Decoder) U() uint64 {
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.Fail("number")
		return 0
	}
	d.data = d.data[n:]
	return v
}

// I reads a signed varint.
func (d *Decoder) I() int64 {
	v, n := binary.Varint(d.data)
	if n <= 0 {
		d.Fail("number")
		return 0
	}
	d.data = d.data[n:]
	return v
}

// Flag reads a boolean; any value but 0 and 1 is corrupt.
func (d *Decoder) Flag() bool {
	v := d.U()
	if v > 1 {
		d.Fail("flag")
	}
	return v == 1
}

// Str reads a string; it is copied out of the snapshot buffer.
func (d *Decoder) Str() string {
	n := d.U()
	if n > uint64(len(d.data)) {
		d.Fail("string")
		return ""
	}
	s := string(d.data[:n])
	d.data = d.data[n:]
	return s
}

// Bytes reads n raw bytes (Encoder.Raw). The result aliases the snapshot
// buffer: copy it to keep it.
func (d *Decoder) Bytes(n uint64) []byte {
	if n > uint64(len(d.data)) {
		d.Fail("bytes")
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

// Count reads a list length: at most limit, and at most the bytes left
// (every element takes at least one), so a corrupt length never makes
// Restore allocate more than the snapshot's size.
func (d *Decoder) Count(limit int, what string) int {
	v := d.U()
	if v > uint64(limit) || v > uint64(len(d.data)) {
		d.Fail(what + " count")
		return 0
	}
	return int(v)
}

// End reports the sticky error, or trailing bytes after a complete body.
func (d *Decoder) End() error {
	if d.err != nil {
		return d.err
	}
	if len(d.data) != 0 {
		return fmt.Errorf("%w: %d unexpected trailing bytes", d.base, len(d.data))
	}
	return nil
}
