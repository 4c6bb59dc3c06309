package stream

import (
	"context"
	"fmt"
	"sync"
)

// AckTracker follows the batches of one partition from submission to
// acknowledgement and says how far offsets may be committed.
//
// Batches are tracked in offset order as half-open spans [lo, hi) that
// tile the partition without gaps (a batch starts where the previous one
// ended, even if Kafka skipped offsets in between). They may be
// acknowledged in any order; Committable only moves over a contiguous run
// of acknowledged spans, so an offset is never committed while an earlier
// batch is still unwritten — the rule of Jeffail/checkpoint and of
// redpanda-data/connect's ordered Kafka reader. Safe for concurrent use:
// the partition goroutine tracks, sink workers acknowledge, the committer
// reads.
type AckTracker struct {
	mu      sync.Mutex
	base    int64  // everything below is acknowledged: the offset to commit
	next    int64  // end of the last tracked span
	spans   []span // tracked, in offset order, starting at base
	changed chan struct{}
}

type span struct {
	lo, hi int64
	acked  bool
}

// NewAckTracker starts a tracker at offset start (the partition's first
// offset to read); Committable is start until a batch is acknowledged.
func NewAckTracker(start int64) *AckTracker {
	return &AckTracker{base: start, next: start, changed: make(chan struct{})}
}

// Track registers the batch [lo, hi). lo must be where the previous batch
// ended (or the start); hi must be greater than lo.
func (t *AckTracker) Track(lo, hi int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if lo != t.next || hi <= lo {
		return fmt.Errorf("stream: batch [%d, %d) does not continue at %d", lo, hi, t.next)
	}
	t.spans = append(t.spans, span{lo: lo, hi: hi})
	t.next = hi
	return nil
}

// Ack marks the batch starting at lo acknowledged by every sink. It
// returns the committable offset and whether it moved.
func (t *AckTracker) Ack(lo int64) (int64, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := t.find(lo)
	if i < 0 {
		return t.base, false, fmt.Errorf("stream: ack of untracked batch at %d", lo)
	}
	t.spans[i].acked = true
	n := 0
	for n < len(t.spans) && t.spans[n].acked {
		n++
	}
	if n == 0 {
		return t.base, false, nil
	}
	t.base = t.spans[n-1].hi
	t.spans = append(t.spans[:0], t.spans[n:]...)
	close(t.changed)
	t.changed = make(chan struct{})
	return t.base, true, nil
}

func (t *AckTracker) find(lo int64) int {
	// Spans are few (bounded by max_in_flight), a scan is fine.
	for i := range t.spans {
		if t.spans[i].lo == lo {
			return i
		}
	}
	return -1
}

// Committable returns the offset up to which every batch is acknowledged:
// the next offset the group may commit for this partition.
func (t *AckTracker) Committable() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.base
}

// End returns the end of the last tracked batch.
func (t *AckTracker) End() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.next
}

// Pending returns how many tracked batches are not yet committable.
func (t *AckTracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.spans)
}

// Wait blocks until Committable reaches off or ctx ends.
func (t *AckTracker) Wait(ctx context.Context, off int64) error {
	for {
		t.mu.Lock()
		base, ch := t.base, t.changed
		t.mu.Unlock()
		if base >= off {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for acknowledgements up to %d (at %d): %w", off, base, ctx.Err())
		case <-ch:
		}
	}
}
