package runner

import (
	"container/heap"
	"context"

	"roachwatch/pipeline/event"
)

// reorderBuf holds up to a bounded number of a file's events and releases
// the oldest first, absorbing the small disorder of CockroachDB logs (an
// event's Timestamp precedes the envelope time by the statement's age).
type reorderBuf struct {
	items []*event.Event
	seqs  []int64
	next  int64
}

func (r *reorderBuf) Len() int { return len(r.items) }
func (r *reorderBuf) Less(i, j int) bool {
	if r.items[i].Time != r.items[j].Time {
		return r.items[i].Time < r.items[j].Time
	}
	return r.seqs[i] < r.seqs[j]
}
func (r *reorderBuf) Swap(i, j int) {
	r.items[i], r.items[j] = r.items[j], r.items[i]
	r.seqs[i], r.seqs[j] = r.seqs[j], r.seqs[i]
}
func (r *reorderBuf) Push(x any) {
	r.items = append(r.items, x.(*event.Event))
	r.seqs = append(r.seqs, r.next)
	r.next++
}
func (r *reorderBuf) Pop() any {
	n := len(r.items) - 1
	ev := r.items[n]
	r.items, r.seqs = r.items[:n], r.seqs[:n]
	return ev
}

// emit moves the decoded batch into the reorder buffer and sends what
// overflows it, oldest first. The CPU slot is released while blocked on
// the send: otherwise a file waiting for the merge could hold the slot the
// file the merge waits for needs (deadlock).
func (fr *fileRun) emit(ctx context.Context, batch *[]event.Event) error {
	b := *batch
	for i := range b {
		// One allocation per buffered event: pointing into b instead would
		// keep every batch array alive while any one of its events waits,
		// which multiplies memory when input is out of order.
		e := new(event.Event)
		*e = b[i]
		heap.Push(&fr.reorder, e)
	}
	clear(b)
	*batch = b[:0]
	return fr.send(ctx, fr.opts.Reorder)
}

// drain sends everything left in the reorder buffer.
func (fr *fileRun) drain(ctx context.Context) error { return fr.send(ctx, 0) }

func (fr *fileRun) send(ctx context.Context, keep int) error {
	for fr.reorder.Len() > keep {
		n := min(batchSize, fr.reorder.Len()-keep)
		// The events go on by pointer: each is its own allocation already
		// (emit), so the merge reads it where it is, without a copy.
		out := make([]*event.Event, n)
		for i := range out {
			out[i] = heap.Pop(&fr.reorder).(*event.Event)
		}
		<-fr.cpu
		select {
		case fr.out <- out:
		case <-ctx.Done():
			fr.cpu <- struct{}{}
			return ctx.Err()
		}
		fr.cpu <- struct{}{}
	}
	return nil
}

// stream is one file's ordered output as seen by the merge.
type stream struct {
	ch    chan []*event.Event
	batch []*event.Event
	pos   int   // index into batch
	seq   int64 // events taken from this stream so far
	idx   int   // file index, for deterministic ties
}

type mergeHeap []*stream

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	a, b := h[i].batch[h[i].pos], h[j].batch[h[j].pos]
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	if h[i].idx != h[j].idx {
		return h[i].idx < h[j].idx
	}
	return h[i].seq < h[j].seq
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*stream)) }
func (h *mergeHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// advance makes s.batch[s.pos] the stream's next event; false at its end.
func (s *stream) advance(ctx context.Context) (bool, error) {
	for s.pos >= len(s.batch) {
		select {
		case b, ok := <-s.ch:
			if !ok {
				return false, nil
			}
			s.batch, s.pos = b, 0
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return true, nil
}

// merge delivers the streams' events in (time, file, position) order.
func merge(ctx context.Context, streams []*stream, stats *Stats, handle func(*event.Event) error) error {
	h := make(mergeHeap, 0, len(streams))
	for i, s := range streams {
		s.idx = i
		ok, err := s.advance(ctx)
		if err != nil {
			return err
		}
		if ok {
			h = append(h, s)
		}
	}
	heap.Init(&h)
	var last int64
	for h.Len() > 0 {
		s := h[0]
		ev := s.batch[s.pos]
		if ev.Time < last {
			stats.OutOfOrder++
		} else {
			last = ev.Time
		}
		stats.Events++
		if err := handle(ev); err != nil {
			return err
		}
		s.batch[s.pos] = nil // handled: collectable as soon as possible
		s.pos++
		s.seq++
		ok, err := s.advance(ctx)
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}
