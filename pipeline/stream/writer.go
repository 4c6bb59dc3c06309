package stream

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/segmentio/kafka-go"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink"
)

// batch is the unit handed to the sinks and acknowledged: the messages
// [lo, hi) of one partition, the events they carried (not those replayed
// below the committed offset) and the last version of every finding that
// changed while they were processed.
type batch struct {
	partition int
	lo, hi    int64
	msgs      int // messages in [lo, hi) (with or without an event)
	events    []event.Event
	findings  []detectors.Finding
	rejects   []kafka.Message // DLQ messages of the undecodable messages in [lo, hi)
	tracker   *AckTracker     // nil: not tracked (findings of Finish after the last message)
	sealed    time.Time
	produced  time.Time // earliest produce timestamp of its messages
	done      chan struct{}
	acked     []bool // per sink, so a retry skips sinks that already have it
	dlqAcked  bool   // the rejects are in the DLQ topic
}

// writer hands batches to the sinks with at most maxInFlight batches
// outstanding: submit blocks while the limit is reached, which is what
// pauses consumption when a sink is slow or down. A failed write is
// retried with backoff until it succeeds or the writer's context ends; a
// batch that is never acknowledged is never committed.
type writer struct {
	sinks []sink.Sink
	names []string
	dlq   *dlqWriter    // rejects go here first; a batch is acknowledged only after it
	slots chan struct{} // one token per batch in flight
	jobs  chan *batch
	m     *metrics
	log   *slog.Logger
	ctx   context.Context // the workers' context, set by Stream.Run before any submit
}

func newWriter(sinks []sink.Sink, dlq *dlqWriter, maxInFlight int, m *metrics, log *slog.Logger) *writer {
	w := &writer{sinks: sinks, dlq: dlq, slots: make(chan struct{}, maxInFlight), jobs: make(chan *batch), m: m, log: log}
	for _, s := range sinks {
		w.names = append(w.names, sink.NameOf(s))
	}
	return w
}

// run is one of maxInFlight workers; it exits when ctx ends (batches it
// holds stay unacknowledged and therefore uncommitted).
func (w *writer) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case b := <-w.jobs:
			w.write(ctx, b)
		}
	}
}

// submit tracks b and waits for a free slot; it fails only when ctx ends
// first, and then b is not tracked.
func (w *writer) submit(ctx context.Context, b *batch) error {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if b.tracker != nil {
		if err := b.tracker.Track(b.lo, b.hi); err != nil {
			<-w.slots
			return err
		}
	}
	b.sealed = time.Now()
	b.done = make(chan struct{})
	b.acked = make([]bool, len(w.sinks))
	w.m.inFlight.Inc()
	w.m.batchSize.Observe(float64(b.hi - b.lo))
	// A slot is held, so a worker is free or about to be: this send waits
	// only for the workers' own context, never for the caller's, so a
	// tracked batch is always handed over while the workers run.
	select {
	case w.jobs <- b:
		return nil
	case <-w.ctx.Done():
		// Tracked but never written: the tracker never passes it, so
		// nothing from here on is committed.
		<-w.slots
		w.m.inFlight.Dec()
		return w.ctx.Err()
	}
}

func (w *writer) write(ctx context.Context, b *batch) {
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		ok := true
		if len(b.rejects) > 0 && !b.dlqAcked {
			if err := w.dlq.write(ctx, b.rejects); err != nil {
				ok = false
				w.m.sinkErrors.WithLabelValues("dlq").Inc()
				if attempt < 3 || attempt%20 == 0 {
					w.log.Warn("DLQ write failed; retrying the batch", "partition", b.partition,
						"offsets", [2]int64{b.lo, b.hi}, "attempt", attempt+1, "err", err)
				}
			} else {
				b.dlqAcked = true
			}
		}
		for i, s := range w.sinks {
			if b.acked[i] {
				continue
			}
			err := s.WriteEvents(ctx, b.events)
			if err == nil {
				err = s.WriteFindings(ctx, b.findings)
			}
			if err != nil {
				ok = false
				w.m.sinkErrors.WithLabelValues(w.names[i]).Inc()
				if attempt < 3 || attempt%20 == 0 {
					w.log.Warn("sink write failed; retrying the batch", "sink", w.names[i], "partition", b.partition,
						"offsets", [2]int64{b.lo, b.hi}, "attempt", attempt+1, "err", err)
				}
				continue
			}
			b.acked[i] = true
		}
		if ok {
			break
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(sleep):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	now := time.Now()
	w.m.batchLatency.Observe(now.Sub(b.sealed).Seconds())
	if !b.produced.IsZero() {
		w.m.endToEndLatency.Observe(now.Sub(b.produced).Seconds())
	}
	w.m.events.Add(float64(len(b.events)))
	for i := range b.rejects {
		w.m.dlq.WithLabelValues(reasonOf(&b.rejects[i])).Inc()
	}
	for i := range b.findings {
		w.m.findings.WithLabelValues(b.findings[i].RuleID, b.findings[i].Severity.String()).Inc()
	}
	if b.tracker != nil {
		if _, _, err := b.tracker.Ack(b.lo); err != nil {
			w.log.Error("acknowledging batch", "partition", b.partition, "err", err)
		}
	}
	w.m.inFlight.Dec()
	<-w.slots
	close(b.done)
}
