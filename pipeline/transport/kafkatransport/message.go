package kafkatransport

import (
	"fmt"
	json "github.com/goccy/go-json"
	"strconv"

	"github.com/segmentio/kafka-go"

	"roachwatch/pipeline/event"
)

// Header names on every event message.
const (
	HeaderVersion = "rw-v"      // event.SchemaVersion
	HeaderSource  = "rw-source" // crdb | django
	HeaderFormat  = "rw-format" // input format
)

// Key returns the message key of an event: cluster + principal, so one
// principal's events stay in one partition, in order, and a consumer
// group can scale the stateful detectors out. Before the user is known
// (connection events), the client address stands in, then the session.
func Key(ev *event.Event) []byte {
	p := ev.User
	switch {
	case p != "":
	case ev.ClientAddr != "":
		p = "addr:" + ev.ClientAddr
	case ev.SessionID != "":
		p = "session:" + ev.SessionID
	default:
		p = "node:" + ev.Node
	}
	return []byte(ev.Cluster + "/" + p)
}

// Encode turns an event into a Kafka message (JSON value).
func Encode(ev *event.Event) (kafka.Message, error) {
	v, err := json.Marshal(ev)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	return kafka.Message{
		Key:   Key(ev),
		Value: v,
		Headers: []kafka.Header{
			{Key: HeaderVersion, Value: []byte(strconv.Itoa(ev.V))},
			{Key: HeaderSource, Value: []byte(ev.Source)},
			{Key: HeaderFormat, Value: []byte(ev.Format)},
		},
	}, nil
}

// Decode reads an event message; an unknown schema version is an error.
func Decode(m kafka.Message, ev *event.Event) error {
	for _, h := range m.Headers {
		if h.Key == HeaderVersion && string(h.Value) != strconv.Itoa(event.SchemaVersion) {
			return fmt.Errorf("message at %s/%d/%d: event schema version %s, this analyze reads %d", m.Topic, m.Partition, m.Offset, h.Value, event.SchemaVersion)
		}
	}
	*ev = event.Event{}
	if err := json.Unmarshal(m.Value, ev); err != nil {
		return fmt.Errorf("message at %s/%d/%d: %w", m.Topic, m.Partition, m.Offset, err)
	}
	return nil
}
