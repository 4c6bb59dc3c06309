package sqlirule

import (
	"io"
	"math"
)

// Snapshot body, version 1 (see snapshot_codec.go for the container):
//
//	the SQLSTATE codes the counts below are indexed by: count, codes
//	incidents, most recently used first: count, then per incident
//	    key (user NUL client address), id, windowStart, lastSig,
//	    sigSession, sigRoute, classes, per code its count, escalated,
//	    lastErrShape, lastErrT, lastErrType
//	error windows, most recently used first: count, then per key
//	    key, errors oldest first: count, then t, shape, type, id, code index
//
// Both LRU orders are kept: they decide which key is forgotten next. Not
// written: the fingerprint classification cache, which memoizes a pure
// function of the statement and is rebuilt on use, and the scratch
// buffers (key, errs) that live for one Observe.
const (
	snapMagic   = "RWSQLI"
	snapVersion = 1

	maxSnapKeys = 10_000_000 // Config.Validate's bound on max_keys
)

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := newSnapEncoder(snapMagic, snapVersion)
	codes := d.cfg.ErrorSQLStates[:min(len(d.cfg.ErrorSQLStates), maxSQLStates)]
	e.u(uint64(len(codes)))
	for _, c := range codes {
		e.str(c)
	}

	e.u(uint64(d.incidents.Len()))
	for i := d.incidents.head; i >= 0; i = d.incidents.nodes[i].next {
		n := &d.incidents.nodes[i]
		in := &n.v
		e.str(n.key)
		e.str(in.id)
		e.i(in.windowStart)
		e.i(in.lastSig)
		e.str(in.sigSession)
		e.str(in.sigRoute)
		e.u(uint64(in.classes))
		for j := range codes {
			e.i(int64(in.states[j]))
		}
		e.flag(in.escalated)
		e.u(in.lastErrShape)
		e.i(in.lastErrT)
		e.str(in.lastErrType)
	}

	e.u(uint64(d.bursts.Len()))
	for i := d.bursts.head; i >= 0; i = d.bursts.nodes[i].next {
		n := &d.bursts.nodes[i]
		b := &n.v
		e.str(n.key)
		e.u(uint64(b.n))
		for k := b.n; k >= 1; k-- {
			x := &b.ring[(b.next-k+len(b.ring))%len(b.ring)]
			e.i(x.t)
			e.u(x.shape)
			e.str(x.typ)
			e.str(x.id)
			e.u(uint64(x.state))
		}
	}
	return e.writeTo(w)
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. The snapshot is fitted to
// the current config: counts follow their SQLSTATE code to its new place
// in error_sqlstates (codes no longer listed are dropped, with the errors
// remembered for them), only the newest error_burst errors of a key are
// kept, and beyond max_keys the least recently used keys are dropped.
func (d *Detector) Restore(r io.Reader) error {
	s, err := openSnapshot(r, snapMagic, snapVersion)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	nc := s.count(maxSQLStates, "SQLSTATE")
	remap := make([]int, nc) // old code index -> new index, -1 when dropped
	for i := range remap {
		remap[i] = -1
		if j, ok := nd.stateIdx[s.str()]; ok {
			remap[i] = j
		}
	}

	n := s.count(maxSnapKeys, "incident")
	for range n {
		if s.err != nil {
			break
		}
		key := s.str()
		in := incident{id: s.str(), windowStart: s.i(), lastSig: s.i(), sigSession: s.str(), sigRoute: s.str()}
		cs := s.u()
		if cs > math.MaxUint16 {
			s.fail("classes")
		}
		in.classes = classSet(cs)
		for i := range nc {
			c := s.i()
			if c < 0 || c > math.MaxInt32 {
				s.fail("SQLSTATE count")
			}
			if remap[i] >= 0 {
				in.states[remap[i]] = int32(c)
			}
		}
		in.escalated = s.flag()
		in.lastErrShape, in.lastErrT, in.lastErrType = s.u(), s.i(), s.str()
		if _, dup := nd.incidents.m[key]; dup {
			s.fail("incidents (duplicate)")
		}
		if s.err == nil && nd.incidents.Len() < nd.incidents.cap {
			nd.incidents.appendTail(key, in)
		}
	}

	n = s.count(maxSnapKeys, "error window")
	size := nd.cfg.ErrorBurst
	for range n {
		if s.err != nil {
			break
		}
		key := s.str()
		ne := s.count(maxErrorBurst, "error")
		var es []errEntry
		for range ne {
			x := errEntry{t: s.i(), shape: s.u(), typ: s.str(), id: s.str()}
			st := s.u()
			if st >= uint64(nc) {
				s.fail("error SQLSTATE")
				continue
			}
			if remap[st] >= 0 {
				x.state = int8(remap[st])
				es = append(es, x)
			}
		}
		if _, dup := nd.bursts.m[key]; dup {
			s.fail("error windows (duplicate)")
		}
		if s.err != nil || nd.bursts.Len() >= nd.bursts.cap {
			continue
		}
		var b burst // all its errors may have been dropped with their codes
		if len(es) > 0 {
			es = es[max(0, len(es)-size):] // keep the newest
			b = burst{ring: make([]errEntry, size), n: len(es), next: len(es) % size}
			copy(b.ring, es)
		}
		nd.bursts.appendTail(key, b)
	}
	if err := s.end(); err != nil {
		return err
	}
	*d = *nd
	return nil
}

// appendTail adds a restored entry as the least recently used; key must
// not be present and the map must not be full.
func (l *lru[V]) appendTail(key string, v V) {
	i := int32(len(l.nodes))
	l.nodes = append(l.nodes, lruNode[V]{key: key, prev: l.tail, next: -1, v: v})
	if l.tail >= 0 {
		l.nodes[l.tail].next = i
	} else {
		l.head = i
	}
	l.tail = i
	l.m[key] = i
}
