package sqlirule

// Bounded state. The detector keeps two LRU maps, each capped at
// Config.MaxKeys entries:
//
//   - incidents, keyed by user + client address: the open incident (its id
//     and window), the classes and SQLSTATE counts seen so far, and the time
//     and session of the last signature (for the critical escalation).
//     About 250 bytes an entry plus the key.
//   - bursts, keyed by user, or by client address: a ring of the last
//     error_burst errors (time, statement shape, event id). About
//     100 + 56*error_burst bytes an entry.
//
// With the defaults (100 000 keys, error_burst 5) that is at most about
// 25 MB + 40 MB. When a map is full the least recently used key is
// forgotten: an incident restarts (a new occurrence reopens it with the
// same id while still in its window) and a burst restarts counting.
// The fingerprint classification cache holds at most maxCache entries and
// is cleared when full.

// lru is a map with a capacity that forgets the least recently used key.
// Entries live in one slice, linked by index; nothing is allocated once
// the slice reached capacity except the keys of new entries.
type lru[V any] struct {
	cap        int
	m          map[string]int32
	nodes      []lruNode[V]
	head, tail int32 // most and least recently used, -1 when empty
}

type lruNode[V any] struct {
	key        string
	prev, next int32
	v          V
}

func newLRU[V any](capacity int) *lru[V] {
	return &lru[V]{cap: capacity, m: make(map[string]int32), head: -1, tail: -1}
}

// Len returns the number of entries.
func (l *lru[V]) Len() int { return len(l.m) }

// get returns the entry of key (as a byte slice: the lookup does not
// allocate) and marks it used, or nil.
func (l *lru[V]) get(key []byte) *V {
	i, ok := l.m[string(key)]
	if !ok {
		return nil
	}
	l.touch(i)
	return &l.nodes[i].v
}

// put returns the entry of key, creating a zero one (evicting the least
// recently used entry when full). fresh reports a new entry.
func (l *lru[V]) put(key []byte) (v *V, fresh bool) {
	if p := l.get(key); p != nil {
		return p, false
	}
	var i int32
	if len(l.nodes) < l.cap {
		l.nodes = append(l.nodes, lruNode[V]{})
		i = int32(len(l.nodes) - 1)
	} else {
		i = l.tail
		l.unlink(i)
		delete(l.m, l.nodes[i].key)
	}
	var zero V
	l.nodes[i] = lruNode[V]{key: string(key), prev: -1, next: -1, v: zero}
	l.m[l.nodes[i].key] = i
	l.pushFront(i)
	return &l.nodes[i].v, true
}

func (l *lru[V]) touch(i int32) {
	if l.head == i {
		return
	}
	l.unlink(i)
	l.pushFront(i)
}

func (l *lru[V]) unlink(i int32) {
	n := &l.nodes[i]
	if n.prev >= 0 {
		l.nodes[n.prev].next = n.next
	} else {
		l.head = n.next
	}
	if n.next >= 0 {
		l.nodes[n.next].prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

func (l *lru[V]) pushFront(i int32) {
	n := &l.nodes[i]
	n.prev, n.next = -1, l.head
	if l.head >= 0 {
		l.nodes[l.head].prev = i
	}
	l.head = i
	if l.tail < 0 {
		l.tail = i
	}
}

// incident is the state of one open incident.
type incident struct {
	id          string
	windowStart int64
	lastSig     int64  // time of the last signature or burst occurrence
	sigSession  string // session of that occurrence ("" unknown)
	sigRoute    string // Django route of that occurrence ("" unknown)
	classes     classSet
	states      [maxSQLStates]int32 // counts per Config.ErrorSQLStates index
	escalated   bool
	// the last error counted, to count an error logged by two channels
	// (query_execute and sampled_query) once
	lastErrShape uint64
	lastErrT     int64
	lastErrType  string
}

// errEntry is one error remembered for burst detection.
type errEntry struct {
	t     int64
	shape uint64 // fingerprint hash, or a hash of the SQLSTATE when none
	typ   string // event type (to drop the same error logged twice)
	id    string
	state int8 // index into Config.ErrorSQLStates
}

// burst is a ring of the last errors of one key.
type burst struct {
	ring []errEntry
	next int
	n    int
}

// add records e unless it repeats the latest entry (the same statement
// logged by two channels or twice), and reports the entries within
// window of e, oldest first, into out.
func (b *burst) add(e errEntry, size int, window int64, out []errEntry) []errEntry {
	if b.ring == nil {
		b.ring = make([]errEntry, size)
	}
	if b.n > 0 {
		last := &b.ring[(b.next-1+size)%size]
		if last.shape == e.shape && last.typ != e.typ && e.t-last.t <= int64(1e9) && last.t-e.t <= int64(1e9) {
			return out[:0]
		}
	}
	b.ring[b.next] = e
	b.next = (b.next + 1) % size
	b.n = min(b.n+1, size)
	out = out[:0]
	for k := b.n; k >= 1; k-- {
		x := b.ring[(b.next-k+size)%size]
		if e.t-x.t < window {
			out = append(out, x)
		}
	}
	return out
}

// distinctShapes counts the distinct shapes of es (es is small).
func distinctShapes(es []errEntry) int {
	n := 0
	for i := range es {
		seen := false
		for j := 0; j < i; j++ {
			if es[j].shape == es[i].shape {
				seen = true
				break
			}
		}
		if !seen {
			n++
		}
	}
	return n
}
