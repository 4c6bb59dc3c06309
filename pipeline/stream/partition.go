package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/transport/kafkatransport"
)

// partRun is one assigned partition for one generation.
type partRun struct {
	partition int
	st        *partState
	start     int64 // first offset to fetch (= st.next)
	replayTo  int64 // offsets below were committed: replayed into st only
	tracker   *AckTracker

	lastMsg atomic.Int64 // wall clock (ns) of the last fetched message
	pos     atomic.Int64 // next offset to fetch

	mu        sync.Mutex // guards the fields below and orders snapshot-then-commit
	committed int64
	pending   *pendingSnap
}

// pendingSnap is a state snapshot waiting until every batch below its
// offset is acknowledged: only then may it be saved, so a saved snapshot
// never runs ahead of what the sinks have.
type pendingSnap struct {
	next int64
	data []byte
}

// restore decides, for each assigned partition, where reading starts and
// with which state. With a snapshot at S and the committed offset C:
// S <= C replays [S, C) into the state without output (those batches were
// acknowledged before C was committed) and writes from C on; S > C (the
// commit after the snapshot was lost) starts at S, since a snapshot is
// saved only once everything below it was acknowledged. Without a
// snapshot the state is rebuilt from the partition's first offset when a
// state store is configured, else it starts empty at C.
func (s *Stream) restore(ctx context.Context, gen *kafka.Generation, assigned []kafka.PartitionAssignment) ([]*partRun, error) {
	ids := make([]int, len(assigned))
	keys := make([]string, len(assigned))
	for i, a := range assigned {
		ids[i] = a.ID
		keys[i] = kafkatransport.StateKey(gen.GroupID, s.topic, a.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	first, _, err := kafkatransport.PartitionEnds(ctx, s.client, s.topic, ids)
	if err != nil {
		return nil, err
	}
	snaps := map[string][]byte{}
	if s.store != nil {
		if snaps, err = s.store.Load(ctx, keys); err != nil {
			return nil, err
		}
	}
	var parts []*partRun
	for i, a := range assigned {
		p := a.ID
		committed := a.Offset
		if committed < 0 || committed < first[p] {
			committed = first[p] // never committed, or retention passed it
		}
		var st *partState
		if b, ok := snaps[keys[i]]; ok {
			if st, err = decodeState(&s.o, b); err != nil {
				s.m.restores.WithLabelValues("failed").Inc()
				s.log.Warn("unusable state snapshot: rebuilding the partition's state from its first offset", "partition", p, "err", err)
				st = nil
			} else {
				s.m.restores.WithLabelValues("snapshot").Inc()
			}
		}
		if st != nil && st.next < first[p] {
			s.log.Warn("state snapshot is older than the partition's first offset: events in between are missing from the state", "partition", p, "snapshot", st.next, "first", first[p])
			st.next = first[p]
		}
		if st == nil {
			from := committed
			if s.store != nil {
				from = first[p]
			}
			if st, err = newPartState(&s.o, from); err != nil {
				return nil, err
			}
			if from == committed {
				s.m.restores.WithLabelValues("empty").Inc()
			}
		}
		pr := &partRun{partition: p, st: st, start: st.next, replayTo: committed, committed: committed}
		pr.tracker = NewAckTracker(max(st.next, committed))
		pr.lastMsg.Store(time.Now().UnixNano())
		pr.pos.Store(st.next)
		s.m.committed.WithLabelValues(partLabel(p)).Set(float64(committed))
		s.log.Info("partition assigned", "partition", p, "committed", committed, "state_at", st.next, "replay", max(0, committed-st.next))
		parts = append(parts, pr)
	}
	return parts, nil
}

// runPartition reads one partition until ctx ends, then drains: last
// batch (after Finish when the run is finishing), wait for every
// acknowledgement, snapshot, commit.
func (s *Stream) runPartition(ctx context.Context, gen *kafka.Generation, pr *partRun) error {
	r, err := s.o.Kafka.NewPartitionReader(s.topic, pr.partition, pr.start)
	if err != nil {
		return err
	}
	defer r.Close()
	cfg := s.o.Kafka.Consumer
	lag := s.m.lag.WithLabelValues(partLabel(pr.partition))
	cur := s.newBatch(pr)
	changed := map[string]*detectors.Finding{}
	var order []string
	emit := func(f *detectors.Finding) {
		if _, ok := changed[f.ID]; !ok {
			order = append(order, f.ID)
		}
		changed[f.ID] = f
	}
	discard := func(*detectors.Finding) {}
	seal := func(ctx context.Context) error {
		if cur.msgs == 0 && len(order) == 0 {
			return nil
		}
		for _, id := range order {
			cur.findings = append(cur.findings, pr.st.version(changed[id]))
		}
		clear(changed)
		order = order[:0]
		if cur.msgs == 0 { // findings of Finish with no message of their own
			cur.tracker = nil
		}
		b := cur
		if err := s.w.submit(ctx, b); err != nil {
			return err
		}
		cur = s.newBatch(pr)
		if b.tracker == nil {
			<-b.done
		}
		return nil
	}
	var deadline time.Time
	lastSnap := time.Now()
	late := pr.st.reorder.Late
	for ctx.Err() == nil {
		// A bounded wait: the batch deadline, or a second to look at
		// snapshots and the stop signal. An expired FetchMessage loses
		// nothing: the reader keeps prefetched messages queued.
		wait := time.Now().Add(time.Second)
		if cur.msgs > 0 {
			wait = deadline
		}
		fctx, cancel := context.WithDeadline(ctx, wait)
		m, err := r.FetchMessage(fctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("reading %s/%d: %w", s.topic, pr.partition, err)
			}
		} else {
			pr.lastMsg.Store(time.Now().UnixNano())
			pr.pos.Store(m.Offset + 1)
			lag.Set(float64(max(0, m.HighWaterMark-m.Offset-1)))
			s.process(pr, cur, &m, emit, discard)
			if cur.msgs == 1 {
				deadline = time.Now().Add(cfg.BatchTimeout)
			}
			if d := pr.st.reorder.Late - late; d > 0 {
				s.m.lateEvents.Add(float64(d))
				late = pr.st.reorder.Late
			}
		}
		full := cur.msgs >= cfg.BatchSize
		due := cur.msgs > 0 && !time.Now().Before(deadline)
		if full || due {
			if err := seal(ctx); err != nil {
				break // only when ctx ended while waiting for a slot
			}
		}
		if s.store != nil && time.Since(lastSnap) >= s.o.Config.SnapshotInterval && pr.st.next >= pr.replayTo {
			if err := seal(ctx); err != nil {
				break
			}
			if err := s.stageSnapshot(pr); err != nil {
				return err
			}
			lastSnap = time.Now()
		}
	}
	return s.drain(gen, pr, seal, emit)
}

// process folds message m into the state and the current batch.
func (s *Stream) process(pr *partRun, cur *batch, m *kafka.Message, emit, discard func(*detectors.Finding)) {
	replay := m.Offset < pr.replayTo
	if !replay {
		cur.msgs++
		cur.hi = m.Offset + 1
		if cur.produced.IsZero() || m.Time.Before(cur.produced) {
			cur.produced = m.Time
		}
	}
	cur.events = append(cur.events, event.Event{})
	ev := &cur.events[len(cur.events)-1]
	if reason, err := decodeMessage(m, ev); reason != "" {
		cur.events = cur.events[:len(cur.events)-1]
		pr.st.skip(m.Offset)
		if replay {
			return // diverted (and acknowledged) before the offset was committed
		}
		// Never dropped silently, never blocking: the message goes to the
		// DLQ with this batch, which is acknowledged (and committed past)
		// only once the DLQ topic has it.
		cur.rejects = append(cur.rejects, rejectMessage(s.o.Kafka.Topics.DLQ, m, reason, err))
		s.m.undecodable.Inc()
		s.log.Warn("undecodable message diverted to the DLQ", "partition", pr.partition, "offset", m.Offset, "reason", reason, "err", err)
		return
	}
	if replay {
		pr.st.observe(ev, m.Offset, discard)
		cur.events = cur.events[:len(cur.events)-1]
		s.m.replayed.Inc()
		return
	}
	pr.st.observe(ev, m.Offset, emit)
}

func (s *Stream) newBatch(pr *partRun) *batch {
	lo := pr.tracker.End()
	return &batch{partition: pr.partition, lo: lo, hi: lo, tracker: pr.tracker,
		events: make([]event.Event, 0, min(s.o.Kafka.Consumer.BatchSize, 4096))}
}

// stageSnapshot encodes the state (on the partition goroutine, between
// messages) and leaves it for commitPartition to save once every batch
// below its offset is acknowledged.
func (s *Stream) stageSnapshot(pr *partRun) error {
	b, err := pr.st.encode()
	if err != nil {
		return err
	}
	pr.mu.Lock()
	pr.pending = &pendingSnap{next: pr.st.next, data: b}
	pr.mu.Unlock()
	return nil
}

// drain ends a partition's run: the last batch, every acknowledgement,
// the snapshot, then the commit — all within shutdown_grace.
func (s *Stream) drain(gen *kafka.Generation, pr *partRun, seal func(context.Context) error, emit func(*detectors.Finding)) error {
	gctx, cancel := context.WithTimeout(context.Background(), s.o.Config.ShutdownGrace)
	defer cancel()
	if s.finishing.Load() {
		pr.st.finish(emit)
	}
	if err := seal(gctx); err != nil {
		return fmt.Errorf("partition %d: last batch: %w", pr.partition, err)
	}
	if err := pr.tracker.Wait(gctx, pr.tracker.End()); err != nil {
		_ = s.commitPartition(gctx, gen, pr)
		return fmt.Errorf("partition %d: sinks did not acknowledge within shutdown_grace: %w", pr.partition, err)
	}
	if s.store != nil {
		if err := s.stageSnapshot(pr); err != nil {
			return err
		}
	}
	return s.commitPartition(gctx, gen, pr)
}

// commitPartition saves a due snapshot, then commits the acknowledged
// offset. The order matters: a commit is never made for a partition
// whose state could not have been saved up to it... except when there is
// no snapshot yet, and then the state is rebuilt by replay (see restore).
func (s *Stream) commitPartition(ctx context.Context, gen *kafka.Generation, pr *partRun) error {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	c := pr.tracker.Committable()
	if ps := pr.pending; ps != nil && ps.next <= c {
		key := kafkatransport.StateKey(gen.GroupID, s.topic, pr.partition)
		if err := s.store.Save(ctx, map[string][]byte{key: ps.data}); err != nil {
			s.log.Warn("saving state snapshot", "partition", pr.partition, "err", err)
			return err
		}
		s.m.snapshots.Inc()
		s.m.snapshotBytes.Observe(float64(len(ps.data)))
		pr.pending = nil
	}
	if c <= pr.committed {
		return nil
	}
	if err := gen.CommitOffsets(map[string]map[int]int64{s.topic: {pr.partition: c}}); err != nil {
		s.m.commitFailures.Inc()
		s.log.Warn("committing offset", "partition", pr.partition, "offset", c, "err", err)
		return err
	}
	pr.committed = c
	s.m.committed.WithLabelValues(partLabel(pr.partition)).Set(float64(c))
	return nil
}
