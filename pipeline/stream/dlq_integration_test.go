//go:build integration

package stream_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/pipeline/stream"
	"roachwatch/pipeline/stream/streamtest"
	"roachwatch/pipeline/transport/kafkatransport"
)

// Undecodable messages in the middle of the events topic go to the DLQ
// topic with their reason and source position, are counted and committed
// past; the events around them all arrive.
func TestUndecodableMessagesGoToTheDLQ(t *testing.T) {
	env := kafkaenv.Broker(t)
	f := loggenFixture(t)
	kc := kafkaConfig(t, env, 2)
	ctx := context.Background()
	require.NoError(t, streamtest.CreateTopic(ctx, kc, kc.Topics.Events, 2))
	half := len(f.events) / 2
	require.NoError(t, streamtest.Produce(ctx, kc, kc.Topics.Events, f.events[:half], 5000))

	future := []kafka.Header{{Key: kafkatransport.HeaderVersion, Value: []byte("99")}}
	bad := []struct {
		partition int
		msg       kafka.Message
		reason    string
	}{
		{0, kafka.Message{Value: []byte(`{"id":"x","time":`)}, stream.ReasonBadJSON},
		{1, kafka.Message{Value: []byte("not json at all")}, stream.ReasonBadJSON},
		{1, kafka.Message{Value: []byte(`{"v":2,"id":"from-the-future"}`), Headers: future}, stream.ReasonSchemaVersion},
		{0, kafka.Message{Value: []byte(`{"v":1}`)}, stream.ReasonNoEventID},
		{0, kafka.Message{Key: []byte("k"), Value: nil}, stream.ReasonBadJSON},
	}
	tr, err := kc.Transport()
	require.NoError(t, err)
	for _, b := range bad {
		p := b.partition
		w := &kafka.Writer{Addr: kafka.TCP(kc.Brokers...), Topic: kc.Topics.Events, RequiredAcks: kafka.RequireAll, Transport: tr,
			Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return p })}
		require.NoError(t, w.WriteMessages(ctx, b.msg))
		require.NoError(t, w.Close())
	}
	require.NoError(t, streamtest.Produce(ctx, kc, kc.Topics.Events, f.events[half:], 5000))

	m := newMember(t, f, kc)
	runUntilDrained(t, m)
	require.Zero(t, checkEvents(t, f.events, m.events), "every event arrives once; the bad messages blocked nothing")

	// The DLQ holds exactly the bad messages, each pointing at its source.
	cl, err := kc.NewClient()
	require.NoError(t, err)
	first, end, err := kafkatransport.PartitionEnds(ctx, cl, kc.Topics.DLQ, []int{0, 1})
	require.NoError(t, err)
	var recs []stream.DLQRecord
	for p := range 2 {
		for _, dm := range readRange(t, kc, kc.Topics.DLQ, p, first[p], end[p]) {
			var r stream.DLQRecord
			require.NoError(t, json.Unmarshal(dm.Value, &r))
			require.Equal(t, r.Reason, headerOf(dm, kafkatransport.HeaderReason))
			recs = append(recs, r)
		}
	}
	require.Len(t, recs, len(bad))
	seen := map[string]int{}
	for _, r := range recs {
		require.Equal(t, kc.Topics.Events, r.Topic)
		require.NotEmpty(t, r.Detail)
		src := readRange(t, kc, r.Topic, r.Partition, r.Offset, r.Offset+1)[0]
		require.Equal(t, string(src.Value), string(r.Value), "the record points at the rejected message")
		seen[r.Reason]++
	}
	want := map[string]int{}
	for _, b := range bad {
		want[b.reason]++
	}
	require.Equal(t, want, seen)
	for reason, n := range want {
		require.Equal(t, float64(n), testutil.ToFloat64(metricVec(t, m.reg, "roachwatch_stream_dlq_messages_total", reason)), reason)
	}

	// Committed past: the group's offsets are at the partitions' ends.
	_, evEnd, err := kafkatransport.PartitionEnds(ctx, cl, kc.Topics.Events, []int{0, 1})
	require.NoError(t, err)
	res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: kc.Consumer.GroupID, Topics: map[string][]int{kc.Topics.Events: {0, 1}}})
	require.NoError(t, err)
	for _, p := range res.Topics[kc.Topics.Events] {
		require.Equal(t, evEnd[p.Partition], p.CommittedOffset, "partition %d", p.Partition)
	}
}

// readRange returns the messages [from, to) of one partition.
func readRange(t *testing.T, kc kafkatransport.Config, topic string, partition int, from, to int64) []kafka.Message {
	t.Helper()
	if to <= from {
		return nil
	}
	r, err := kc.NewPartitionReader(topic, partition, from)
	require.NoError(t, err)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafka.Message
	for {
		m, err := r.FetchMessage(ctx)
		require.NoError(t, err)
		out = append(out, m)
		if m.Offset >= to-1 {
			return out
		}
	}
}

func headerOf(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
