package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"roachwatch/pipeline/transport/kafkatransport"
)

// Stream is analyze's streaming mode: a member of the consumer group on
// the events topic that runs the detectors per partition and writes to
// the sinks. See doc.go for the model.
type Stream struct {
	o      Options
	topic  string
	log    *slog.Logger
	m      *metrics
	client *kafka.Client
	store  *kafkatransport.StateStore // nil with state_store none
	dlq    *dlqWriter
	w      *writer

	finishing atomic.Bool // exit_when_idle fired: Finish the engines and stop
	joined    atomic.Bool
}

// New checks the options and connects the admin client and the state
// store (no network traffic yet).
func New(o Options) (*Stream, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	if err := o.Kafka.Validate(); err != nil {
		return nil, err
	}
	if o.NewDetectors == nil || len(o.Sinks) == 0 {
		return nil, errors.New("stream: NewDetectors and at least one sink are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Stream{o: o, topic: o.Topic, log: o.Log.With("component", "stream"), m: newMetrics(o.Registerer)}
	if s.topic == "" {
		s.topic = o.Kafka.Topics.Events
	}
	var err error
	if s.client, err = o.Kafka.NewClient(); err != nil {
		return nil, err
	}
	if o.Config.StateStore == StateKafka {
		if s.store, err = kafkatransport.NewStateStore(o.Kafka, s.client); err != nil {
			return nil, err
		}
	}
	if s.dlq, err = newDLQWriter(o.Kafka); err != nil {
		return nil, err
	}
	s.w = newWriter(o.Sinks, s.dlq, o.Kafka.Consumer.MaxInFlight, s.m, s.log)
	return s, nil
}

// Healthy reports an error until the first group generation was joined.
func (s *Stream) Healthy() error {
	if !s.joined.Load() {
		return errors.New("not yet a member of the consumer group")
	}
	return nil
}

// Run consumes until ctx ends (or, with exit_when_idle, until the topic
// is drained), then stops fetching, finishes and acknowledges in-flight
// batches, snapshots state, commits and leaves the group within
// shutdown_grace. It returns nil on a clean stop.
func (s *Stream) Run(ctx context.Context) error {
	if s.o.Kafka.Topics.Create {
		specs := []kafkatransport.TopicSpec{{Name: s.topic, Partitions: s.o.Kafka.Topics.Partitions},
			{Name: s.o.Kafka.Topics.DLQ, Partitions: s.o.Kafka.Topics.Partitions}}
		if s.store != nil {
			specs = append(specs, s.o.Kafka.StateTopicSpec())
		}
		if s.o.Config.Alerts {
			specs = append(specs, kafkatransport.TopicSpec{Name: s.o.Kafka.Topics.Alerts, Partitions: s.o.Kafka.Topics.Partitions})
		}
		if err := kafkatransport.EnsureConsumerTopics(ctx, s.client, s.o.Kafka.Topics.ReplicationFactor, specs...); err != nil {
			return err
		}
	}
	gcfg, err := s.o.Kafka.ConsumerGroupConfig(s.topic, s.log)
	if err != nil {
		return err
	}
	cg, err := kafka.NewConsumerGroup(gcfg)
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", gcfg.ID, err)
	}
	// The sink workers outlive generations and the run context: they stop
	// only after the last drain (or when the grace period is over).
	poolCtx, stopPool := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPool()
	pool, poolCtx := errgroup.WithContext(poolCtx)
	s.w.ctx = poolCtx
	for range s.o.Kafka.Consumer.MaxInFlight {
		pool.Go(func() error { return s.w.run(poolCtx) })
	}
	s.log.Info("streaming started", "topic", s.topic, "group", gcfg.ID, "sinks", s.w.names, "state_store", s.o.Config.StateStore)
	runErr := s.generations(ctx, cg)
	closeErr := cg.Close() // leaves the group
	stopPool()
	_ = pool.Wait()
	closeErr = errors.Join(closeErr, s.dlq.close())
	if s.store != nil {
		closeErr = errors.Join(closeErr, s.store.Close())
	}
	s.m.summary(s.log)
	s.log.Info("streaming stopped", "err", runErr)
	return errors.Join(runErr, closeErr)
}

// generations joins generation after generation until ctx ends or the
// topic is drained (exit_when_idle).
func (s *Stream) generations(ctx context.Context, cg *kafka.ConsumerGroup) error {
	for ctx.Err() == nil && !s.finishing.Load() {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("joining the consumer group", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		s.joined.Store(true)
		s.m.rebalances.Inc()
		if err := s.runGeneration(ctx, gen); err != nil {
			return err
		}
	}
	return nil
}

// runGeneration restores the assigned partitions, runs one worker per
// partition and a committer, and returns when all of them have drained.
func (s *Stream) runGeneration(ctx context.Context, gen *kafka.Generation) error {
	assigned := gen.Assignments[s.topic]
	s.m.assigned.Set(float64(len(assigned)))
	log := s.log.With("generation", gen.ID)
	parts, err := s.restore(ctx, gen, assigned)
	if err != nil {
		// Without a correct starting point nothing may be read: end this
		// generation (so the partitions move on) and rejoin.
		log.Error("restoring partition state", "err", err)
		gen.Start(func(context.Context) {})
		return nil
	}
	var ids []int
	for _, p := range parts {
		ids = append(ids, p.partition)
	}
	log.Info("generation joined", "partitions", ids)

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	// Owner: the generation; exit: the generation or the run ends.
	gen.Start(func(gctx context.Context) {
		select {
		case <-gctx.Done():
		case <-wctx.Done():
		}
		stop()
	})
	// Owner: the generation; exit: wctx ends.
	gen.Start(func(context.Context) { s.commitLoop(wctx, gen, parts) })
	if s.o.Config.ExitWhenIdle > 0 {
		gen.Start(func(context.Context) { s.idleLoop(wctx, parts, stop) })
	}
	for _, p := range parts {
		wg.Add(1)
		// Owner: the generation; exit: wctx ends, after the drain.
		gen.Start(func(context.Context) {
			defer wg.Done()
			if err := s.runPartition(wctx, gen, p); err != nil {
				log.Error("partition stopped", "partition", p.partition, "err", err)
				stop()
			}
		})
	}
	wg.Wait()
	stop()
	log.Info("generation ended")
	return nil
}

// commitLoop commits acknowledged offsets (and due snapshots first) every
// commit_interval until ctx ends.
func (s *Stream) commitLoop(ctx context.Context, gen *kafka.Generation, parts []*partRun) {
	t := time.NewTicker(s.o.Config.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, p := range parts {
				_ = s.commitPartition(ctx, gen, p)
			}
		}
	}
}

// idleLoop calls stop, marking the run finishing, once every assigned
// partition has been read to its end and no message arrived for
// exit_when_idle.
func (s *Stream) idleLoop(ctx context.Context, parts []*partRun, stop func()) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		idle := true
		var ids []int
		for _, p := range parts {
			ids = append(ids, p.partition)
			if time.Since(time.Unix(0, p.lastMsg.Load())) < s.o.Config.ExitWhenIdle {
				idle = false
			}
		}
		if !idle {
			continue
		}
		_, end, err := kafkatransport.PartitionEnds(ctx, s.client, s.topic, ids)
		if err != nil {
			continue
		}
		for _, p := range parts {
			if p.pos.Load() < end[p.partition] {
				idle = false
			}
		}
		if idle {
			s.log.Info("caught up and idle: finishing", "idle", s.o.Config.ExitWhenIdle)
			s.finishing.Store(true)
			stop()
			return
		}
	}
}
