package cryptorule

import (
	"cmp"
	"io"
	"maps"
	"slices"
)

// Snapshot body, version 1 (see snapshot_codec.go for the container):
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

// Snapshot writes the state that shapes future findings to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := newSnapEncoder(snapMagic, snapVersion)

	e.i(d.open.maxWS)
	ids := slices.Sorted(maps.Keys(d.open.m))
	e.u(uint64(len(ids)))
	for _, id := range ids {
		in := d.open.m[id]
		e.str(id)
		e.i(in.ws)
		e.i(in.rows)
		e.str(in.query)
		e.u(uint64(len(in.classes)))
		for _, c := range in.classes {
			e.str(c)
		}
		hashes := slices.Sorted(maps.Keys(in.hashes))
		e.u(uint64(len(hashes)))
		for _, h := range hashes {
			e.str(h)
		}
	}

	ring := d.dups.ring
	if len(ring) == d.dups.max {
		ring = append(slices.Clone(ring[d.dups.next:]), ring[:d.dups.next]...)
	}
	e.u(uint64(len(ring)))
	for _, k := range ring {
		e.str(k.node)
		e.str(k.user)
		e.str(k.addr)
		e.i(int64(k.port))
		e.i(k.t)
		e.u(k.fp)
		e.i(d.dups.m[k])
	}

	hosts := slices.Sorted(maps.Keys(d.debug))
	e.u(uint64(len(hosts)))
	for _, host := range hosts {
		h := d.debug[host]
		e.str(host)
		e.i(h.ws)
		e.i(h.first)
		e.i(h.last)
		e.str(h.firstID)
		e.i(h.pending)
		e.i(h.sent)
		e.str(h.ev.source)
		e.str(h.ev.cluster)
		e.str(h.ev.node)
		e.str(h.ev.host)
		e.str(h.ev.logger)
		e.str(h.query)
	}
	return e.writeTo(w)
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. The snapshot is fitted to
// the current config: beyond max_incidents the incidents of the oldest
// windows are dropped (they are reported without running totals, as when
// the table is full).
func (d *Detector) Restore(r io.Reader) error {
	s, err := openSnapshot(r, snapMagic, snapVersion)
	if err != nil {
		return err
	}
	nd := New(d.cfg, d.cat)

	nd.open.maxWS = s.i()
	type entry struct {
		id string
		in *incident
	}
	var incs []entry
	n := s.count(maxSnapIncidents, "incident")
	for range n {
		if s.err != nil {
			break
		}
		id := s.str()
		in := &incident{ws: s.i(), rows: s.i(), query: s.str()}
		nc := s.count(maxClasses, "class")
		for range nc {
			in.classes = append(in.classes, s.str())
		}
		if !slices.IsSorted(in.classes) {
			s.fail("classes")
		}
		nh := s.count(maxDistinct, "hash")
		if nh > 0 {
			in.hashes = make(map[string]struct{}, nh)
		}
		for range nh {
			in.hashes[s.str()] = struct{}{}
		}
		if len(incs) > 0 && incs[len(incs)-1].id >= id {
			s.fail("incident order")
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

	n = s.count(maxSnapIncidents, "execution")
	ring := make([]dupKey, 0, min(n, dedupSize))
	rows := make([]int64, 0, min(n, dedupSize))
	for range n {
		if s.err != nil {
			break
		}
		k := dupKey{node: s.str(), user: s.str(), addr: s.str(), port: int(s.i()), t: s.i(), fp: s.u()}
		ring, rows = append(ring, k), append(rows, s.i())
	}
	if len(ring) > nd.dups.max { // keep the newest
		ring, rows = ring[len(ring)-nd.dups.max:], rows[len(rows)-nd.dups.max:]
	}
	for i, k := range ring {
		nd.dups.m[k] = rows[i]
	}
	if len(nd.dups.m) != len(ring) {
		s.fail("dedup ring (duplicate execution)")
	}
	nd.dups.ring = ring

	n = s.count(maxDebugHosts, "debug host")
	prev := ""
	for i := range n {
		if s.err != nil {
			break
		}
		host := s.str()
		h := &debugHost{ws: s.i(), first: s.i(), last: s.i(), firstID: s.str(), pending: s.i(), sent: s.i()}
		h.ev = debugRef{source: s.str(), cluster: s.str(), node: s.str(), host: s.str(), logger: s.str()}
		h.query = s.str()
		if i > 0 && host <= prev || h.pending < 0 || h.sent < 0 {
			s.fail("debug host")
		}
		prev = host
		nd.debug[host] = h
	}
	if err := s.end(); err != nil {
		return err
	}
	*d = *nd
	return nil
}
