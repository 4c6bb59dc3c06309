package kafkatransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

// Batch is a unit of delivery: Done is called once, after every message
// in Msgs has been acknowledged by all in-sync replicas (or diverted to the
// DLQ and acknowledged there). The producer owns Msgs after the send.
type Batch struct {
	Msgs []kafka.Message
	Done func()
}

// Producer writes Batches to Kafka with a kafka-go Writer: RequiredAcks
// RequireAll, synchronous writes, compression from config.
//
// Order: per partition, messages are written in the order they were
// handed to Run, across retries too. Every message goes to a lane, one
// per topic and partition: the partition kafka.Hash picks for its key
// over the topic's partitions (the same choice as a Writer with
// Balancer kafka.Hash, so keys land where they always did). A lane is
// written by one writer at a time, one chunk after the other, and a chunk
// that fails is retried before anything later in its lane is written; up
// to kafka.producer.max_in_flight writes run in parallel, each taking the
// heads of one or more idle lanes (up to about batch_size messages). A
// lane's chunk is at most batch_size messages and batch_bytes bytes, so
// the Writer sends it as one produce request, which the broker takes or
// refuses whole. Batches are gathered until batch_size messages or batch_timeout
// before they are split into lanes; a Batch's Done runs when its messages
// in all lanes are acknowledged, so completions may arrive out of order
// across Batches (pipeline/ack releases them in order).
//
// Partition counts come from the broker metadata the Writer uses (the
// same kafka.Transport cache), read for a topic when its first message
// arrives and re-read every layoutRefresh and after a failed write. When
// partitions are added to a topic, the producer stops routing, waits until
// everything already routed to that topic is acknowledged, and then hashes
// over the new count: a key whose partition changes has its last message
// in the old partition acknowledged before its first one in the new
// partition is written (consumers of the two partitions may still read
// them in either order). Until the producer notices (up to layoutRefresh
// plus the transport's metadata TTL), keys keep their old partitions.
// Partitions cannot be removed in Kafka; a topic deleted and recreated
// with fewer partitions while ingest runs leaves the lanes of the vanished
// partitions retrying until restart (their Batches are then read again
// from the checkpoint).
//
// A write that fails is retried, for the failed messages only (read from
// kafka.WriteErrors), with exponential backoff and jitter, for as long as
// it takes: a broker that is down stops ingest, it does not lose data.
// Messages the broker refuses as too large go to the DLQ (too_large): the
// DLQ record joins the tail of its own lane (DLQ topic and partition).
type Producer struct {
	w      *kafka.Writer
	client *kafka.Client // metadata, through the Writer's transport
	cfg    Config
	enc    *Encoder
	m      *ProducerMetrics
	log    *slog.Logger

	// lookup returns the partition counts of topics (partitionCounts);
	// tests replace it.
	lookup func(ctx context.Context, topics []string) (map[string]int, error)
	// write is w.WriteMessages; tests replace it.
	write func(ctx context.Context, msgs ...kafka.Message) error

	parts         *partitioner
	refreshWanted atomic.Bool // a write failed: re-read partition counts
	lastRefresh   time.Time   // Run's goroutine only

	failingSince atomic.Int64 // unix ns of the first failure of the current outage; 0 when healthy
}

// layoutRefresh is how often the partition counts are re-read.
const layoutRefresh = 10 * time.Second

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
		Addr: kafka.TCP(cfg.Brokers...),
		// The lanes chose the partition (kafka.Hash over the partition
		// count they read from the same metadata).
		Balancer:     assigned{},
		RequiredAcks: kafka.RequireAll,
		Async:        false,
		BatchSize:    cfg.Producer.BatchSize,
		BatchBytes:   cfg.Producer.BatchBytes,
		// Each call holds one partition's whole chunk and nothing else is
		// written to that partition meanwhile: the writer's batch must not
		// linger for more (it is flushed only after the call has added all
		// of its messages, so it is never split by the timer).
		BatchTimeout:    time.Microsecond,
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
	p := &Producer{w: w, client: &kafka.Client{Addr: w.Addr, Transport: tr, Timeout: 15 * time.Second},
		cfg: cfg, enc: enc, m: m, log: log, parts: newPartitioner()}
	p.lookup = p.partitionCounts
	p.write = w.WriteMessages
	return p, nil
}

// Run delivers the batches read from in until in is closed and every
// gathered batch is acknowledged; then it returns nil. When ctx ends first
// (the shutdown deadline), in-flight writes are abandoned, their batches
// never acknowledged, and Run returns ctx's error.
func (p *Producer) Run(ctx context.Context, in <-chan Batch) error {
	s := newLanes(p.cfg.Producer.BatchSize, p.cfg.Producer.BatchBytes)
	defer s.stopWith(ctx)()
	var wg sync.WaitGroup
	errc := make(chan error, p.cfg.Producer.MaxInFlight)
	for range p.cfg.Producer.MaxInFlight {
		wg.Go(func() {
			for {
				held, chunk := s.take()
				if held == nil {
					return
				}
				err := p.writeLanes(ctx, s, held, chunk)
				if err != nil {
					errc <- err
					s.stop(err)
					return
				}
			}
		})
	}
	err := p.gather(ctx, in, func(bs []Batch) error { return p.route(ctx, s, bs) })
	if err != nil {
		s.stop(err)
	} else {
		s.close()
	}
	wg.Wait()
	close(errc)
	return errors.Join(err, <-errc)
}

// gather groups batches into groups of about batch_size messages (or
// what arrived within batch_timeout) and hands each to flush.
func (p *Producer) gather(ctx context.Context, in <-chan Batch, flushTo func([]Batch) error) error {
	var cur []Batch
	n := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		if err := flushTo(cur); err != nil {
			return err
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

// route splits a group of batches into their lanes. It waits while
// max_in_flight × batch_size messages are queued and not yet being
// written (backpressure up to the sources).
func (p *Producer) route(ctx context.Context, s *lanes, bs []Batch) error {
	if err := p.refreshLayout(ctx, s); err != nil {
		return err
	}
	n := 0
	for _, b := range bs {
		n += len(b.Msgs)
	}
	es := make([]entry, 0, n)
	for _, b := range bs {
		if len(b.Msgs) == 0 {
			if b.Done != nil {
				b.Done()
			}
			continue
		}
		pb := &pending{done: b.Done}
		pb.left.Store(int64(len(b.Msgs)))
		for _, m := range b.Msgs {
			if m.Topic == "" {
				m.Topic = p.cfg.Topics.Events
			}
			es = append(es, entry{msg: m, b: pb})
		}
	}
	if err := p.assign(ctx, es); err != nil {
		return err
	}
	return s.add(es, p.cfg.Producer.MaxInFlight*p.cfg.Producer.BatchSize)
}

// assign sets the partition of every message in es, reading the
// partition count of topics not seen before (retried with backoff while
// the brokers cannot tell).
func (p *Producer) assign(ctx context.Context, es []entry) error {
	for attempt := 0; !p.parts.assign(es); attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		topics := p.parts.missing(es)
		counts, err := p.lookup(ctx, topics)
		for t, n := range counts {
			if _, ok := p.parts.count(t); !ok && n > 0 {
				p.parts.set(t, n)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.failingSince.CompareAndSwap(0, time.Now().UnixNano())
			if attempt == 0 || attempt%10 == 0 {
				p.log.Warn("reading kafka partition counts failed; retrying with backoff", "topics", topics, "attempt", attempt+1, "err", err)
			}
		}
	}
	return nil
}

// refreshLayout re-reads the partition counts every layoutRefresh and
// after a failed write. A topic whose count changed is drained first (see
// Producer): nothing routed with the old count is still unacknowledged
// when the new one is used.
func (p *Producer) refreshLayout(ctx context.Context, s *lanes) error {
	if !p.refreshWanted.Swap(false) && time.Since(p.lastRefresh) < layoutRefresh {
		return nil
	}
	p.lastRefresh = time.Now()
	topics := p.parts.topics()
	if len(topics) == 0 {
		return nil
	}
	counts, err := p.lookup(ctx, topics)
	if err != nil {
		p.log.Debug("re-reading kafka partition counts failed; keeping the known ones", "err", err)
	}
	for _, t := range topics {
		n, ok := counts[t]
		old, _ := p.parts.count(t)
		if !ok || n <= 0 || n == old {
			continue
		}
		p.log.Info("kafka partition count changed; waiting for the topic's routed messages before hashing over the new count",
			"topic", t, "from", old, "to", n)
		if err := s.drain(t); err != nil {
			return err
		}
		p.parts.set(t, n)
	}
	return nil
}

// partitionCounts reads the partition count of each topic from the
// metadata of the Writer's transport.
func (p *Producer) partitionCounts(ctx context.Context, topics []string) (map[string]int, error) {
	md, err := p.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(topics))
	var errs []error
	for _, t := range md.Topics {
		switch {
		case t.Error != nil:
			errs = append(errs, fmt.Errorf("topic %s: %w", t.Name, t.Error))
		case len(t.Partitions) == 0:
			errs = append(errs, fmt.Errorf("topic %s: no partitions", t.Name))
		default:
			out[t.Name] = len(t.Partitions)
		}
	}
	for _, t := range topics {
		if _, ok := out[t]; !ok && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("topic %s: %w", t, kafka.UnknownTopicOrPartition))
		}
	}
	return out, errors.Join(errs...)
}

// writeLanes writes chunk, the heads of the lanes in held, until every
// message is acknowledged or diverted to the DLQ, and releases each lane
// as soon as nothing of it is left to write. Only the failed messages are
// written again, in their order, and nothing else of a held lane is
// written meanwhile.
func (p *Producer) writeLanes(ctx context.Context, s *lanes, held []taken, chunk []entry) error {
	defer func() { // what is still held when ctx ends
		for _, h := range held {
			s.release(h.l, h.n)
		}
	}()
	msgs := make([]kafka.Message, 0, len(chunk))
	for attempt := 0; len(chunk) > 0; attempt++ {
		if attempt > 0 {
			p.m.Retries.Inc()
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		msgs = msgs[:0]
		for _, e := range chunk {
			msgs = append(msgs, e.msg)
		}
		start := time.Now()
		err := p.write(ctx, msgs...)
		p.m.Latency.Observe(time.Since(start).Seconds())
		p.m.BatchSize.Observe(float64(len(msgs)))
		if err == nil {
			p.acked(chunk)
			p.failingSince.Store(0)
			return nil
		}
		p.failingSince.CompareAndSwap(0, time.Now().UnixNano())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.m.Errors.Inc()
		p.refreshWanted.Store(true)
		var divert []entry
		chunk, divert = p.retryable(chunk, err)
		if len(divert) > 0 {
			if err := p.assign(ctx, divert); err != nil {
				return err
			}
			s.divert(divert)
		}
		// Lanes with nothing left to retry go back at once: a partition
		// that keeps failing holds only its own lane.
		left := map[laneKey]bool{}
		for _, e := range chunk {
			left[laneKey{e.msg.Topic, e.msg.Partition}] = true
		}
		held = slices.DeleteFunc(held, func(h taken) bool {
			if left[h.l.key] {
				return false
			}
			s.release(h.l, h.n)
			return true
		})
		if len(chunk) > 0 && (attempt == 0 || attempt%10 == 0) {
			p.log.Warn("kafka write failed; retrying with backoff", "messages", len(chunk), "attempt", attempt+1, "err", err)
		}
	}
	return nil
}

// retryable splits chunk after the write error err into what must be
// written again in this lane (the failed messages, all of them unless err
// is a kafka.WriteErrors) and the DLQ records that replace the messages
// the broker refused as too large; the messages that were written are
// acknowledged.
func (p *Producer) retryable(chunk []entry, err error) (again, divert []entry) {
	var werrs kafka.WriteErrors
	var tooLarge kafka.MessageTooLargeError
	switch {
	case errors.As(err, &werrs) && len(werrs) == len(chunk):
		var ok []entry
		for i, e := range werrs {
			switch {
			case e == nil:
				ok = append(ok, chunk[i])
			case errors.Is(e, kafka.MessageSizeTooLarge):
				divert = append(divert, entry{msg: p.tooLarge(chunk[i].msg), b: chunk[i].b})
			default:
				again = append(again, chunk[i])
			}
		}
		p.acked(ok)
		return again, divert
	case errors.As(err, &tooLarge):
		i := slices.IndexFunc(chunk, func(e entry) bool {
			return bytes.Equal(e.msg.Key, tooLarge.Message.Key) && bytes.Equal(e.msg.Value, tooLarge.Message.Value)
		})
		if i >= 0 {
			divert = []entry{{msg: p.tooLarge(chunk[i].msg), b: chunk[i].b}}
			return slices.Delete(slices.Clone(chunk), i, i+1), divert
		}
	}
	return chunk, nil
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

// acked counts acknowledged messages by topic and DLQ reason and
// acknowledges them to their Batches.
func (p *Producer) acked(es []entry) {
	var ev, dlq int
	for _, e := range es {
		if e.msg.Topic == p.cfg.Topics.DLQ {
			dlq++
			p.m.DLQ.WithLabelValues(headerValue(e.msg, HeaderReason)).Inc()
		} else {
			ev++
		}
	}
	p.m.Produced.WithLabelValues("events").Add(float64(ev))
	p.m.Produced.WithLabelValues("dlq").Add(float64(dlq))
	for _, e := range es {
		e.b.ack()
	}
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

// zstdLevel is the level of the zstd writers (kafka.producer.compression
// zstd): SpeedFastest. kafka-go's default is level 3 (SpeedDefault); on
// roachwatch events the fastest level compresses as well (measured: 1 %
// smaller topic for 1.33 M loggen events) at about 65 % of the CPU, and
// compression was a quarter of ingest's CPU. It is kafka-go's global zstd
// codec (the one its Compression constant stands for), set before any
// writer exists; consumers decode every level.
const zstdLevel = 1

func init() { compress.ZstdCodec.Level = zstdLevel }
