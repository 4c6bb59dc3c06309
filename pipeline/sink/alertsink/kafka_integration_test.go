//go:build integration

package alertsink

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/pipeline/transport/kafkatransport"
)

// Alerts written concurrently for many keys arrive on a real topic: exactly
// the expected set, in order per key, keyed by incident key, each message
// valid against schemas/alert.schema.json.
func TestKafkaRouteDeliversInOrderPerKey(t *testing.T) {
	env := kafkaenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("roachwatch.alerts.test-%d", time.Now().UnixNano())
	env.CreateTopic(t, topic, 3)

	kc := kafkatransport.DefaultConfig()
	kc.Brokers, kc.TLS.Enabled = []string{env.Plain}, false
	cfg := testConfig(RouteConfig{Name: "bus", Kind: KindKafka, Topic: topic, Timeout: 10 * time.Second})
	cfg.RealertOn = []string{RealertCount, RealertSeverity}
	r, err := New(cfg, Options{Rules: testRules, Kafka: kc})
	require.NoError(t, err)

	const keys, versions = 8, 10
	want := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k := range keys {
		wg.Go(func() {
			user := fmt.Sprintf("svc%02d", k)
			for v := range int64(versions) {
				f := fnd("RW-TLS-001", user, "", detectors.SeverityHigh, v+1, t0.Add(time.Duration(v)*time.Second))
				if err := r.WriteFindings(ctx, []detectors.Finding{f, f}); err != nil { // the duplicate is deduplicated
					t.Error(err)
				}
				mu.Lock()
				want[fmt.Sprintf("%s/%d", user, v+1)] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(t, r.Close())
	require.Equal(t, float64(keys*versions), val(r.m.Sent.WithLabelValues(KindKafka, "high")))

	got := map[string]bool{}
	last := map[string]int64{}
	keyOf := map[string]string{}
	for p := range 3 {
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{env.Plain}, Topic: topic, Partition: p, Dialer: env.PlainDialer(), MaxWait: 100 * time.Millisecond})
		hw, err := readAll(ctx, rd, func(m kafka.Message) {
			validateAlert(t, m.Value)
			var a Alert
			require.NoError(t, json.Unmarshal(m.Value, &a))
			require.Equal(t, a.IncidentKey, string(m.Key))
			u := a.Principal.User
			require.Equal(t, last[u]+1, a.Count, "%s out of order", u)
			last[u] = a.Count
			if prev, ok := keyOf[u]; ok {
				require.Equal(t, prev, fmt.Sprint(p), "one key, one partition")
			}
			keyOf[u] = fmt.Sprint(p)
			id := fmt.Sprintf("%s/%d", u, a.Count)
			require.False(t, got[id], "duplicate %s", id)
			got[id] = true
		})
		require.NoError(t, err, "partition %d (high watermark %d)", p, hw)
		require.NoError(t, rd.Close())
	}
	require.Equal(t, want, got)
}

// With kafka.topics.create the route creates a missing topic itself.
func TestKafkaRouteCreatesItsTopic(t *testing.T) {
	env := kafkaenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := fmt.Sprintf("roachwatch.alerts.created-%d", time.Now().UnixNano())
	client := &kafka.Client{Addr: kafka.TCP(env.Plain), Transport: env.PlainTransport(), Timeout: 10 * time.Second}
	t.Cleanup(func() {
		_, _ = client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	kc := kafkatransport.DefaultConfig()
	kc.Brokers, kc.TLS.Enabled, kc.Topics.Partitions, kc.Topics.ReplicationFactor = []string{env.Plain}, false, 2, 1
	r, err := New(testConfig(RouteConfig{Name: "bus", Kind: KindKafka, Topic: topic, Timeout: 10 * time.Second}), Options{Rules: testRules, Kafka: kc})
	require.NoError(t, err)
	f := fnd("RW-SQLI-001", "web", "", detectors.SeverityCritical, 1, t0)
	require.NoError(t, r.WriteFindings(ctx, []detectors.Finding{f}))
	require.NoError(t, r.Close())
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	require.NoError(t, err)
	require.Len(t, md.Topics, 1)
	require.Len(t, md.Topics[0].Partitions, 2)
	n := 0
	for p := range 2 {
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{env.Plain}, Topic: topic, Partition: p, Dialer: env.PlainDialer(), MaxWait: 100 * time.Millisecond})
		_, err := readAll(ctx, rd, func(m kafka.Message) {
			var a Alert
			require.NoError(t, json.Unmarshal(m.Value, &a))
			require.Equal(t, f.ID, a.FindingID)
			n++
		})
		require.NoError(t, err)
		require.NoError(t, rd.Close())
	}
	require.Equal(t, 1, n)
}

// readAll reads a partition up to its high watermark.
func readAll(ctx context.Context, rd *kafka.Reader, fn func(kafka.Message)) (int64, error) {
	conn, err := kafka.DialLeader(ctx, "tcp", rd.Config().Brokers[0], rd.Config().Topic, rd.Config().Partition)
	if err != nil {
		return 0, err
	}
	hw, err := conn.ReadLastOffset()
	_ = conn.Close()
	if err != nil {
		return 0, err
	}
	for off := int64(0); off < hw; {
		m, err := rd.ReadMessage(ctx)
		if err != nil {
			return hw, err
		}
		fn(m)
		off = m.Offset + 1
	}
	return hw, nil
}
