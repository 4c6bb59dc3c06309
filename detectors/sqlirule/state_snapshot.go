package sqlirule

import (
	"errors"
	"io"
	"math"

	"roachwatch/detectors/internal/snapcodec"
)

// Snapshot body, version 1 (see snapcodec for the container):
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

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("sqlirule snapshot")

var snapFormat = snapcodec.Format{Magic: snapMagic, Version: snapVersion, Err: ErrSnapshot, Name: "a sqlirule detector snapshot"}

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := snapcodec.NewEncoder(snapMagic, snapVersion)
	codes := d.cfg.ErrorSQLStates[:min(len(d.cfg.ErrorSQLStates), maxSQLStates)]
	e.U(uint64(len(codes)))
	for _, c := range codes {
		e.Str(c)
	}

	e.U(uint64(d.incidents.Len()))
	for i := d.incidents.head; i >= 0; i = d.incidents.nodes[i].next {
		n := &d.incidents.nodes[i]
		in := &n.v
		e.Str(n.key)
		e.Str(in.id)
		e.I(in.windowStart)
		e.I(in.lastSig)
		e.Str(in.sigSession)
		e.Str(in.sigRoute)
		e.U(uint64(in.classes))
		for j := range codes {
			e.I(int64(in.states[j]))
		}
		e.Flag(in.escalated)
		e.U(in.lastErrShape)
		e.I(in.lastErrT)
		e.Str(in.lastErrType)
	}

	e.U(uint64(d.bursts.Len()))
	for i := d.bursts.head; i >= 0; i = d.bursts.nodes[i].next {
		n := &d.bursts.nodes[i]
		b := &n.v
		e.Str(n.key)
		e.U(uint64(b.n))
		for k := b.n; k >= 1; k-- {
			x := &b.ring[(b.next-k+len(b.ring))%len(b.ring)]
			e.I(x.t)
			e.U(x.shape)
			e.Str(x.typ)
			e.Str(x.id)
			e.U(uint64(x.state))
		}
	}
	return e.Finish(w)
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. The snapshot is fitted to
// the current config: counts follow their SQLSTATE code to its new place
// in error_sqlstates (codes no longer listed are dropped, with the errors
// remembered for them), only the newest error_burst errors of a key are
// kept, and beyond max_keys the least recently used keys are dropped.
func (d *Detector) Restore(r io.Reader) error {
	s, err := snapcodec.Open(r, snapFormat)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	nc := s.Count(maxSQLStates, "SQLSTATE")
	remap := make([]int, nc) // old code index -> new index, -1 when dropped
	for i := range remap {
		remap[i] = -1
		if j, ok := nd.stateIdx[s.Str()]; ok {
			remap[i] = j
		}
	}

	n := s.Count(maxSnapKeys, "incident")
	for range n {
		if s.Err() != nil {
			break
		}
		key := s.Str()
		in := incident{id: s.Str(), windowStart: s.I(), lastSig: s.I(), sigSession: s.Str(), sigRoute: s.Str()}
		cs := s.U()
		if cs > math.MaxUint16 {
			s.Fail("classes")
		}
		in.classes = classSet(cs)
		for i := range nc {
			c := s.I()
			if c < 0 || c > math.MaxInt32 {
				s.Fail("SQLSTATE count")
			}
			if remap[i] >= 0 {
				in.states[remap[i]] = int32(c)
			}
		}
		in.escalated = s.Flag()
		in.lastErrShape, in.lastErrT, in.lastErrType = s.U(), s.I(), s.Str()
		if _, dup := nd.incidents.m[key]; dup {
			s.Fail("incidents (duplicate)")
		}
		if s.Err() == nil && nd.incidents.Len() < nd.incidents.cap {
			nd.incidents.appendTail(key, in)
		}
	}

	n = s.Count(maxSnapKeys, "error window")
	size := nd.cfg.ErrorBurst
	for range n {
		if s.Err() != nil {
			break
		}
		key := s.Str()
		ne := s.Count(maxErrorBurst, "error")
		var es []errEntry
		for range ne {
			x := errEntry{t: s.I(), shape: s.U(), typ: s.Str(), id: s.Str()}
			st := s.U()
			if st >= uint64(nc) {
				s.Fail("error SQLSTATE")
				continue
			}
			if remap[st] >= 0 {
				x.state = int8(remap[st])
				es = append(es, x)
			}
		}
		if _, dup := nd.bursts.m[key]; dup {
			s.Fail("error windows (duplicate)")
		}
		if s.Err() != nil || nd.bursts.Len() >= nd.bursts.cap {
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
	if err := s.End(); err != nil {
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
