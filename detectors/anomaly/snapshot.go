package anomaly

import (
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"

	"roachwatch/detectors/internal/snapcodec"
)

// Snapshot format: the snapcodec container with magic "RWANOM". The
// body holds the global state, the seen filter (its words as 8 bytes
// little endian each) and the principals from most to least recently
// seen, all integers as varints.
const (
	snapMagic   = "RWANOM"
	snapVersion = 1
	maxSnapList = 1 << 20 // sanity limit for lengths read back
)

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("anomaly snapshot")

var snapFormat = snapcodec.Format{Magic: snapMagic, Version: snapVersion, Err: ErrSnapshot, Name: "an anomaly detector snapshot"}

func putEst(e *snapcodec.Encoder, v est) {
	e.U(uint64(math.Float32bits(v.loc)))
	e.U(uint64(math.Float32bits(v.scale)))
	e.U(uint64(v.n))
}

func putEntries(e *snapcodec.Encoder, t []entry) {
	e.U(uint64(len(t)))
	for _, x := range t {
		e.U(x.key)
		e.U(uint64(x.count))
		e.U(uint64(x.flags))
		putEst(e, x.rows)
		putEst(e, x.read)
	}
}

// Snapshot writes the whole state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := snapcodec.NewEncoder(snapMagic, snapVersion)
	e.Flag(d.started)
	e.I(d.t0)
	e.Str(d.sole)
	e.U(uint64(d.nClusters))
	e.U(uint64(len(d.seen.bits)))
	var word [8]byte
	for _, b := range d.seen.bits {
		binary.LittleEndian.PutUint64(word[:], b)
		e.Raw(word[:])
	}
	e.I(d.st.evicted)
	e.U(uint64(len(d.st.idx)))
	for i := d.st.head; i >= 0; i = d.st.ps[i].next {
		p := &d.st.ps[i]
		e.Str(p.key)
		e.U(uint64(p.flags))
		e.I(p.first)
		e.I(p.last)
		for _, v := range []uint32{p.events, p.stmts, p.lastNewFP, p.minuteN, p.rateLimit} {
			e.U(uint64(v))
		}
		e.I(p.minute)
		e.I(p.offHour)
		putEst(e, p.rate)
		for _, r := range p.recent {
			e.U(r)
		}
		e.U(uint64(p.recentPos))
		e.Str(p.firstID)
		e.Flag(p.hours != nil)
		if p.hours != nil {
			e.Raw(p.hours.bins[:])
		}
		putEntries(e, p.fps)
		putEntries(e, p.tables)
		e.U(uint64(len(p.items)))
		for _, it := range p.items {
			e.U(it.h)
			e.U(uint64(it.n))
			e.U(uint64(it.kind))
		}
	}
	return e.Finish(w)
}

// length reads a length of at most limit. Unlike Decoder.Count it does
// not compare it with the bytes left: the loops it bounds stop at the
// first error.
func length(r *snapcodec.Decoder, limit uint64) int {
	v := r.U()
	if v > limit {
		r.Fail("length")
		return 0
	}
	return int(v)
}

// u32 reads a varint saturated to 32 bits.
func u32(r *snapcodec.Decoder) uint32 { return uint32(min(r.U(), math.MaxUint32)) }

func readEst(r *snapcodec.Decoder) est {
	return est{loc: math.Float32frombits(u32(r)), scale: math.Float32frombits(u32(r)), n: u32(r)}
}

func readEntries(r *snapcodec.Decoder, k int) []entry {
	n := length(r, maxSnapList)
	var t []entry
	for range n {
		t = append(t, entry{key: r.U(), count: u32(r), flags: u32(r), rows: readEst(r), read: readEst(r)})
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
	r, err := snapcodec.Open(rd, snapFormat)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	nd.started = r.U() == 1
	nd.t0 = r.I()
	nd.sole = string(r.Bytes(r.U()))
	nd.nClusters = uint8(min(r.U(), 2))
	words := length(r, 1<<26)
	raw := r.Bytes(uint64(words) * 8)
	if words == len(nd.seen.bits) {
		for i := range nd.seen.bits {
			nd.seen.bits[i] = binary.LittleEndian.Uint64(raw[8*i:])
		}
	} // else the filter size changed: start an empty filter
	nd.st.evicted = r.I()
	count := length(r, 1<<27)
	nd.st.ps = make([]principal, 0, min(count, d.cfg.MaxPrincipals))
	for range count {
		if r.Err() != nil {
			break
		}
		key := r.Bytes(r.U())
		var p principal
		p.flags = u32(r)
		p.first, p.last = r.I(), r.I()
		p.events, p.stmts, p.lastNewFP, p.minuteN, p.rateLimit = u32(r), u32(r), u32(r), u32(r), u32(r)
		p.minute, p.offHour = r.I(), r.I()
		p.rate = readEst(r)
		for j := range p.recent {
			p.recent[j] = r.U()
		}
		p.recentPos = uint8(r.U() % uint64(len(p.recent)))
		p.firstID = string(r.Bytes(r.U()))
		if r.U() == 1 {
			h := &hourProfile{}
			copy(h.bins[:], r.Bytes(168))
			for _, b := range h.bins {
				h.total += uint32(b)
			}
			if d.cfg.OffHours {
				p.hours = h
			}
		} else if d.cfg.OffHours {
			p.hours = &hourProfile{}
		}
		p.fps = readEntries(r, d.cfg.MaxFingerprints)
		p.tables = readEntries(r, d.cfg.MaxTables)
		ni := length(r, maxSnapList)
		for range ni {
			it := item{h: r.U(), n: u32(r), kind: uint8(r.U())}
			caps := [numKinds]int{d.cfg.MaxAddresses, d.cfg.MaxNetworks, d.cfg.MaxApps}
			if it.kind < numKinds && countKind(p.items, it.kind) < caps[it.kind] {
				p.items = append(p.items, it)
			}
		}
		if r.Err() != nil || len(nd.st.idx) >= d.cfg.MaxPrincipals {
			continue
		}
		nd.st.appendTail(string(key), p)
	}
	if err := r.End(); err != nil {
		return err
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
