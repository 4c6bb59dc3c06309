package kafkatransport

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink"
)

// AlertSink writes findings to kafka.topics.alerts: one message per
// finding version, key = finding id (so versions of one incident stay in
// order in one partition and a compacted consumer sees the latest), value
// = the finding's JSON. Writes are synchronous with RequireAll: a nil
// return means every in-sync replica has the whole batch. Routing to
// webhooks and Slack, and deduplication, belong to the alert router that
// consumes this topic, not here. Events are not alerts: WriteEvents
// acknowledges at once.
type AlertSink struct {
	w     *kafka.Writer
	topic string
}

var _ sink.Sink = (*AlertSink)(nil)

// NewAlertSink returns a sink writing to c.Topics.Alerts.
func NewAlertSink(c Config) (*AlertSink, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.Topics.Alerts,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1000,
		BatchTimeout: 2 * time.Millisecond,
		BatchBytes:   int64(max(c.Producer.MaxMessageBytes, 1<<20)),
		Compression:  kafka.Lz4,
		WriteTimeout: 30 * time.Second,
		Transport:    t,
	}
	return &AlertSink{w: w, topic: c.Topics.Alerts}, nil
}

// Name is "alerts".
func (a *AlertSink) Name() string { return "alerts" }

// WriteEvents does nothing: events are not alerts.
func (a *AlertSink) WriteEvents(ctx context.Context, _ []event.Event) error { return ctx.Err() }

// WriteFindings writes every finding version and waits for RequireAll.
func (a *AlertSink) WriteFindings(ctx context.Context, fs []detectors.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(fs))
	for i := range fs {
		v, err := json.Marshal(&fs[i])
		if err != nil {
			return fmt.Errorf("encoding finding %s: %w", fs[i].ID, err)
		}
		msgs[i] = kafka.Message{Key: []byte(fs[i].ID), Value: v,
			Headers: []kafka.Header{{Key: "rw-rule", Value: []byte(fs[i].RuleID)}, {Key: "rw-severity", Value: []byte(fs[i].Severity.String())}}}
	}
	if err := a.w.WriteMessages(ctx, msgs...); err != nil {
		// kafka.WriteErrors may report only some messages failed; the
		// contract is whole batch or error, so the batch is retried whole
		// and the router deduplicates by id and version.
		return fmt.Errorf("writing %d alerts to %s: %w", len(fs), a.topic, err)
	}
	return nil
}

// Close flushes and closes the writer.
func (a *AlertSink) Close() error { return a.w.Close() }
