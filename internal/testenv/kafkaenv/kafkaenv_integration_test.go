//go:build integration

package kafkaenv_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/internal/testenv/testca"
)

const (
	messageCount = 10_000
	partitions   = 6
	distinctKeys = 50
	writeChunk   = 1_000 // messages per WriteMessages call: small calls are slow (FEASIBILITY §2)
	commitEvery  = 500
)

// TestProduceConsume writes keyed, zstd-compressed messages with acks=all and
// reads them back in a consumer group with FetchMessage + CommitMessages, over
// both listeners. Every message must arrive exactly once, each key must stay
// on one partition, and the committed offsets must cover everything.
func TestProduceConsume(t *testing.T) {
	env := kafkaenv.Broker(t)

	cases := []struct {
		name      string
		addr      string
		transport *kafka.Transport
		dialer    *kafka.Dialer
	}{
		{name: "plaintext", addr: env.Plain, transport: env.PlainTransport(), dialer: env.PlainDialer()},
		{name: "sasl_ssl", addr: env.SASL, transport: env.SASLTransport(), dialer: env.SASLDialer()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()

			suffix := time.Now().UnixNano()
			topic := fmt.Sprintf("kafkaenv-%s-%d", tc.name, suffix)
			group := fmt.Sprintf("kafkaenv-%s-%d", tc.name, suffix)
			client := &kafka.Client{Addr: kafka.TCP(tc.addr), Transport: tc.transport, Timeout: 30 * time.Second}

			kafkaenv.CreateTopicWith(t, client, topic, partitions)

			start := time.Now()
			produce(ctx, t, tc.addr, tc.transport, topic)
			t.Logf("produced %d messages in %v", messageCount, time.Since(start).Round(time.Millisecond))

			start = time.Now()
			consume(ctx, t, tc.addr, tc.dialer, topic, group)
			t.Logf("consumed and committed %d messages in %v", messageCount, time.Since(start).Round(time.Millisecond))

			offsets, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{
				GroupID: group,
				Topics:  map[string][]int{topic: partitionIDs()},
			})
			require.NoError(t, err)
			require.NoError(t, offsets.Error)
			var committed int64
			for _, p := range offsets.Topics[topic] {
				require.NoError(t, p.Error, "partition %d", p.Partition)
				committed += p.CommittedOffset
			}
			require.EqualValues(t, messageCount, committed, "sum of committed offsets")
		})
	}
}

// createTopic creates topic and waits until every partition has a leader, so
// the first write does not race the metadata propagation.

func produce(ctx context.Context, t *testing.T, addr string, tr *kafka.Transport, topic string) {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		Compression:  kafka.Zstd,
		BatchSize:    writeChunk,
		BatchTimeout: 10 * time.Millisecond,
		Transport:    tr,
	}
	defer func() { require.NoError(t, w.Close()) }()

	msgs := make([]kafka.Message, 0, writeChunk)
	for i := 0; i < messageCount; i++ {
		msgs = append(msgs, kafka.Message{
			Key:   []byte(keyOf(i)),
			Value: []byte(fmt.Sprintf(`{"seq":%d,"stmt":"SELECT * FROM users WHERE id = $1"}`, i)),
		})
		if len(msgs) < writeChunk && i < messageCount-1 {
			continue
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			var werrs kafka.WriteErrors
			if errors.As(err, &werrs) {
				t.Fatalf("writing messages up to %d: %d of %d failed, first: %v", i, werrs.Count(), len(msgs), firstError(werrs))
			}
			t.Fatalf("writing messages up to %d: %v", i, err)
		}
		msgs = msgs[:0]
	}
}

func consume(ctx context.Context, t *testing.T, addr string, dialer *kafka.Dialer, topic, group string) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           []string{addr},
		GroupID:           group,
		Topic:             topic,
		Dialer:            dialer,
		StartOffset:       kafka.FirstOffset,
		MinBytes:          1,
		MaxBytes:          4 << 20,
		MaxWait:           250 * time.Millisecond,
		CommitInterval:    0, // synchronous commits: CommitMessages returns after the broker accepted them
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		// The first group on a fresh broker waits for __consumer_offsets to be created;
		// the default 5 s backoff would make that wait most of the test's run time.
		JoinGroupBackoff: 250 * time.Millisecond,
	})
	defer func() { require.NoError(t, r.Close()) }()

	seen := make(map[string]bool, messageCount)
	keyPartition := make(map[string]int, distinctKeys)
	pending := make([]kafka.Message, 0, commitEvery)
	for len(seen) < messageCount {
		m, err := r.FetchMessage(ctx)
		require.NoError(t, err, "fetching after %d of %d messages", len(seen), messageCount)
		v := string(m.Value)
		if seen[v] {
			t.Fatalf("duplicate delivery of %s (partition %d offset %d)", v, m.Partition, m.Offset)
		}
		seen[v] = true
		k := string(m.Key)
		if p, ok := keyPartition[k]; ok && p != m.Partition {
			t.Fatalf("key %s on partitions %d and %d: the Hash balancer must keep a key on one partition", k, p, m.Partition)
		}
		keyPartition[k] = m.Partition

		pending = append(pending, m)
		if len(pending) == commitEvery || len(seen) == messageCount {
			require.NoError(t, r.CommitMessages(ctx, pending...), "committing after %d messages", len(seen))
			pending = pending[:0]
		}
	}
	require.Len(t, keyPartition, distinctKeys)

	// Nothing beyond the messageCount we wrote may show up.
	extraCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m, err := r.FetchMessage(extraCtx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "unexpected extra message %q", m.Value)
}

// TestSASLListenerAuth checks the SASL_SSL listener both ways: the right
// credentials work with every enabled mechanism, and a wrong password or an
// untrusted CA fail promptly with an error that names the cause.
func TestSASLListenerAuth(t *testing.T) {
	env := kafkaenv.Broker(t)
	otherCA := testca.UnrelatedCA(t, "unrelated test CA")
	const limit = 15 * time.Second

	cases := []struct {
		name string
		env  func(e kafkaenv.Env) kafkaenv.Env
		mech func(e kafkaenv.Env) (sasl.Mechanism, error) // nil: SCRAM-SHA-512 from Env
		want func(t *testing.T, err error)
	}{
		{
			name: "scram-sha-512 ok",
			want: func(t *testing.T, err error) { require.NoError(t, err) },
		},
		{
			name: "scram-sha-256 ok",
			mech: func(e kafkaenv.Env) (sasl.Mechanism, error) { return scram.Mechanism(scram.SHA256, e.User, e.Password) },
			want: func(t *testing.T, err error) { require.NoError(t, err) },
		},
		{
			name: "plain ok",
			mech: func(e kafkaenv.Env) (sasl.Mechanism, error) {
				return plain.Mechanism{Username: e.User, Password: e.Password}, nil
			},
			want: func(t *testing.T, err error) { require.NoError(t, err) },
		},
		{
			name: "wrong password",
			env:  func(e kafkaenv.Env) kafkaenv.Env { e.Password = "not-" + e.Password; return e },
			want: func(t *testing.T, err error) {
				require.ErrorIs(t, err, kafka.SASLAuthenticationFailed)
			},
		},
		{
			name: "unknown user",
			env:  func(e kafkaenv.Env) kafkaenv.Env { e.User = "nobody"; return e },
			want: func(t *testing.T, err error) {
				require.ErrorIs(t, err, kafka.SASLAuthenticationFailed)
			},
		},
		{
			name: "wrong CA",
			env:  func(e kafkaenv.Env) kafkaenv.Env { e.CA = otherCA; return e },
			want: func(t *testing.T, err error) {
				var unknown x509.UnknownAuthorityError
				require.ErrorAs(t, err, &unknown)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env
			if tc.env != nil {
				e = tc.env(e)
			}
			mech := e.Mechanism
			if tc.mech != nil {
				mech = func() (sasl.Mechanism, error) { return tc.mech(e) }
			}
			m, err := mech()
			require.NoError(t, err)
			tlsCfg, err := e.TLSConfig()
			require.NoError(t, err)

			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()

			t.Run("dialer", func(t *testing.T) {
				d := &kafka.Dialer{Timeout: limit, TLS: tlsCfg, SASLMechanism: m}
				start := time.Now()
				conn, err := d.DialContext(ctx, "tcp", e.SASL)
				if err == nil {
					_, err = conn.ApiVersions()
					require.NoError(t, conn.Close())
				}
				t.Logf("dial took %v, err: %v", time.Since(start).Round(time.Millisecond), err)
				require.Less(t, time.Since(start), limit)
				tc.want(t, err)
			})
			t.Run("transport", func(t *testing.T) {
				tr := &kafka.Transport{DialTimeout: limit, TLS: tlsCfg, SASL: m}
				defer tr.CloseIdleConnections()
				client := &kafka.Client{Addr: kafka.TCP(e.SASL), Transport: tr, Timeout: limit}
				start := time.Now()
				_, err := client.ApiVersions(ctx, &kafka.ApiVersionsRequest{})
				t.Logf("request took %v, err: %v", time.Since(start).Round(time.Millisecond), err)
				require.Less(t, time.Since(start), limit)
				tc.want(t, err)
			})
		})
	}
}

func keyOf(i int) string { return fmt.Sprintf("principal-%02d", i%distinctKeys) }

func partitionIDs() []int {
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

func firstError(errs kafka.WriteErrors) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
