package authrule

import (
	"errors"
	"io"
	"slices"

	"roachwatch/detectors/internal/snapcodec"
)

// Snapshot body, version 1 (see snapcodec for the container):
//
//	keys, most recently used first: count, then per key:
//	    kind, user, addr,
//	    attempts in the window, oldest first: count, then per attempt
//	        t, user, addr, reason, id, session, node, cluster, application
//	    the last burst: id, start, last, attempts, users, addrs, reasons,
//	        escalated, cluster, node, app, lastSession
//	connections, oldest first: count, then the connection keys
//
// That is the whole state: the LRU order decides which key is forgotten
// next, the connection ring which connection, so both are kept in order.
const (
	snapMagic   = "RWAUTH"
	snapVersion = 1

	maxSnapKeys = 1 << 26 // beyond any sane max_keys or max_connections
)

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("authrule snapshot")

var snapFormat = snapcodec.Format{Magic: snapMagic, Version: snapVersion, Err: ErrSnapshot, Name: "an authrule detector snapshot"}

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := snapcodec.NewEncoder(snapMagic, snapVersion)
	e.U(uint64(d.keys.Len()))
	for i := d.keys.head; i >= 0; i = d.keys.nodes[i].next {
		n := &d.keys.nodes[i]
		e.U(uint64(n.key.kind))
		e.Str(n.key.user)
		e.Str(n.key.addr)
		e.U(uint64(len(n.val.attempts)))
		for _, a := range n.val.attempts {
			e.I(a.t)
			for _, s := range [...]string{a.user, a.addr, a.reason, a.id, a.session, a.node, a.cluster, a.application} {
				e.Str(s)
			}
		}
		inc := &n.val.inc
		e.Str(inc.id)
		e.I(inc.start)
		e.I(inc.last)
		e.I(inc.attempts)
		for _, list := range [...][]string{inc.users, inc.addrs, inc.reasons} {
			e.U(uint64(len(list)))
			for _, s := range list {
				e.Str(s)
			}
		}
		e.Flag(inc.escalated)
		for _, s := range [...]string{inc.cluster, inc.node, inc.app, inc.lastSession} {
			e.Str(s)
		}
	}
	conns := d.conns.order
	if len(conns) == d.conns.max {
		conns = append(slices.Clone(conns[d.conns.next:]), conns[:d.conns.next]...)
	}
	e.U(uint64(len(conns)))
	for _, c := range conns {
		e.Str(c)
	}
	return e.Finish(w)
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. The snapshot is fitted to
// the current config: beyond max_keys the least recently used keys, and
// beyond max_connections the oldest connections, are dropped, as the
// detector would have forgotten them.
func (d *Detector) Restore(r io.Reader) error {
	s, err := snapcodec.Open(r, snapFormat)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	n := s.Count(maxSnapKeys, "key")
	for range n {
		if s.Err() != nil {
			break
		}
		kv := s.U()
		if kv > uint64(kindUser) {
			s.Fail("key kind")
		}
		k := key{kind: kind(kv), user: s.Str(), addr: s.Str()}
		var st state
		na := s.Count(maxAttempts, "attempt")
		if na > 0 {
			st.attempts = make([]attempt, 0, na)
		}
		for range na {
			a := attempt{t: s.I(), user: s.Str(), addr: s.Str(), reason: s.Str(), id: s.Str(), session: s.Str(),
				node: s.Str(), cluster: s.Str(), application: s.Str()}
			st.attempts = append(st.attempts, a)
		}
		inc := &st.inc
		inc.id, inc.start, inc.last, inc.attempts = s.Str(), s.I(), s.I(), s.I()
		inc.users, inc.addrs, inc.reasons = readListed(s), readListed(s), readListed(s)
		inc.escalated = s.Flag()
		inc.cluster, inc.node, inc.app, inc.lastSession = s.Str(), s.Str(), s.Str(), s.Str()
		if _, dup := nd.keys.index[k]; dup {
			s.Fail("keys (duplicate)")
		}
		if s.Err() == nil && nd.keys.Len() < nd.keys.max {
			nd.keys.appendTail(k, st)
		}
	}
	n = s.Count(maxSnapKeys, "connection")
	conns := make([]string, 0, min(n, nd.conns.max))
	for i := range n {
		c := s.Str()
		if i >= n-nd.conns.max { // keep the newest
			conns = append(conns, c)
		}
	}
	for _, c := range conns {
		nd.conns.m[c] = struct{}{}
	}
	if len(nd.conns.m) != len(conns) {
		s.Fail("connections (duplicate)")
	}
	nd.conns.order = conns
	if err := s.End(); err != nil {
		return err
	}
	*d = *nd
	return nil
}

// readListed reads a list of at most maxListed strings.
func readListed(s *snapcodec.Decoder) []string {
	n := s.Count(maxListed, "list")
	var list []string
	for range n {
		list = append(list, s.Str())
	}
	return list
}

// appendTail adds a restored entry as the least recently used; k must
// not be present and the cache must not be full.
func (c *lru[K, V]) appendTail(k K, v V) {
	i := int32(len(c.nodes))
	c.nodes = append(c.nodes, lruNode[K, V]{key: k, val: v, prev: c.tail, next: -1})
	if c.tail >= 0 {
		c.nodes[c.tail].next = i
	} else {
		c.head = i
	}
	c.tail = i
	c.index[k] = i
}
