package authrule

// lru is a map with a fixed capacity that forgets the least recently used
// entry when a new one would exceed it. Entries live in one slice and are
// linked by index, so a full cache allocates nothing on insert. Not safe
// for concurrent use.
type lru[K comparable, V any] struct {
	max   int
	index map[K]int32
	nodes []lruNode[K, V]
	head  int32 // most recently used, -1 when empty
	tail  int32 // least recently used, -1 when empty
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next int32
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	return &lru[K, V]{max: max, index: make(map[K]int32), head: -1, tail: -1}
}

// Len is the number of entries held.
func (c *lru[K, V]) Len() int { return len(c.index) }

// get returns the entry of k and marks it most recently used.
func (c *lru[K, V]) get(k K) (*V, bool) {
	i, ok := c.index[k]
	if !ok {
		return nil, false
	}
	c.touch(i)
	return &c.nodes[i].val, true
}

// peek returns the entry of k without changing its recency.
func (c *lru[K, V]) peek(k K) (*V, bool) {
	i, ok := c.index[k]
	if !ok {
		return nil, false
	}
	return &c.nodes[i].val, true
}

// put returns the entry of k, creating a zero one (and evicting the least
// recently used entry when full) if there was none; created reports that.
func (c *lru[K, V]) put(k K) (v *V, created bool) {
	if i, ok := c.index[k]; ok {
		c.touch(i)
		return &c.nodes[i].val, false
	}
	var i int32
	if len(c.nodes) < c.max {
		c.nodes = append(c.nodes, lruNode[K, V]{})
		i = int32(len(c.nodes) - 1)
	} else {
		i = c.tail
		c.unlink(i)
		delete(c.index, c.nodes[i].key)
	}
	c.nodes[i] = lruNode[K, V]{key: k, prev: -1, next: -1}
	c.index[k] = i
	c.pushFront(i)
	return &c.nodes[i].val, true
}

func (c *lru[K, V]) touch(i int32) {
	if c.head == i {
		return
	}
	c.unlink(i)
	c.pushFront(i)
}

func (c *lru[K, V]) unlink(i int32) {
	n := &c.nodes[i]
	if n.prev >= 0 {
		c.nodes[n.prev].next = n.next
	} else {
		c.head = n.next
	}
	if n.next >= 0 {
		c.nodes[n.next].prev = n.prev
	} else {
		c.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

func (c *lru[K, V]) pushFront(i int32) {
	n := &c.nodes[i]
	n.prev, n.next = -1, c.head
	if c.head >= 0 {
		c.nodes[c.head].prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}

// connSet remembers the most recent connection keys, up to max, so that
// the several failure events of one connection count as one attempt.
type connSet struct {
	max   int
	m     map[string]struct{}
	order []string
	next  int
}

func newConnSet(max int) *connSet { return &connSet{max: max, m: make(map[string]struct{})} }

// add records k and reports whether it was new.
func (s *connSet) add(k string) bool {
	if _, ok := s.m[k]; ok {
		return false
	}
	if len(s.order) < s.max {
		s.order = append(s.order, k)
	} else {
		delete(s.m, s.order[s.next])
		s.order[s.next] = k
		s.next = (s.next + 1) % s.max
	}
	s.m[k] = struct{}{}
	return true
}
