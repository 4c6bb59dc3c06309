package kafkatransport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// fakeBroker stands in for Writer.WriteMessages in the unit tests: it
// fails writes at random (whole calls and kafka.WriteErrors), refuses
// messages whose value starts with "BIG" as too large, and records what
// it accepted per partition, in acceptance order.
type fakeBroker struct {
	t        *testing.T
	failRate float64

	mu       sync.Mutex
	rng      *rand.Rand
	busy     map[laneKey]bool
	log      map[laneKey][]kafka.Message
	accepted int
	ackIndex map[string]int // message value -> global acceptance index
	calls    atomic.Int64
}

func newFakeBroker(t *testing.T, failRate float64) *fakeBroker {
	return &fakeBroker{t: t, failRate: failRate, rng: rand.New(rand.NewPCG(1, 2)),
		busy: map[laneKey]bool{}, log: map[laneKey][]kafka.Message{}, ackIndex: map[string]int{}}
}

func (f *fakeBroker) write(ctx context.Context, msgs ...kafka.Message) error {
	f.calls.Add(1)
	f.mu.Lock()
	keys := map[laneKey]bool{}
	for _, m := range msgs {
		keys[laneKey{m.Topic, m.Partition}] = true
	}
	for k := range keys {
		if f.busy[k] {
			f.t.Errorf("two concurrent writes to %v", k)
		}
		f.busy[k] = true
	}
	roll := f.rng.Float64()
	delay := time.Duration(f.rng.IntN(500)) * time.Microsecond
	f.mu.Unlock()
	time.Sleep(delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range keys {
		f.busy[k] = false
	}
	if roll < f.failRate/2 {
		return errors.New("broker unreachable")
	}
	// Per partition (one produce request each), all or nothing.
	failed := map[laneKey]bool{}
	for k := range keys {
		failed[k] = f.rng.Float64() < f.failRate/2
	}
	werrs := make(kafka.WriteErrors, len(msgs))
	anyErr := false
	for i, m := range msgs {
		k := laneKey{m.Topic, m.Partition}
		switch {
		case failed[k]:
			werrs[i] = kafka.NotLeaderForPartition
		case strings.HasPrefix(string(m.Value), "BIG"):
			werrs[i] = kafka.MessageSizeTooLarge
		default:
			f.log[k] = append(f.log[k], m)
			f.ackIndex[string(m.Value)] = f.accepted
			f.accepted++
			continue
		}
		anyErr = true
	}
	if anyErr {
		return werrs
	}
	return nil
}

type testProducer struct {
	*Producer
	counts sync.Map // topic -> *atomic.Int64
}

func newTestProducer(t *testing.T, f *fakeBroker, counts map[string]int) *testProducer {
	cfg := DefaultConfig()
	cfg.Topics.Events, cfg.Topics.DLQ = "ev", "dlq"
	cfg.Producer.BatchSize, cfg.Producer.MaxInFlight = 50, 4
	cfg.Producer.BatchTimeout = time.Millisecond
	enc := &Encoder{Topics: cfg.Topics, MaxMessageBytes: cfg.Producer.MaxMessageBytes, HashKey: []byte("k")}
	p, err := NewProducer(cfg, enc, NewProducerMetrics(nil), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	tp := &testProducer{Producer: p}
	for topic, n := range counts {
		v := new(atomic.Int64)
		v.Store(int64(n))
		tp.counts.Store(topic, v)
	}
	p.write = f.write
	p.lookup = func(_ context.Context, topics []string) (map[string]int, error) {
		out := map[string]int{}
		for _, topic := range topics {
			v, ok := tp.counts.Load(topic)
			if !ok {
				return out, fmt.Errorf("topic %s: %w", topic, kafka.UnknownTopicOrPartition)
			}
			out[topic] = int(v.(*atomic.Int64).Load())
		}
		return out, nil
	}
	return tp
}

func (tp *testProducer) setCount(topic string, n int) {
	v, _ := tp.counts.Load(topic)
	v.(*atomic.Int64).Store(int64(n))
}

// feed hands n messages over 60 keys in batches of 1..30, numbered in
// hand-over order ("<seq> <key>"); every 97th is too large. It returns
// the number of batches and a counter of Done calls.
func feed(n int, big bool, in chan<- Batch, each func(i int)) (batches int, done *atomic.Int64) {
	done = new(atomic.Int64)
	rng := rand.New(rand.NewPCG(3, 4))
	var msgs []kafka.Message
	size := 1 + rng.IntN(30)
	for i := range n {
		if each != nil {
			each(i)
		}
		v := strconv.Itoa(i) + " k" + strconv.Itoa(i%60)
		if big && i%97 == 0 {
			v = "BIG " + v
		}
		msgs = append(msgs, kafka.Message{Topic: "ev", Key: []byte("k" + strconv.Itoa(i%60)), Value: []byte(v)})
		if len(msgs) == size || i == n-1 {
			in <- Batch{Msgs: msgs, Done: func() { done.Add(1) }}
			batches++
			msgs, size = nil, 1+rng.IntN(30)
		}
	}
	close(in)
	return batches, done
}

func seqOf(m kafka.Message) int {
	s := strings.TrimPrefix(string(m.Value), "BIG ")
	n, _ := strconv.Atoi(strings.Fields(s)[0])
	return n
}

// TestProducerLaneOrderWithFailures: with a quarter of the writes failing,
// every partition still gets its messages exactly once and in hand-over
// order, the too-large ones become DLQ records, and every Done runs.
func TestProducerLaneOrderWithFailures(t *testing.T) {
	f := newFakeBroker(t, 0.25)
	tp := newTestProducer(t, f, map[string]int{"ev": 6, "dlq": 3})
	in := make(chan Batch, 4)
	var batches int
	var done *atomic.Int64
	fed := make(chan struct{})
	const n = 10000
	go func() { batches, done = feed(n, true, in, nil); close(fed) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, tp.Run(ctx, in))
	<-fed
	require.EqualValues(t, batches, done.Load())

	seen := make([]bool, n)
	ids := []int{0, 1, 2, 3, 4, 5}
	dlq := 0
	for k, msgs := range f.log {
		if k.topic == "dlq" {
			dlq += len(msgs)
			continue
		}
		prev := -1
		for _, m := range msgs {
			s := seqOf(m)
			require.False(t, seen[s], "message %d written twice", s)
			seen[s] = true
			require.Greater(t, s, prev, "partition %d: message %d after %d", k.partition, s, prev)
			prev = s
			require.Equal(t, (&kafka.Hash{}).Balance(m, ids...), k.partition)
		}
	}
	big := 0
	for i, ok := range seen {
		if i%97 == 0 {
			require.False(t, ok, "too-large message %d written", i)
			big++
			continue
		}
		require.True(t, ok, "message %d lost", i)
	}
	require.Equal(t, big, dlq, "one DLQ record per too-large message")
	require.Greater(t, f.calls.Load(), int64(n/50), "writes were retried")
}

// TestProducerPartitionCountChange: when the events topic grows from 3
// to 6 partitions mid-stream, every key's last message in its old
// partition is accepted before its first in the new one, and per
// partition the order holds.
func TestProducerPartitionCountChange(t *testing.T) {
	f := newFakeBroker(t, 0.1)
	tp := newTestProducer(t, f, map[string]int{"ev": 3, "dlq": 1})
	in := make(chan Batch, 4)
	const n = 20000
	fed := make(chan struct{})
	var batches int
	var done *atomic.Int64
	go func() {
		batches, done = feed(n, false, in, func(i int) {
			if i == n/2 {
				tp.setCount("ev", 6)
				tp.refreshWanted.Store(true)
			}
		})
		close(fed)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, tp.Run(ctx, in))
	<-fed
	require.EqualValues(t, batches, done.Load())

	lastIn := map[string]map[int]int{}
	firstIn := map[string]map[int]int{}
	total := 0
	for k, msgs := range f.log {
		prev := -1
		for _, m := range msgs {
			s := seqOf(m)
			require.Greater(t, s, prev, "partition %d order", k.partition)
			prev = s
			total++
			key := string(m.Key)
			idx := f.ackIndex[string(m.Value)]
			if lastIn[key] == nil {
				lastIn[key], firstIn[key] = map[int]int{}, map[int]int{}
			}
			if _, ok := firstIn[key][k.partition]; !ok || idx < firstIn[key][k.partition] {
				firstIn[key][k.partition] = idx
			}
			lastIn[key][k.partition] = max(lastIn[key][k.partition], idx)
		}
	}
	require.Equal(t, n, total)
	moved := 0
	for key, last := range lastIn {
		if len(last) == 1 {
			continue
		}
		require.Len(t, last, 2, "key %s in more than two partitions", key)
		moved++
		var ps []int
		for p := range last {
			ps = append(ps, p)
		}
		a, b := ps[0], ps[1]
		if firstIn[key][a] > firstIn[key][b] {
			a, b = b, a
		}
		require.Less(t, last[a], firstIn[key][b], "key %s: written to partition %d before its last message in %d was accepted", key, b, a)
	}
	require.Positive(t, moved, "some keys moved to new partitions")
}
