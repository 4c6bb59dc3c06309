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

// Partition keys: the values of kafka.producer.partition_key, which picks
// the message key of events and so what shares a partition (and a
// detector engine in analyze).
const (
	// PartitionKeyPrincipal keys by cluster + principal (Key): the default.
	// Per-principal state is complete in one partition and analyze scales
	// out over all partitions, but state that spans principals (spraying
	// from one address over many users, cluster-wide audit silence, the
	// anomaly warm-up) is split across partitions.
	PartitionKeyPrincipal = "principal"
	// PartitionKeyCluster keys by cluster alone (ClusterKey): every event
	// of a cluster is in one partition, so every rule sees what the
	// embedded run sees; parallelism is only across clusters.
	PartitionKeyCluster = "cluster"
)

// PartitionKeys lists the valid kafka.producer.partition_key values.
var PartitionKeys = []string{PartitionKeyPrincipal, PartitionKeyCluster}

// ClusterKey returns the message key of an event under partition_key
// cluster: the cluster followed by "/" (the prefix of Key), never empty,
// so events without a cluster id (Django's) share one partition too.
func ClusterKey(ev *event.Event) []byte {
	return []byte(ev.Cluster + "/")
}

// KeyFor returns the message key of ev under partitionKey (one of
// PartitionKeys; "" means principal).
func KeyFor(partitionKey string, ev *event.Event) []byte {
	if partitionKey == PartitionKeyCluster {
		return ClusterKey(ev)
	}
	return Key(ev)
}

// Encode turns an event into a Kafka message (JSON value), keyed by
// principal (Key).
func Encode(ev *event.Event) (kafka.Message, error) {
	return EncodeKeyed(ev, PartitionKeyPrincipal)
}

// EncodeKeyed turns an event into a Kafka message (JSON value), keyed as
// partitionKey says (KeyFor).
func EncodeKeyed(ev *event.Event, partitionKey string) (kafka.Message, error) {
	v, err := json.Marshal(ev)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	return kafka.Message{
		Key:   KeyFor(partitionKey, ev),
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
