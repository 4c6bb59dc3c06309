package kafkatransport

import (
	"fmt"
	json "github.com/goccy/go-json"
	"strconv"
	"sync"
	"sync/atomic"

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
	return joinKey(ev.Cluster, p)
}

// joinKey returns cluster + "/" + p as a new slice, in one allocation.
func joinKey(cluster, p string) []byte {
	k := make([]byte, 0, len(cluster)+1+len(p))
	k = append(k, cluster...)
	k = append(k, '/')
	return append(k, p...)
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
	return joinKey(ev.Cluster, "")
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
		Key:     KeyFor(partitionKey, ev),
		Value:   v,
		Headers: eventHeaders(ev),
	}, nil
}

// headerValues (cachedValue) caches the header value bytes of events, by string: a
// handful of distinct values (schema versions, sources, formats) that
// every message would otherwise allocate again. The cached slices are
// shared between messages and never written to; every message still gets
// its own Headers slice, so a caller may replace a header.
var headerValues sync.Map // string -> []byte

// maxHeaderValues bounds headerValues; values beyond it are allocated.
const maxHeaderValues = 256

var headerValuesN atomic.Int32

func cachedValue(s string) []byte {
	if v, ok := headerValues.Load(s); ok {
		return v.([]byte)
	}
	b := []byte(s)
	if headerValuesN.Load() < maxHeaderValues {
		if _, loaded := headerValues.LoadOrStore(s, b[:len(b):len(b)]); !loaded {
			headerValuesN.Add(1)
		}
	}
	return b
}

// versionValues are the rw-v header values of the schema versions 0..15.
var versionValues = func() (vs [16][]byte) {
	for i := range vs {
		s := strconv.Itoa(i)
		vs[i] = []byte(s)[:len(s):len(s)]
	}
	return vs
}()

// eventHeaders returns the headers of ev's message: version, source and
// format, in this order.
func eventHeaders(ev *event.Event) []kafka.Header {
	var v []byte
	if ev.V >= 0 && ev.V < len(versionValues) {
		v = versionValues[ev.V]
	} else {
		v = []byte(strconv.Itoa(ev.V))
	}
	return []kafka.Header{
		{Key: HeaderVersion, Value: v},
		{Key: HeaderSource, Value: cachedValue(ev.Source)},
		{Key: HeaderFormat, Value: cachedValue(ev.Format)},
	}
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
