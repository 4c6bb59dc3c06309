package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"roachwatch/internal/config"
	"roachwatch/internal/metrics"
	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/source/tail"
	"roachwatch/pipeline/transport/kafkatransport"
)

// shipper owns the Kafka side shared by run and import: the encoder, the
// producer and the bound on unacknowledged hand-offs.
type shipper struct {
	cfg  config.Config
	log  *slog.Logger
	enc  *kafkatransport.Encoder
	prod *kafkatransport.Producer
	sem  chan struct{} // one token per hand-off not yet acknowledged
}

func newShipper(ctx context.Context, cfg config.Config, key []byte, pm *kafkatransport.ProducerMetrics, log *slog.Logger) (*shipper, error) {
	if cfg.Kafka.TLS.InsecureSkipVerify {
		log.Warn("kafka.tls.insecure_skip_verify is on: the broker certificate is not verified")
	}
	ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafkatransport.EnsureTopics(ectx, cfg.Kafka, log.With("component", "kafka")); err != nil {
		return nil, err
	}
	enc := &kafkatransport.Encoder{Topics: cfg.Kafka.Topics, MaxMessageBytes: cfg.Kafka.Producer.MaxMessageBytes,
		HashKey: key, KeepRaw: cfg.Redaction.KeepRaw, PartitionKey: cfg.Kafka.Producer.PartitionKey}
	prod, err := kafkatransport.NewProducer(cfg.Kafka, enc, pm, log.With("component", "producer"))
	if err != nil {
		return nil, err
	}
	return &shipper{cfg: cfg, log: log, enc: enc, prod: prod, sem: make(chan struct{}, cfg.Ingest.MaxInFlight)}, nil
}

// acquire takes a hand-off token; it blocks while max_in_flight
// hand-offs are unacknowledged (backpressure up to the readers).
func (s *shipper) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *shipper) release() { <-s.sem }

// encode turns tail batches into producer batches on as many goroutines
// as there are CPUs (JSON encoding is CPU bound), and hands them to the
// producer in the order they were read: the producer keeps that order per
// partition, and analyze relies on it. It closes out when in is closed and
// drained.
func (s *shipper) encode(ctx context.Context, in <-chan tail.Batch, out chan<- kafkatransport.Batch) error {
	defer close(out)
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		b   tail.Batch
		res chan kafkatransport.Batch // buffered 1: the worker never waits for the emitter
	}
	jobs := make(chan job)
	order := make(chan chan kafkatransport.Batch, 2*workers) // results in read order
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { // dispatch: one token per hand-off, then queue its slot in order
		defer close(jobs)
		defer close(order)
		for b := range in {
			if err := s.acquire(gctx); err != nil {
				return err
			}
			j := job{b: b, res: make(chan kafkatransport.Batch, 1)}
			select {
			case order <- j.res:
			case <-gctx.Done():
				s.release()
				return gctx.Err()
			}
			select {
			case jobs <- j:
			case <-gctx.Done():
				s.release()
				return gctx.Err()
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			for j := range jobs {
				j.res <- s.encodeBatch(j.b)
			}
			return nil
		})
	}
	g.Go(func() error { // emit in read order
		for res := range order {
			var kb kafkatransport.Batch
			select {
			case kb = <-res:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case out <- kb:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}

// encodeBatch encodes one tail batch: its events, then its rejects as DLQ
// records. Done acknowledges the tail batch and returns the hand-off token.
func (s *shipper) encodeBatch(b tail.Batch) kafkatransport.Batch {
	msgs := make([]kafka.Message, 0, len(b.Events)+len(b.Rejects))
	for i := range b.Events {
		m, _, err := s.enc.Event(&b.Events[i], b.Source)
		if err != nil {
			m = s.enc.DLQ(kafkatransport.DLQRecord{Reason: "encode_error", Detail: err.Error(), Source: b.Source,
				File: b.Events[i].Origin.File, Offset: b.Events[i].Origin.Offset, EventID: b.Events[i].ID, Time: time.Now().UnixNano()})
		}
		msgs = append(msgs, m)
	}
	for _, r := range b.Rejects {
		msgs = append(msgs, s.reject(r, b.Source))
	}
	done := b.Done
	return kafkatransport.Batch{Msgs: msgs, Done: func() { done(); s.release() }}
}

// reject is the DLQ message of a rejected line or entry of source kind
// src (the format): the same record for run and import.
func (s *shipper) reject(r tail.Reject, src string) kafka.Message {
	return s.enc.Reject(kafkatransport.DLQRecord{Reason: r.Reason, Detail: r.Detail, Source: src,
		File: r.File, FileID: r.FileID, Offset: r.Offset, Time: time.Now().UnixNano()}, r.Line)
}

// pipeline runs feed -> producer -> checkpoints with the shutdown order
// of STYLE.md §3: on SIGINT/SIGTERM (ctx) feed stops reading at once and
// hands on what it already decoded (run: held multi-line entries flushed),
// what it handed on is produced and acknowledged within ingest.shutdown_grace,
// then the checkpoints are written a last time. feed gets the run context
// (stop reading when it ends) and the producer-side context (ends only
// when the grace expires), and must close kout when it returns.
func (s *shipper) pipeline(ctx context.Context, ck *ack.Checkpointer, reg *metricsServer,
	feed func(ctx, hard context.Context, kout chan<- kafkatransport.Batch) error) error {
	// The producer side outlives ctx by up to shutdown_grace.
	hard, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	ckCtx, ckCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer ckCancel()
	prodDone := make(chan struct{})

	g, gctx := errgroup.WithContext(ctx)
	srvCtx, srvCancel := context.WithCancel(gctx)
	defer srvCancel()
	kout := make(chan kafkatransport.Batch, 4)
	g.Go(func() error { return feed(gctx, hard, kout) })
	g.Go(func() error {
		defer close(prodDone)
		defer srvCancel()
		defer ckCancel() // last checkpoint after the last ack
		err := s.prod.Run(hard, kout)
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("ingest.shutdown_grace (%s) expired before kafka acknowledged everything; the rest is read again at the next start", s.cfg.Ingest.ShutdownGrace)
		}
		return errors.Join(err, s.prod.Close())
	})
	g.Go(func() error { return ck.Run(ckCtx) })
	g.Go(func() error { return reg.srv.Run(srvCtx) })
	g.Go(func() error {
		select {
		case <-prodDone:
			return nil
		case <-gctx.Done():
		}
		s.log.Info("stopping: reading stopped, waiting for kafka acknowledgements", "grace", s.cfg.Ingest.ShutdownGrace)
		t := time.NewTimer(s.cfg.Ingest.ShutdownGrace)
		defer t.Stop()
		select {
		case <-prodDone:
		case <-t.C:
			hardCancel()
		}
		return nil
	})
	return g.Wait()
}

// metricsServer is the /metrics server and the registry behind it.
type metricsServer struct {
	srv *metrics.Server
	reg *prometheus.Registry
}

// tailFeed is the feed of run: read hands tail batches to the encoders.
// read stops reading when ctx ends, may still hand on what it decoded
// until hard ends, and must close its channel when it returns.
func (s *shipper) tailFeed(read func(ctx, hard context.Context, out chan<- tail.Batch) error) func(ctx, hard context.Context, kout chan<- kafkatransport.Batch) error {
	return func(ctx, hard context.Context, kout chan<- kafkatransport.Batch) error {
		tailOut := make(chan tail.Batch, 4)
		var g errgroup.Group
		g.Go(func() error { return read(ctx, hard, tailOut) })
		g.Go(func() error { return s.encode(hard, tailOut, kout) })
		return g.Wait()
	}
}
