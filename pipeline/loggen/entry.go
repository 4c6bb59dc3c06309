package loggen

import "container/heap"

// tag is one log context tag; a bare tag (hostssl, config) has no value.
type tag struct{ k, v string }

// Destinations of an entry that is not a CockroachDB entry.
const (
	outCRDB       = 0
	outDjangoText = 1
	outDjangoJSON = 2
)

// entry is one pending log entry. CockroachDB entries are rendered when
// written (their counter is known only then); Django records are rendered
// when created.
type entry struct {
	at  int64  // time the line is written (envelope time), ns
	seq uint64 // creation order, breaks ties so output is stable
	out int    // outCRDB, outDjangoText or outDjangoJSON

	node  *node
	ch    channel
	sev   byte // I W E F
	goid  int64
	file  string // Go source file:line of the logging call
	line  int
	tags  []tag
	event []byte // structured payload (JSON object); nil for messages
	msg   string // unstructured message; may hold '\n'

	dj []byte // rendered Django record including the final newline
}

// entryHeap orders pending entries by time, then creation order.
type entryHeap []entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h entryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)   { *h = append(*h, x.(entry)) }
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = entry{}
	*h = old[:len(old)-1]
	return e
}

// pending is the time-ordered buffer between activities and writers.
type pending struct {
	h   entryHeap
	seq uint64
}

func (p *pending) push(e entry) {
	p.seq++
	e.seq = p.seq
	heap.Push(&p.h, e)
}

// popBefore removes and returns the oldest entry if it is older than t.
func (p *pending) popBefore(t int64) (entry, bool) {
	if len(p.h) == 0 || p.h[0].at >= t {
		return entry{}, false
	}
	return heap.Pop(&p.h).(entry), true
}
