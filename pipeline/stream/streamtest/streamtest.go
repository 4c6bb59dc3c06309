// Package streamtest holds helpers for streaming tests and benchmarks:
// put loggen output on a Kafka topic exactly as `ingest import` does (the
// embedded runner's event-time order, key = kafka.producer.partition_key,
// RequireAll) and compute the embedded run's findings over the same events.
package streamtest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
	"roachwatch/pipeline/transport/kafkatransport"
)

// IngestTime is stamped on every event so runs compare byte for byte.
const IngestTime = int64(1_750_000_000_000_000_000)

// Decode reads every file under dir with the embedded runner (the merge by
// event time that `analyze run --input` and `ingest import` use) and
// returns the events in that order.
func Decode(ctx context.Context, cfg config.Config, dir string) ([]event.Event, error) {
	files, err := source.Expand([]string{dir})
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.DiscardHandler)
	dec, err := cli.NewDecoding(cfg, log)
	if err != nil {
		return nil, err
	}
	var evs []event.Event
	err = runner.Run(ctx, runner.Options{
		Files: files, Format: cfg.Input.Format, Formats: dec.Formats, MaxLineBytes: cfg.Input.MaxLineBytes,
		NewNormalizer: dec.Normalizer, Workers: 2, IngestTime: IngestTime, Log: log,
	}, &runner.Stats{}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	})
	return evs, err
}

// Embedded runs one engine over evs in order and finishes it: the
// findings of `analyze run --input` on the same files.
func Embedded(cfg config.Config, evs []event.Event) ([]detectors.Finding, error) {
	eng, err := detectors.NewEngine(all.Detectors(cfg.Detectors), cfg.Detectors.Rules)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		eng.Observe(&evs[i])
	}
	eng.Finish()
	return eng.Findings(), nil
}

// Produce writes evs to topic in order, synchronously with RequireAll,
// keyed like ingest (kafkatransport.KeyFor kc.Producer.PartitionKey), in
// calls of chunk messages.
// Each message's timestamp is its produce time (the start of end-to-end
// latency).
func Produce(ctx context.Context, kc kafkatransport.Config, topic string, evs []event.Event, chunk int) error {
	t, err := kc.Transport()
	if err != nil {
		return err
	}
	w := &kafka.Writer{Addr: kafka.TCP(kc.Brokers...), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchSize: chunk, BatchBytes: 64 << 20, BatchTimeout: 5 * time.Millisecond, Compression: kafka.Lz4, Transport: t}
	defer w.Close()
	msgs := make([]kafka.Message, 0, chunk)
	flush := func() error {
		if len(msgs) == 0 {
			return nil
		}
		now := time.Now()
		for i := range msgs {
			msgs[i].Time = now
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("producing to %s: %w", topic, err)
		}
		msgs = msgs[:0]
		return nil
	}
	for i := range evs {
		m, err := kafkatransport.EncodeKeyed(&evs[i], kc.Producer.PartitionKey)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
		if len(msgs) == chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// CreateTopic creates topic with n partitions (replication 1).
func CreateTopic(ctx context.Context, kc kafkatransport.Config, topic string, n int) error {
	cl, err := kc.NewClient()
	if err != nil {
		return err
	}
	return kafkatransport.EnsureConsumerTopics(ctx, cl, 1, kafkatransport.TopicSpec{Name: topic, Partitions: n})
}
