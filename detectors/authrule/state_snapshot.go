package authrule

import (
	"io"
	"slices"
)

// Snapshot body, version 1 (see snapshot_codec.go for the container):
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

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := newSnapEncoder(snapMagic, snapVersion)
	e.u(uint64(d.keys.Len()))
	for i := d.keys.head; i >= 0; i = d.keys.nodes[i].next {
		n := &d.keys.nodes[i]
		e.u(uint64(n.key.kind))
		e.str(n.key.user)
		e.str(n.key.addr)
		e.u(uint64(len(n.val.attempts)))
		for _, a := range n.val.attempts {
			e.i(a.t)
			for _, s := range [...]string{a.user, a.addr, a.reason, a.id, a.session, a.node, a.cluster, a.application} {
				e.str(s)
			}
		}
		inc := &n.val.inc
		e.str(inc.id)
		e.i(inc.start)
		e.i(inc.last)
		e.i(inc.attempts)
		for _, list := range [...][]string{inc.users, inc.addrs, inc.reasons} {
			e.u(uint64(len(list)))
			for _, s := range list {
				e.str(s)
			}
		}
		e.flag(inc.escalated)
		for _, s := range [...]string{inc.cluster, inc.node, inc.app, inc.lastSession} {
			e.str(s)
		}
	}
	conns := d.conns.order
	if len(conns) == d.conns.max {
		conns = append(slices.Clone(conns[d.conns.next:]), conns[:d.conns.next]...)
	}
	e.u(uint64(len(conns)))
	for _, c := range conns {
		e.str(c)
	}
	return e.writeTo(w)
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. The snapshot is fitted to
// the current config: beyond max_keys the least recently used keys, and
// beyond max_connections the oldest connections, are dropped, as the
// detector would have forgotten them.
func (d *Detector) Restore(r io.Reader) error {
	s, err := openSnapshot(r, snapMagic, snapVersion)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	n := s.count(maxSnapKeys, "key")
	for range n {
		if s.err != nil {
			break
		}
		kv := s.u()
		if kv > uint64(kindUser) {
			s.fail("key kind")
		}
		k := key{kind: kind(kv), user: s.str(), addr: s.str()}
		var st state
		na := s.count(maxAttempts, "attempt")
		if na > 0 {
			st.attempts = make([]attempt, 0, na)
		}
		for range na {
			a := attempt{t: s.i(), user: s.str(), addr: s.str(), reason: s.str(), id: s.str(), session: s.str(),
				node: s.str(), cluster: s.str(), application: s.str()}
			st.attempts = append(st.attempts, a)
		}
		inc := &st.inc
		inc.id, inc.start, inc.last, inc.attempts = s.str(), s.i(), s.i(), s.i()
		inc.users, inc.addrs, inc.reasons = readListed(s), readListed(s), readListed(s)
		inc.escalated = s.flag()
		inc.cluster, inc.node, inc.app, inc.lastSession = s.str(), s.str(), s.str(), s.str()
		if _, dup := nd.keys.index[k]; dup {
			s.fail("keys (duplicate)")
		}
		if s.err == nil && nd.keys.Len() < nd.keys.max {
			nd.keys.appendTail(k, st)
		}
	}
	n = s.count(maxSnapKeys, "connection")
	conns := make([]string, 0, min(n, nd.conns.max))
	for i := range n {
		c := s.str()
		if i >= n-nd.conns.max { // keep the newest
			conns = append(conns, c)
		}
	}
	for _, c := range conns {
		nd.conns.m[c] = struct{}{}
	}
	if len(nd.conns.m) != len(conns) {
		s.fail("connections (duplicate)")
	}
	nd.conns.order = conns
	if err := s.end(); err != nil {
		return err
	}
	*d = *nd
	return nil
}

// readListed reads a list of at most maxListed strings.
func readListed(s *snapDecoder) []string {
	n := s.count(maxListed, "list")
	var list []string
	for range n {
		list = append(list, s.str())
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
