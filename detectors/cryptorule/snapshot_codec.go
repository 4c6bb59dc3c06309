package cryptorule

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The snapshot container: magic, version (uvarint), body, CRC-32 (IEEE,
// 4 bytes little endian) of everything before it. In the body integers
// are varints, booleans one uvarint 0 or 1, strings and lists are
// prefixed with their length. The encoder and decoder below are the only
// code that knows this; state_snapshot.go says what goes in the body.

// maxSnapBytes bounds the snapshot Restore reads, as detectors.LoadState
// bounds a chunk.
const maxSnapBytes = 1 << 31

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("cryptorule snapshot")

// snapEncoder builds a snapshot in memory.
type snapEncoder struct{ b []byte }

func newSnapEncoder(magic string, version uint64) *snapEncoder {
	e := &snapEncoder{b: make([]byte, 0, 4096)}
	e.b = append(e.b, magic...)
	e.u(version)
	return e
}

func (e *snapEncoder) u(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *snapEncoder) i(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *snapEncoder) str(s string) {
	e.u(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *snapEncoder) flag(v bool) {
	if v {
		e.u(1)
	} else {
		e.u(0)
	}
}

// writeTo appends the checksum and writes the snapshot to w.
func (e *snapEncoder) writeTo(w io.Writer) error {
	e.b = binary.LittleEndian.AppendUint32(e.b, crc32.ChecksumIEEE(e.b))
	_, err := w.Write(e.b)
	return err
}

// snapDecoder reads a snapshot body. The first error sticks: later reads
// return zero values, so decoding code checks err once at the end (and
// before loops whose length it read).
type snapDecoder struct {
	data []byte
	err  error
}

// openSnapshot reads r whole, checks size, magic, checksum and version
// and returns a decoder positioned at the body.
func openSnapshot(r io.Reader, magic string, version uint64) (*snapDecoder, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSnapBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSnapBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrSnapshot, maxSnapBytes)
	}
	if len(data) < len(magic)+5 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a cryptorule detector snapshot", ErrSnapshot)
	}
	body, tail := data[:len(data)-4], data[len(data)-4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(tail) {
		return nil, fmt.Errorf("%w: checksum mismatch (file truncated or altered)", ErrSnapshot)
	}
	d := &snapDecoder{data: body[len(magic):]}
	if v := d.u(); d.err != nil || v != version {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrSnapshot, v, version)
	}
	return d, nil
}

func (d *snapDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or corrupt %s", ErrSnapshot, what)
	}
	d.data = nil
}

func (d *snapDecoder) u() uint64 {
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *snapDecoder) i() int64 {
	v, n := binary.Varint(d.data)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *snapDecoder) flag() bool {
	v := d.u()
	if v > 1 {
		d.fail("flag")
	}
	return v == 1
}

// str reads a string; it is copied out of the snapshot buffer.
func (d *snapDecoder) str() string {
	n := d.u()
	if n > uint64(len(d.data)) {
		d.fail("string")
		return ""
	}
	s := string(d.data[:n])
	d.data = d.data[n:]
	return s
}

// count reads a list length: at most limit, and at most the bytes left
// (every element takes at least one), so a corrupt length never makes
// Restore allocate more than the snapshot's size.
func (d *snapDecoder) count(limit int, what string) int {
	v := d.u()
	if v > uint64(limit) || v > uint64(len(d.data)) {
		d.fail(what + " count")
		return 0
	}
	return int(v)
}

// end reports the sticky error, or trailing bytes after a complete body.
func (d *snapDecoder) end() error {
	if d.err != nil {
		return d.err
	}
	if len(d.data) != 0 {
		return fmt.Errorf("%w: %d unexpected trailing bytes", ErrSnapshot, len(d.data))
	}
	return nil
}
