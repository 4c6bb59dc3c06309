package clickhousesink

import (
	"context"
	"time"

	"roachwatch/pipeline/event"
)

// Buffer batches events one at a time for a Store, for callers that see
// events singly and reuse them (the embedded run's runner callback). Add
// copies the event into column buffers at once; when BatchSize rows are
// held, or FlushInterval has passed since the first of them, Add writes
// them before returning. Flush writes whatever is held.
//
// A write blocks while it retries (the backpressure) and keeps the rows on
// error, so the caller may call Flush again or give up; rows are never
// dropped silently. A Buffer is not safe for concurrent use.
type Buffer struct {
	s     *Store
	cols  eventColumns
	first time.Time
	now   func() time.Time
}

// NewBuffer returns an empty buffer writing to s.
func (s *Store) NewBuffer() *Buffer {
	b := &Buffer{s: s, now: time.Now}
	b.cols.copying = true
	b.cols.grow(min(s.cfg.BatchSize, 1<<16))
	return b
}

// Len is the number of buffered rows.
func (b *Buffer) Len() int { return b.cols.len() }

// Add buffers a copy of ev and writes the buffer when it is full or old.
func (b *Buffer) Add(ctx context.Context, ev *event.Event) error {
	if b.cols.len() == 0 {
		b.first = b.now()
	}
	b.cols.add(ev)
	if b.cols.len() >= b.s.cfg.BatchSize || b.now().Sub(b.first) >= b.s.cfg.FlushInterval {
		return b.Flush(ctx)
	}
	return nil
}

// Flush writes the buffered rows as one INSERT (with its deduplication
// token) and empties the buffer; on error the rows stay buffered.
func (b *Buffer) Flush(ctx context.Context) error {
	if b.cols.len() == 0 {
		return nil
	}
	if err := b.s.writeEventColumns(ctx, &b.cols); err != nil {
		return err
	}
	b.cols.reset(min(b.s.cfg.BatchSize, 1<<16))
	return nil
}
