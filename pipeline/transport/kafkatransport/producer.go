package kafkatransport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// Batch is a unit of delivery: Done is called once, after every message
// in Msgs has been acknowledged by all in-sync replicas (or diverted to the
// DLQ and acknowledged there). The producer owns Msgs after the send.
type Batch struct {
	Msgs []kafka.Message
	Done func()
}

// Producer writes Batches to Kafka with a kafka-go Writer: RequiredAcks
// RequireAll, synchronous writes of whole slices, the key hashed to the
// partition (kafka.Hash), compression from config. Batches are gathered
// until kafka.producer.batch_size messages or batch_timeout, then written
// by up to max_in_flight concurrent writes; completions may therefore
// arrive out of order (pipeline/ack releases them in order).
//
// A write that fails is retried, for the failed messages only (read from
// kafka.WriteErrors), with exponential backoff and jitter, for as long as
// it takes: a broker that is down stops ingest, it does not lose data.
// Messages the broker refuses as too large go to the DLQ (too_large).
type Producer struct {
	w   *kafka.Writer
	cfg Config
	enc *Encoder
	m   *ProducerMetrics
	log *slog.Logger

	failingSince atomic.Int64 // unix ns of the first failure of the current outage; 0 when healthy
}

// NewProducer builds the producer; it does not connect yet.
func NewProducer(cfg Config, enc *Encoder, m *ProducerMetrics, log *slog.Logger) (*Producer, error) {
	tr, err := cfg.Transport()
	if err != nil {
		return nil, err
	}
	var comp kafka.Compression
	switch cfg.Producer.Compression {
	case "zstd":
		comp = kafka.Zstd
	case "lz4":
		comp = kafka.Lz4
	case "snappy":
		comp = kafka.Snappy
	case "gzip":
		comp = kafka.Gzip
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		Async:        false,
		BatchSize:    cfg.Producer.BatchSize,
		BatchBytes:   cfg.Producer.BatchBytes,
		// Our own gathering already waited up to batch_timeout; the
		// writer's per-partition batches only linger briefly, because a
		// synchronous write waits for its partial batches.
		BatchTimeout:    min(cfg.Producer.BatchTimeout, 5*time.Millisecond),
		WriteTimeout:    cfg.Producer.WriteTimeout,
		ReadTimeout:     cfg.Producer.WriteTimeout,
		MaxAttempts:     3,
		WriteBackoffMin: 100 * time.Millisecond,
		WriteBackoffMax: time.Second,
		Compression:     comp,
		Transport:       tr,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Debug("kafka-go", "msg", fmt.Sprintf(msg, args...))
		}),
	}
	return &Producer{w: w, cfg: cfg, enc: enc, m: m, log: log}, nil
}

// Run delivers the batches read from in until in is closed and every
// gathered batch is acknowledged; then it returns nil. When ctx ends first
// (the shutdown deadline), in-flight writes are abandoned, their batches
// never acknowledged, and Run returns ctx's error.
func (p *Producer) Run(ctx context.Context, in <-chan Batch) error {
	jobs := make(chan []Batch)
	var wg sync.WaitGroup
	errc := make(chan error, p.cfg.Producer.MaxInFlight)
	for range p.cfg.Producer.MaxInFlight {
		wg.Go(func() {
			for bs := range jobs {
				if err := p.deliver(ctx, bs); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	err := p.gather(ctx, in, jobs)
	close(jobs)
	wg.Wait()
	close(errc)
	return errors.Join(err, <-errc)
}

// gather groups batches into writes of about batch_size messages.
func (p *Producer) gather(ctx context.Context, in <-chan Batch, jobs chan<- []Batch) error {
	var cur []Batch
	n := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		select {
		case jobs <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur, n = nil, 0
		timer.Stop()
		return nil
	}
	for {
		select {
		case b, ok := <-in:
			if !ok {
				return flush()
			}
			if len(cur) == 0 {
				timer.Reset(p.cfg.Producer.BatchTimeout)
			}
			cur = append(cur, b)
			n += len(b.Msgs)
			if n >= p.cfg.Producer.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deliver writes the messages of bs until all are acknowledged, then
// calls every Done.
func (p *Producer) deliver(ctx context.Context, bs []Batch) error {
	var msgs []kafka.Message
	for _, b := range bs {
		msgs = append(msgs, b.Msgs...)
	}
	for attempt := 0; len(msgs) > 0; attempt++ {
		if attempt > 0 {
			p.m.Retries.Inc()
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		start := time.Now()
		err := p.w.WriteMessages(ctx, msgs...)
		p.m.Latency.Observe(time.Since(start).Seconds())
		p.m.BatchSize.Observe(float64(len(msgs)))
		if err == nil {
			p.acked(msgs)
			p.failingSince.Store(0)
			break
		}
		p.failingSince.CompareAndSwap(0, time.Now().UnixNano())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.m.Errors.Inc()
		msgs = p.retryable(msgs, err)
		if attempt == 0 || attempt%10 == 0 {
			p.log.Warn("kafka write failed; retrying with backoff", "messages", len(msgs), "attempt", attempt+1, "err", err)
		}
	}
	for _, b := range bs {
		b.Done()
	}
	return nil
}

// retryable returns what must be written again after err: the messages
// that failed (all of them unless err is a kafka.WriteErrors), with the
// ones the broker refused as too large replaced by their DLQ records.
func (p *Producer) retryable(msgs []kafka.Message, err error) []kafka.Message {
	var werrs kafka.WriteErrors
	var tooLarge kafka.MessageTooLargeError
	switch {
	case errors.As(err, &werrs) && len(werrs) == len(msgs):
		var ok, again []kafka.Message
		for i, e := range werrs {
			switch {
			case e == nil:
				ok = append(ok, msgs[i])
			case errors.Is(e, kafka.MessageSizeTooLarge):
				again = append(again, p.tooLarge(msgs[i]))
			default:
				again = append(again, msgs[i])
			}
		}
		p.acked(ok)
		return again
	case errors.As(err, &tooLarge):
		return append(tooLarge.Remaining, p.tooLarge(tooLarge.Message))
	}
	return msgs
}

func (p *Producer) tooLarge(m kafka.Message) kafka.Message {
	if m.Topic == p.cfg.Topics.DLQ {
		// A DLQ record itself too large (keep_raw with a huge line): keep
		// only its reason and position.
		m.Value = m.Value[:0]
	}
	return p.enc.DLQ(DLQRecord{Reason: ReasonTooLarge, Detail: "refused by the broker as too large",
		Source: headerValue(m, HeaderSource), File: string(m.Key), Size: messageSize(m), Time: time.Now().UnixNano()})
}

// acked counts acknowledged messages by topic and DLQ reason.
func (p *Producer) acked(msgs []kafka.Message) {
	var ev, dlq int
	for _, m := range msgs {
		if m.Topic == p.cfg.Topics.DLQ {
			dlq++
			p.m.DLQ.WithLabelValues(headerValue(m, HeaderReason)).Inc()
		} else {
			ev++
		}
	}
	p.m.Produced.WithLabelValues("events").Add(float64(ev))
	p.m.Produced.WithLabelValues("dlq").Add(float64(dlq))
}

// unhealthyAfter is how long writes may keep failing before Healthy
// reports it.
const unhealthyAfter = 30 * time.Second

// Healthy reports an error when writes have been failing for longer than
// unhealthyAfter (a broker outage): for /healthz.
func (p *Producer) Healthy() error {
	since := p.failingSince.Load()
	if since == 0 {
		return nil
	}
	if d := time.Since(time.Unix(0, since)); d > unhealthyAfter {
		return fmt.Errorf("kafka writes failing for %s", d.Round(time.Second))
	}
	return nil
}

// Close flushes and closes the writer.
func (p *Producer) Close() error { return p.w.Close() }

// Stats exposes the writer's statistics.
func (p *Producer) Stats() kafka.WriterStats { return p.w.Stats() }

// backoff is exponential from 100ms to 10s with jitter in [d/2, d).
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt-1, 7)
	d = min(d, 10*time.Second)
	return d/2 + rand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
