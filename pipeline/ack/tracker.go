package ack

import "sync"

// Position is a resumable place in one file.
type Position struct {
	Offset int64  `json:"offset"` // every byte before Offset is acknowledged
	FPLen  int    `json:"fp_len"` // how many leading bytes FP covers
	FP     string `json:"fp"`     // hex hash of the first FPLen bytes of the file
	Source string `json:"source"` // source kind (format), for metrics only
}

// Tracker orders the positions of one file. Add hands out sequence
// numbers in order; Done may be called in any order and from any
// goroutine; Committed reports the position of the highest sequence number
// whose predecessors are all done. Safe for concurrent use.
type Tracker struct {
	mu        sync.Mutex
	base      uint64 // sequence number of pending[0]
	pending   []slot
	latest    Position
	committed Position
	has       bool // committed is set
}

type slot struct {
	pos  Position
	done bool
}

// NewTracker returns a tracker whose committed position starts at start
// (the position the reader resumed from).
func NewTracker(start Position) *Tracker {
	return &Tracker{committed: start, latest: start, has: true}
}

// Add registers the next position and returns its sequence number. The
// caller must call Done with it exactly once.
func (t *Tracker) Add(p Position) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, slot{pos: p})
	t.latest = p
	return t.base + uint64(len(t.pending)-1)
}

// Done marks seq as acknowledged and releases every contiguous done
// position at the head.
func (t *Tracker) Done(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq < t.base || seq >= t.base+uint64(len(t.pending)) {
		return // already released or never added: ignore rather than corrupt
	}
	t.pending[seq-t.base].done = true
	n := 0
	for n < len(t.pending) && t.pending[n].done {
		t.committed = t.pending[n].pos
		t.has = true
		n++
	}
	if n == 0 {
		return
	}
	t.base += uint64(n)
	// Shift instead of re-slicing forever, so the backing array is reused.
	copy(t.pending, t.pending[n:])
	t.pending = t.pending[:len(t.pending)-n]
}

// Committed returns the highest contiguous acknowledged position.
func (t *Tracker) Committed() Position {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.committed
}

// Pending returns how many handed-on positions are not yet released.
func (t *Tracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Lag returns the bytes handed on but not yet acknowledged (the latest
// added offset minus the committed one; 0 after a truncation restarted
// the file).
func (t *Tracker) Lag() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(0, t.latest.Offset-t.committed.Offset)
}
