package stream

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/transport/kafkatransport"
)

// TestDecodeMessageReasons: every message is either a usable event or a
// DLQ reason, and the DLQ record names the reason and the source position.
func TestDecodeMessageReasons(t *testing.T) {
	good, err := kafkatransport.Encode(&event.Event{V: event.SchemaVersion, ID: "e1", Time: 5})
	require.NoError(t, err)
	future := good
	future.Headers = []kafka.Header{{Key: kafkatransport.HeaderVersion, Value: []byte("99")}}
	for _, tc := range []struct {
		name   string
		msg    kafka.Message
		reason string
	}{
		{name: "event", msg: good},
		{name: "no version header is read as the current schema", msg: kafka.Message{Value: good.Value}},
		{name: "bad json", msg: kafka.Message{Value: []byte(`{"id": "x",`)}, reason: ReasonBadJSON},
		{name: "not an object", msg: kafka.Message{Value: []byte(`[1,2]`)}, reason: ReasonBadJSON},
		{name: "empty value", msg: kafka.Message{}, reason: ReasonBadJSON},
		{name: "unknown schema version", msg: future, reason: ReasonSchemaVersion},
		{name: "json without an id", msg: kafka.Message{Value: []byte(`{"v":1,"time":3}`)}, reason: ReasonNoEventID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.msg
			m.Topic, m.Partition, m.Offset, m.Time = "ev", 3, 42, time.Unix(0, 1234)
			var ev event.Event
			reason, err := decodeMessage(&m, &ev)
			require.Equal(t, tc.reason, reason)
			if tc.reason == "" {
				require.NoError(t, err)
				require.Equal(t, "e1", ev.ID)
				return
			}
			require.Error(t, err)
			d := rejectMessage("the.dlq", &m, reason, err)
			require.Equal(t, "the.dlq", d.Topic)
			require.Equal(t, "ev/3", string(d.Key))
			require.Equal(t, reason, reasonOf(&d))
			var r DLQRecord
			require.NoError(t, json.Unmarshal(d.Value, &r))
			require.Equal(t, DLQRecord{Reason: reason, Detail: err.Error(), Source: SourceKafka, Topic: "ev", Partition: 3, Offset: 42,
				Key: string(m.Key), Size: len(m.Value), Value: r.Value, Time: 1234}, r)
			require.Equal(t, string(m.Value), string(r.Value), "the original value travels with the record")
		})
	}
}

func TestRejectOmitsHugeValues(t *testing.T) {
	m := kafka.Message{Topic: "ev", Value: make([]byte, maxRejectValue+1)}
	var r DLQRecord
	require.NoError(t, json.Unmarshal(rejectMessage("d", &m, ReasonBadJSON, nil).Value, &r))
	require.Nil(t, r.Value)
	require.Equal(t, maxRejectValue+1, r.Size)
}

func TestQuantileFromBuckets(t *testing.T) {
	m := newMetrics(nil)
	require.Zero(t, quantile(m.batchLatency, 0.5))
	for range 99 {
		m.batchLatency.Observe(0.0015) // bucket (0.001, 0.002]
	}
	m.batchLatency.Observe(3)
	require.InDelta(t, 0.0015, quantile(m.batchLatency, 0.5), 0.0006)
	require.LessOrEqual(t, quantile(m.batchLatency, 0.99), 0.002)
	require.Greater(t, quantile(m.batchLatency, 0.999), 2.0)
}
