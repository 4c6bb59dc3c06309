package stream

import (
	"container/heap"

	"roachwatch/pipeline/event"
)

// Reorder puts the events of one partition back in event-time order
// before the detectors see them.
//
// Events are held until the watermark — the largest event time seen minus
// the lateness — passes them, then released in (event time, offset) order.
// The order of release depends only on the sequence of pushed events,
// never on wall-clock time or batch boundaries, so replaying a partition
// from a snapshot releases exactly what the first run released. An event
// older than the watermark when it arrives (later than the lateness) is
// released with the next release, in arrival order among its peers, and
// counted as late. The buffer is bounded: past max events the oldest are
// released early (counted as forced). Not safe for concurrent use.
type Reorder struct {
	lateness int64
	max      int
	h        pendingHeap
	maxTime  int64
	released int64 // largest event time released so far
	Late     int64 // events that arrived behind the watermark
	Forced   int64 // events released early because the buffer was full
}

// Pending is an event waiting in the buffer with the offset of its message.
type Pending struct {
	Offset int64       `json:"offset"`
	Event  event.Event `json:"event"`
}

// NewReorder returns a buffer with the given lateness (ns) and capacity.
func NewReorder(lateness int64, maxEvents int) *Reorder {
	return &Reorder{lateness: lateness, max: max(maxEvents, 1)}
}

// Push adds ev (copied) read at offset and appends to out every event
// that became releasable, in order. Released events are owned by the
// caller.
func (r *Reorder) Push(ev *event.Event, offset int64, out []Pending) []Pending {
	if ev.Time < r.released || ev.Time < r.maxTime-r.lateness {
		r.Late++
	}
	r.maxTime = max(r.maxTime, ev.Time)
	heap.Push(&r.h, Pending{Offset: offset, Event: *ev})
	wm := r.maxTime - r.lateness
	for r.h.Len() > 0 && (r.h[0].Event.Time <= wm || r.h.Len() > r.max) {
		if r.h[0].Event.Time > wm {
			r.Forced++
		}
		out = r.pop(out)
	}
	return out
}

// Drain releases everything, in order (end of input).
func (r *Reorder) Drain(out []Pending) []Pending {
	for r.h.Len() > 0 {
		out = r.pop(out)
	}
	return out
}

func (r *Reorder) pop(out []Pending) []Pending {
	p := heap.Pop(&r.h).(Pending)
	r.released = max(r.released, p.Event.Time)
	return append(out, p)
}

// Len returns the number of held events.
func (r *Reorder) Len() int { return r.h.Len() }

// reorderState is the serializable form of a Reorder.
type reorderState struct {
	MaxTime  int64     `json:"max_time"`
	Released int64     `json:"released"`
	Held     []Pending `json:"held"`
}

func (r *Reorder) state() reorderState {
	held := make([]Pending, len(r.h))
	copy(held, r.h)
	return reorderState{MaxTime: r.maxTime, Released: r.released, Held: held}
}

func (r *Reorder) restore(s reorderState) {
	r.maxTime, r.released = s.MaxTime, s.Released
	r.h = append(pendingHeap(nil), s.Held...)
	heap.Init(&r.h)
}

type pendingHeap []Pending

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].Event.Time != h[j].Event.Time {
		return h[i].Event.Time < h[j].Event.Time
	}
	return h[i].Offset < h[j].Offset
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(Pending)) }
func (h *pendingHeap) Pop() any {
	old := *h
	n := len(old)
	p := old[n-1]
	old[n-1] = Pending{}
	*h = old[:n-1]
	return p
}
