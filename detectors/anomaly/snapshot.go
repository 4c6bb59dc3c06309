package anomaly

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
)

// Snapshot format: magic "RWANOM", version (uvarint), body, CRC-32 (IEEE,
// 4 bytes little endian) of everything before it. The body holds the
// global state, the seen filter and the principals from most to least
// recently seen, all integers as varints.
const (
	snapMagic   = "RWANOM"
	snapVersion = 1
	maxSnapList = 1 << 20 // sanity limit for lengths read back
)

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("anomaly snapshot")

type snapWriter struct {
	w   *bufio.Writer
	crc hashWriter
	buf [binary.MaxVarintLen64]byte
}

type hashWriter struct{ sum uint32 }

func (s *snapWriter) raw(b []byte) {
	s.crc.sum = crc32.Update(s.crc.sum, crc32.IEEETable, b)
	s.w.Write(b)
}
func (s *snapWriter) u(v uint64) { s.raw(binary.AppendUvarint(s.buf[:0], v)) }
func (s *snapWriter) i(v int64)  { s.raw(binary.AppendVarint(s.buf[:0], v)) }
func (s *snapWriter) str(v string) {
	s.u(uint64(len(v)))
	s.raw([]byte(v))
}
func (s *snapWriter) est(e est) {
	s.u(uint64(math.Float32bits(e.loc)))
	s.u(uint64(math.Float32bits(e.scale)))
	s.u(uint64(e.n))
}
func (s *snapWriter) entries(t []entry) {
	s.u(uint64(len(t)))
	for _, e := range t {
		s.u(e.key)
		s.u(uint64(e.count))
		s.u(uint64(e.flags))
		s.est(e.rows)
		s.est(e.read)
	}
}

// Snapshot writes the whole state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	s := &snapWriter{w: bufio.NewWriterSize(w, 64<<10)}
	s.raw([]byte(snapMagic))
	s.u(snapVersion)
	if d.started {
		s.u(1)
	} else {
		s.u(0)
	}
	s.i(d.t0)
	s.str(d.sole)
	s.u(uint64(d.nClusters))
	s.u(uint64(len(d.seen.bits)))
	for _, b := range d.seen.bits {
		s.raw(binary.LittleEndian.AppendUint64(s.buf[:0], b))
	}
	s.i(d.st.evicted)
	s.u(uint64(len(d.st.idx)))
	for i := d.st.head; i >= 0; i = d.st.ps[i].next {
		p := &d.st.ps[i]
		s.str(p.key)
		s.u(uint64(p.flags))
		s.i(p.first)
		s.i(p.last)
		for _, v := range []uint32{p.events, p.stmts, p.lastNewFP, p.minuteN, p.rateLimit} {
			s.u(uint64(v))
		}
		s.i(p.minute)
		s.i(p.offHour)
		s.est(p.rate)
		for _, r := range p.recent {
			s.u(r)
		}
		s.u(uint64(p.recentPos))
		s.str(p.firstID)
		if p.hours != nil {
			s.u(1)
			s.raw(p.hours.bins[:])
		} else {
			s.u(0)
		}
		s.entries(p.fps)
		s.entries(p.tables)
		s.u(uint64(len(p.items)))
		for _, it := range p.items {
			s.u(it.h)
			s.u(uint64(it.n))
			s.u(uint64(it.kind))
		}
	}
	sum := s.crc.sum
	s.w.Write(binary.LittleEndian.AppendUint32(nil, sum))
	return s.w.Flush()
}

type snapReader struct {
	data []byte
	err  error
}

func (r *snapReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated or corrupt %s", ErrSnapshot, what)
	}
	r.data = nil
}
func (r *snapReader) u() uint64 {
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.data = r.data[n:]
	return v
}
func (r *snapReader) i() int64 {
	v, n := binary.Varint(r.data)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.data = r.data[n:]
	return v
}
func (r *snapReader) bytes(n uint64) []byte {
	if n > uint64(len(r.data)) {
		r.fail("bytes")
		return nil
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b
}
func (r *snapReader) n(limit uint64) int {
	v := r.u()
	if v > limit {
		r.fail("length")
		return 0
	}
	return int(v)
}
func (r *snapReader) u32() uint32 { return uint32(min(r.u(), math.MaxUint32)) }
func (r *snapReader) est() est {
	return est{loc: math.Float32frombits(r.u32()), scale: math.Float32frombits(r.u32()), n: r.u32()}
}
func (r *snapReader) entries(k int) []entry {
	n := r.n(maxSnapList)
	var t []entry
	for range n {
		t = append(t, entry{key: r.u(), count: r.u32(), flags: r.u32(), rows: r.est(), read: r.est()})
	}
	if len(t) > k { // the config shrank: keep the most counted
		slices.SortStableFunc(t, func(a, b entry) int { return cmp.Compare(b.count, a.count) })
		t = t[:k]
	}
	return slices.Clip(t)
}

// Restore replaces the state with a snapshot written by Snapshot. The
// snapshot is fitted to the current config: principals beyond
// max_principals (least recently seen first) and shapes, tables and
// items beyond their caps (least counted first) are dropped.
func (d *Detector) Restore(rd io.Reader) error {
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	if len(data) < len(snapMagic)+5 || string(data[:len(snapMagic)]) != snapMagic {
		return fmt.Errorf("%w: not an anomaly detector snapshot", ErrSnapshot)
	}
	body, tail := data[:len(data)-4], data[len(data)-4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(tail) {
		return fmt.Errorf("%w: checksum mismatch (file truncated or altered)", ErrSnapshot)
	}
	r := &snapReader{data: body[len(snapMagic):]}
	if v := r.u(); v != snapVersion {
		return fmt.Errorf("%w: version %d, this build reads version %d", ErrSnapshot, v, snapVersion)
	}
	nd := New(d.cfg)
	nd.started = r.u() == 1
	nd.t0 = r.i()
	nd.sole = string(r.bytes(r.u()))
	nd.nClusters = uint8(min(r.u(), 2))
	words := r.n(1 << 26)
	raw := r.bytes(uint64(words) * 8)
	if words == len(nd.seen.bits) {
		for i := range nd.seen.bits {
			nd.seen.bits[i] = binary.LittleEndian.Uint64(raw[8*i:])
		}
	} // else the filter size changed: start an empty filter
	nd.st.evicted = r.i()
	count := r.n(1 << 27)
	nd.st.ps = make([]principal, 0, min(count, d.cfg.MaxPrincipals))
	for range count {
		if r.err != nil {
			break
		}
		key := r.bytes(r.u())
		var p principal
		p.flags = r.u32()
		p.first, p.last = r.i(), r.i()
		p.events, p.stmts, p.lastNewFP, p.minuteN, p.rateLimit = r.u32(), r.u32(), r.u32(), r.u32(), r.u32()
		p.minute, p.offHour = r.i(), r.i()
		p.rate = r.est()
		for j := range p.recent {
			p.recent[j] = r.u()
		}
		p.recentPos = uint8(r.u() % uint64(len(p.recent)))
		p.firstID = string(r.bytes(r.u()))
		if r.u() == 1 {
			h := &hourProfile{}
			copy(h.bins[:], r.bytes(168))
			for _, b := range h.bins {
				h.total += uint32(b)
			}
			if d.cfg.OffHours {
				p.hours = h
			}
		} else if d.cfg.OffHours {
			p.hours = &hourProfile{}
		}
		p.fps = r.entries(d.cfg.MaxFingerprints)
		p.tables = r.entries(d.cfg.MaxTables)
		ni := r.n(maxSnapList)
		for range ni {
			it := item{h: r.u(), n: r.u32(), kind: uint8(r.u())}
			caps := [numKinds]int{d.cfg.MaxAddresses, d.cfg.MaxNetworks, d.cfg.MaxApps}
			if it.kind < numKinds && countKind(p.items, it.kind) < caps[it.kind] {
				p.items = append(p.items, it)
			}
		}
		if r.err != nil || len(nd.st.idx) >= d.cfg.MaxPrincipals {
			continue
		}
		nd.st.appendTail(string(key), p)
	}
	if r.err != nil {
		return r.err
	}
	if len(r.data) != 0 {
		return fmt.Errorf("%w: %d unexpected trailing bytes", ErrSnapshot, len(r.data))
	}
	*d = *nd
	return nil
}

func countKind(items []item, kind uint8) int {
	n := 0
	for _, it := range items {
		if it.kind == kind {
			n++
		}
	}
	return n
}

// appendTail adds a restored principal as the least recently seen.
func (s *store) appendTail(key string, p principal) {
	p.key = key
	p.prev, p.next = s.tail, -1
	s.ps = append(s.ps, p)
	i := int32(len(s.ps) - 1)
	if s.tail >= 0 {
		s.ps[s.tail].next = i
	} else {
		s.head = i
	}
	s.tail = i
	s.idx[key] = i
	s.mem += s.ps[i].dynBytes()
}
