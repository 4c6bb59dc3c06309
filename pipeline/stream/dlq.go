package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/transport/kafkatransport"
)

// Reasons a message of the events topic is diverted to the DLQ topic
// (kafka.topics.dlq) instead of reaching the detectors.
const (
	ReasonSchemaVersion = "schema_version" // rw-v header names a schema this analyze does not read
	ReasonBadJSON       = "bad_json"       // the value is not an event's JSON form
	ReasonNoEventID     = "no_event_id"    // valid JSON without an event id: it could not be deduplicated
)

// SourceKafka is the DLQRecord.Source of messages diverted by analyze (ingest
// uses the input format there).
const SourceKafka = "kafka"

// maxRejectValue is the largest original value copied into a DLQ record;
// larger values are described by their size only (the DLQ topic keeps the
// broker's default max.message.bytes).
const maxRejectValue = 256 << 10

// DLQRecord is the JSON value of a DLQ message written by analyze: why a
// message of the events topic held no usable event and where it is, so
// it can be inspected and re-produced. The field names it shares with
// kafkatransport.DLQRecord (reason, detail, source, offset, size, time)
// mean the same; Topic and Partition complete the source position. The
// original value is copied (it is already stored in the events topic,
// under the same access rules) unless it exceeds maxRejectValue.
type DLQRecord struct {
	Reason    string `json:"reason"`
	Detail    string `json:"detail,omitempty"`
	Source    string `json:"source"`
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key,omitempty"`
	Size      int    `json:"size"`            // bytes of the original value
	Value     []byte `json:"value,omitempty"` // the original value (base64 in JSON)
	Time      int64  `json:"time"`            // the original message's timestamp, ns
}

// decodeMessage decodes m into ev. It returns "" when ev is a usable
// event, else the DLQ reason and the error that explains it.
func decodeMessage(m *kafka.Message, ev *event.Event) (string, error) {
	for _, h := range m.Headers {
		if h.Key == kafkatransport.HeaderVersion && string(h.Value) != strconv.Itoa(event.SchemaVersion) {
			return ReasonSchemaVersion, fmt.Errorf("event schema version %q, this analyze reads %d", h.Value, event.SchemaVersion)
		}
	}
	if err := kafkatransport.Decode(*m, ev); err != nil {
		return ReasonBadJSON, err
	}
	if ev.ID == "" {
		return ReasonNoEventID, errors.New("event without an id")
	}
	return "", nil
}

// rejectMessage builds the DLQ message for m. The key is the source
// topic and partition, so the rejects of one partition stay in order.
func rejectMessage(dlqTopic string, m *kafka.Message, reason string, cause error) kafka.Message {
	r := DLQRecord{Reason: reason, Source: SourceKafka, Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		Key: string(m.Key), Size: len(m.Value), Time: m.Time.UnixNano()}
	if cause != nil {
		r.Detail = cause.Error()
	}
	if len(m.Value) <= maxRejectValue {
		r.Value = m.Value
	}
	v, _ := json.Marshal(&r) // strings, integers and bytes: cannot fail
	return kafka.Message{Topic: dlqTopic, Key: []byte(m.Topic + "/" + strconv.Itoa(m.Partition)), Value: v, Headers: []kafka.Header{
		{Key: kafkatransport.HeaderVersion, Value: []byte(strconv.Itoa(event.SchemaVersion))},
		{Key: kafkatransport.HeaderSource, Value: []byte(SourceKafka)},
		{Key: kafkatransport.HeaderReason, Value: []byte(reason)},
	}}
}

// reasonOf returns the DLQ reason header of a message built by
// rejectMessage.
func reasonOf(m *kafka.Message) string {
	for _, h := range m.Headers {
		if h.Key == kafkatransport.HeaderReason {
			return string(h.Value)
		}
	}
	return ""
}

// dlqWriter writes the rejects of a batch to the DLQ topic, synchronously
// with RequireAll: a nil return means every in-sync replica has them, and
// only then may the batch (and the offsets of the rejected messages) be
// acknowledged. It is one more destination of the writer, retried like a
// sink.
type dlqWriter struct {
	w     *kafka.Writer
	topic string
}

func newDLQWriter(c kafkatransport.Config) (*dlqWriter, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1000,
		BatchTimeout: 2 * time.Millisecond,
		BatchBytes:   16 << 20,
		Compression:  kafka.Lz4,
		WriteTimeout: 30 * time.Second,
		Transport:    t,
	}
	return &dlqWriter{w: w, topic: c.Topics.DLQ}, nil
}

// write sends msgs (each carries its Topic) and waits for RequireAll.
func (d *dlqWriter) write(ctx context.Context, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := d.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("writing %d rejected messages to %s: %w", len(msgs), d.topic, err)
	}
	return nil
}

func (d *dlqWriter) close() error { return d.w.Close() }
