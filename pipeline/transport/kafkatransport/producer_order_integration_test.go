//go:build integration

package kafkatransport_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/pipeline/transport/kafkatransport"
)

// orderPartitions is the partition count of the test topic: the default of
// kafka.topics.partitions.
const orderPartitions = 6

// TestProducerPartitionOrder hands the producer many small batches of keyed
// messages numbered in hand-over order and reads every partition back: per
// partition the numbers must be strictly increasing (the order promise
// analyze's per-partition engines rely on), every message must be there
// exactly once, each key in the partition kafka.Hash picks for it, and
// every Batch's Done must have run. Small batch_size and max_in_flight 4
// make many concurrent writes: before the producer wrote each partition
// through one lane at a time, this failed 10 runs out of 10.
//
// ROACHWATCH_ORDER_TEST_MESSAGES overrides the message count (30000).
func TestProducerPartitionOrder(t *testing.T) {
	env := kafkaenv.Broker(t)
	n := 30_000
	if s := os.Getenv("ROACHWATCH_ORDER_TEST_MESSAGES"); s != "" {
		v, err := strconv.Atoi(s)
		require.NoError(t, err)
		n = v
	}
	const keys, perBatch = 60, 40

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topic := orderTopic(ctx, t, env)

	cfg := kafkatransport.DefaultConfig()
	cfg.Brokers = []string{env.Plain}
	cfg.TLS.Enabled = false
	cfg.Topics.Events, cfg.Topics.DLQ = topic, topic+".dlq"
	cfg.Producer.BatchSize = 100
	cfg.Producer.BatchTimeout = 5 * time.Millisecond
	cfg.Producer.MaxInFlight = 4
	require.NoError(t, cfg.Validate())
	enc := &kafkatransport.Encoder{Topics: cfg.Topics, MaxMessageBytes: cfg.Producer.MaxMessageBytes, HashKey: []byte("k")}
	log := slog.New(slog.DiscardHandler)
	prod, err := kafkatransport.NewProducer(cfg, enc, kafkatransport.NewProducerMetrics(nil), log)
	require.NoError(t, err)

	in := make(chan kafkatransport.Batch, 8)
	var done atomic.Int64
	go func() {
		defer close(in)
		var msgs []kafka.Message
		for i := range n {
			msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(orderKey(i % keys)),
				Value: []byte(strconv.Itoa(i) + " " + strings.Repeat("x", 100))})
			if len(msgs) == perBatch || i == n-1 {
				in <- kafkatransport.Batch{Msgs: msgs, Done: func() { done.Add(1) }}
				msgs = nil
			}
		}
	}()
	batches := (n + perBatch - 1) / perBatch
	start := time.Now()
	require.NoError(t, prod.Run(ctx, in))
	elapsed := time.Since(start)
	require.NoError(t, prod.Close())
	require.EqualValues(t, batches, done.Load(), "every Batch's Done runs once")
	t.Logf("produced %d messages in %d batches in %s (%.0f msg/s)", n, batches, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())

	seen := make([]bool, n)
	keyPart := map[string]int{}
	ids := make([]int, orderPartitions)
	for p := range ids {
		ids[p] = p
	}
	var inversions []string
	for p := range orderPartitions {
		prev, count := -1, 0
		for _, m := range readPartition(ctx, t, env, topic, p) {
			seq, err := strconv.Atoi(strings.Fields(string(m.Value))[0])
			require.NoError(t, err)
			require.False(t, seen[seq], "message %d arrived twice", seq)
			seen[seq] = true
			count++
			if seq <= prev && len(inversions) < 5 {
				inversions = append(inversions, fmt.Sprintf("partition %d offset %d: message %d after %d", p, m.Offset, seq, prev))
			}
			prev = max(prev, seq)
			k := string(m.Key)
			if q, ok := keyPart[k]; ok {
				require.Equal(t, q, p, "key %s in two partitions", k)
			}
			keyPart[k] = p
			require.Equal(t, (&kafka.Hash{}).Balance(m, ids...), p, "key %s not in the partition kafka.Hash picks", k)
		}
		t.Logf("partition %d: %d messages", p, count)
	}
	for i, ok := range seen {
		require.True(t, ok, "message %d never arrived", i)
	}
	require.Empty(t, inversions, "per-partition order broken")
}

func orderKey(i int) string { return fmt.Sprintf("cluster-a/principal-%02d", i) }

// orderTopic creates a fresh topic of orderPartitions partitions and waits
// for every partition's leader; it is deleted when the test ends.
func orderTopic(_ context.Context, t testing.TB, env kafkaenv.Env) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	topic := "rwit.producer-order." + hex.EncodeToString(b)
	env.CreateTopic(t, topic, orderPartitions)
	return topic
}

// readPartition reads partition p of topic from the first offset to the
// high watermark.
func readPartition(ctx context.Context, t *testing.T, env kafkaenv.Env, topic string, p int) []kafka.Message {
	t.Helper()
	conn, err := (&kafka.Dialer{Timeout: 10 * time.Second}).DialLeader(ctx, "tcp", env.Plain, topic, p)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	first, last, err := conn.ReadOffsets()
	require.NoError(t, err)
	var out []kafka.Message
	for off := first; off < last; {
		_, err := conn.Seek(off, kafka.SeekAbsolute)
		require.NoError(t, err)
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
		b := conn.ReadBatch(1, 8<<20)
		for {
			m, err := b.ReadMessage()
			if err != nil {
				break
			}
			out = append(out, m)
			off = m.Offset + 1
		}
		require.NoError(t, b.Close(), "reading partition %d at offset %d of %d", p, off, last)
	}
	return out
}

// BenchmarkProducer measures Producer.Run against the real broker with the
// default producer settings (batch_size 5000, max_in_flight 4, zstd) into a
// 6-partition topic: ~800-byte messages over 1000 keys, handed over in
// batches of 500 like ingest's tail batches. One op is one message:
//
//	go test -tags integration -run '^$' -bench BenchmarkProducer -benchtime 300000x ./pipeline/transport/kafkatransport/
func BenchmarkProducer(b *testing.B) {
	env := kafkaenv.Broker(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	topic := orderTopic(ctx, b, env)
	cfg := kafkatransport.DefaultConfig()
	cfg.Brokers = []string{env.Plain}
	cfg.TLS.Enabled = false
	cfg.Topics.Events, cfg.Topics.DLQ = topic, topic+".dlq"
	enc := &kafkatransport.Encoder{Topics: cfg.Topics, MaxMessageBytes: cfg.Producer.MaxMessageBytes, HashKey: []byte("k")}
	prod, err := kafkatransport.NewProducer(cfg, enc, kafkatransport.NewProducerMetrics(nil), slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	defer func() { _ = prod.Close() }()
	const perBatch = 500
	var batches []kafkatransport.Batch
	var msgs []kafka.Message
	pad := strings.Repeat("statement text ", 50)
	for i := range b.N {
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(orderKey(i % 1000)),
			Value: []byte(fmt.Sprintf(`{"seq":%d,"stmt":%q}`, i, pad))})
		if len(msgs) == perBatch || i == b.N-1 {
			batches = append(batches, kafkatransport.Batch{Msgs: msgs, Done: func() {}})
			msgs = nil
		}
	}
	in := make(chan kafkatransport.Batch, 8)
	b.ResetTimer()
	go func() {
		for _, bt := range batches {
			in <- bt
		}
		close(in)
	}()
	require.NoError(b, prod.Run(ctx, in))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
