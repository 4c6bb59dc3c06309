package cryptorule

import (
	"cmp"
	"errors"
	"io"
	"maps"
	"slices"

	"roachwatch/detectors/internal/snapcodec"
)

// Snapshot body, version 1 (see snapcodec for the container):
//
//	open incidents: maxWS, count, then per incident sorted by id:
//	    id, ws, rows, query, classes (sorted), value hashes (sorted)
//	dedup ring, oldest first: count, then per execution:
//	    node, user, addr, port, t, fp, rows counted
//	Django debug hosts sorted by host: count, then per host:
//	    host, ws, first, last, firstID, pending, sent,
//	    source, cluster, node, logger, query
//
// Not written: the column and fingerprint lookup caches (plainCache,
// fpCache), which only memoize catalog answers and are rebuilt on use,
// and the per-event dedup verdict (cur), reset by every Observe.
const (
	snapMagic   = "RWCRYP"
	snapVersion = 1

	maxSnapIncidents = 1 << 24 // beyond any sane max_incidents
)

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("cryptorule snapshot")

var snapFormat = snapcodec.Format{Magic: snapMagic, Version: snapVersion, Err: ErrSnapshot, Name: "a cryptorule detector snapshot"}

// Snapshot writes the state that shapes future findings to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := snapcodec.NewEncoder(snapMagic, snapVersion)

	e.I(d.open.maxWS)
	ids := slices.Sorted(maps.Keys(d.open.m))
	e.U(uint64(len(ids)))
	for _, id := range ids {
		in := d.open.m[id]
		e.Str(id)
		e.I(in.ws)
		e.I(in.rows)
		e.Str(in.query)
		e.U(uint64(len(in.classes)))
		for _, c := range in.classes {
			e.Str(c)
		}
		hashes := slices.Sorted(maps.Keys(in.hashes))
		e.U(uint64(len(hashes)))
		for _, h := range hashes {
			e.Str(h)
		}
	}

	ring := d.dups.ring
	if len(ring) == d.dups.max {
		ring = append(slices.Clone(ring[d.dups.next:]), ring[:d.dups.next]...)
	}
	e.U(uint64(len(ring)))
	for _, k := range ring {
		e.Str(k.node)
		e.Str(k.user)
		e.Str(k.addr)
		e.I(int64(k.port))
		e.I(k.t)
		e.U(k.fp)
		e.I(d.dups.m[k])
	}

	hosts := slices.Sorted(maps.Keys(d.debug))
	e.U(uint64(len(hosts)))
	for _, host := range hosts {
		h := d.debug[host]
		e.Str(host)
		e.I(h.ws)
		e.I(h.first)
		e.I(h.last)
		e.Str(h.firstID)
		e.I(h.pending)
		e.I(h.sent)
		e.Str(h.ev.source)
		e.Str(h.ev.cluster)
		e.Str(h.ev.node)
		e.Str(h.ev.host)
		e.Str(h.ev.logger)
		e.Str(h.query)
	}
	return e.Finish(w)
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. The snapshot is fitted to
// the current config: beyond max_incidents the incidents of the oldest
// windows are dropped (they are reported without running totals, as when
// the table is full).
func (d *Detector) Restore(r io.Reader) error {
	s, err := snapcodec.Open(r, snapFormat)
	if err != nil {
		return err
	}
	nd := New(d.cfg, d.cat)

	nd.open.maxWS = s.I()
	type entry struct {
		id string
		in *incident
	}
	var incs []entry
	n := s.Count(maxSnapIncidents, "incident")
	for range n {
		if s.Err() != nil {
			break
		}
		id := s.Str()
		in := &incident{ws: s.I(), rows: s.I(), query: s.Str()}
		nc := s.Count(maxClasses, "class")
		for range nc {
			in.classes = append(in.classes, s.Str())
		}
		if !slices.IsSorted(in.classes) {
			s.Fail("classes")
		}
		nh := s.Count(maxDistinct, "hash")
		if nh > 0 {
			in.hashes = make(map[string]struct{}, nh)
		}
		for range nh {
			in.hashes[s.Str()] = struct{}{}
		}
		if len(incs) > 0 && incs[len(incs)-1].id >= id {
			s.Fail("incident order")
		}
		incs = append(incs, entry{id, in})
	}
	if len(incs) > nd.open.max { // the config shrank: keep the newest windows
		slices.SortStableFunc(incs, func(a, b entry) int { return cmp.Compare(b.in.ws, a.in.ws) })
		incs = incs[:nd.open.max]
	}
	for _, x := range incs {
		nd.open.m[x.id] = x.in
	}

	n = s.Count(maxSnapIncidents, "execution")
	ring := make([]dupKey, 0, min(n, dedupSize))
	rows := make([]int64, 0, min(n, dedupSize))
	for range n {
		if s.Err() != nil {
			break
		}
		k := dupKey{node: s.Str(), user: s.Str(), addr: s.Str(), port: int(s.I()), t: s.I(), fp: s.U()}
		ring, rows = append(ring, k), append(rows, s.I())
	}
	if len(ring) > nd.dups.max { // keep the newest
		ring, rows = ring[len(ring)-nd.dups.max:], rows[len(rows)-nd.dups.max:]
	}
	for i, k := range ring {
		nd.dups.m[k] = rows[i]
	}
	if len(nd.dups.m) != len(ring) {
		s.Fail("dedup ring (duplicate execution)")
	}
	nd.dups.ring = ring

	n = s.Count(maxDebugHosts, "debug host")
	prev := ""
	for i := range n {
		if s.Err() != nil {
			break
		}
		host := s.Str()
		h := &debugHost{ws: s.I(), first: s.I(), last: s.I(), firstID: s.Str(), pending: s.I(), sent: s.I()}
		h.ev = debugRef{source: s.Str(), cluster: s.Str(), node: s.Str(), host: s.Str(), logger: s.Str()}
		h.query = s.Str()
		if i > 0 && host <= prev || h.pending < 0 || h.sent < 0 {
			s.Fail("debug host")
		}
		prev = host
		nd.debug[host] = h
	}
	if err := s.End(); err != nil {
		return err
	}
	*d = *nd
	return nil
}
