//go:build integration

package stream_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/internal/config"
	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/sink"
	"roachwatch/pipeline/sink/filesink"
	"roachwatch/pipeline/stream"
	"roachwatch/pipeline/stream/streamtest"
	"roachwatch/pipeline/transport/kafkatransport"
)

type fixture struct {
	cfg      config.Config
	events   []event.Event
	embedded []detectors.Finding
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

// loggenFixture: seed 1, 1 day, 3000 entries/day, decoded in event-time
// order, and the embedded run's findings over it.
func loggenFixture(t *testing.T) fixture {
	t.Helper()
	fixOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rw-stream-loggen-")
		if err != nil {
			fixErr = err
			return
		}
		lc := loggen.DefaultConfig()
		lc.Out, lc.Seed, lc.Days, lc.Rate = dir, 1, 1, 3000
		if _, fixErr = loggen.Generate(lc); fixErr != nil {
			return
		}
		fix.cfg = config.Default()
		fix.cfg.Redaction.Key = "stream-test-key-0123456789"
		if fix.events, fixErr = streamtest.Decode(context.Background(), fix.cfg, dir); fixErr != nil {
			return
		}
		fix.embedded, fixErr = streamtest.Embedded(fix.cfg, fix.events)
		_ = os.RemoveAll(dir)
	})
	require.NoError(t, fixErr)
	return fix
}

// kafkaConfig points at the test broker's PLAINTEXT listener with fresh
// topic and group names.
func kafkaConfig(t *testing.T, env kafkaenv.Env, partitions int) kafkatransport.Config {
	kc := kafkatransport.DefaultConfig()
	kc.Brokers = []string{env.Plain}
	kc.TLS.Enabled = false
	name := fmt.Sprintf("rwst-%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
	kc.Topics = kafkatransport.TopicsConfig{Events: name + ".events", DLQ: name + ".dlq", Alerts: name + ".alerts", State: name + ".state",
		Partitions: partitions, ReplicationFactor: 1, Create: true}
	kc.Consumer.GroupID = name
	kc.Consumer.BatchSize = 2000
	kc.Consumer.BatchTimeout = 100 * time.Millisecond
	kc.Consumer.SessionTimeout = 6 * time.Second
	kc.Consumer.RebalanceTimeout = 10 * time.Second
	kc.Consumer.HeartbeatInterval = 500 * time.Millisecond
	return kc
}

type member struct {
	st       *stream.Stream
	reg      *prometheus.Registry
	findings string
	events   string
}

func newMember(t *testing.T, f fixture, kc kafkatransport.Config, extra ...sink.Sink) *member {
	dir := t.TempDir()
	m := &member{reg: prometheus.NewRegistry(), findings: filepath.Join(dir, "findings.jsonl"), events: filepath.Join(dir, "events.jsonl")}
	fs, err := filesink.New(filesink.Config{FindingsPath: m.findings, EventsPath: m.events})
	require.NoError(t, err)
	alerts, err := kafkatransport.NewAlertSink(kc)
	require.NoError(t, err)
	t.Cleanup(func() { _ = fs.Close(); _ = alerts.Close() })
	sc := stream.DefaultConfig()
	sc.ExitWhenIdle = 3 * time.Second
	sc.SnapshotInterval = 2 * time.Second
	sc.CommitInterval = 200 * time.Millisecond
	sc.ShutdownGrace = 20 * time.Second
	m.st, err = stream.New(stream.Options{Config: sc, Kafka: kc,
		NewDetectors: func() []detectors.Detector { return all.Detectors(f.cfg.Detectors) }, Rules: f.cfg.Detectors.Rules,
		Sinks: append([]sink.Sink{fs, alerts}, extra...), Registerer: m.reg})
	require.NoError(t, err)
	return m
}

func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var out []T
	for sc.Scan() {
		var v T
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// lastVersions keeps the newest version per id (largest Count, then
// LastSeen, then later line).
func lastVersions(fs []detectors.Finding) map[string]detectors.Finding {
	out := map[string]detectors.Finding{}
	for _, f := range fs {
		if o, ok := out[f.ID]; ok && (o.Count > f.Count || o.Count == f.Count && o.LastSeen.After(f.LastSeen)) {
			continue
		}
		out[f.ID] = f
	}
	return out
}

func jsonOf(t *testing.T, m map[string]detectors.Finding) string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b []byte
	for _, id := range ids {
		j, err := json.Marshal(m[id])
		require.NoError(t, err)
		b = append(append(b, j...), '\n')
	}
	return string(b)
}

// checkEvents: every produced event id arrives, and once after dedup.
func checkEvents(t *testing.T, want []event.Event, files ...string) (dups int) {
	seen := map[string]int{}
	for _, p := range files {
		for _, ev := range readLines[event.Event](t, p) {
			seen[ev.ID]++
		}
	}
	wantIDs := map[string]bool{}
	for i := range want {
		wantIDs[want[i].ID] = true
		require.Contains(t, seen, want[i].ID, "event %d lost", i)
	}
	for id, n := range seen {
		require.True(t, wantIDs[id], "unknown event id %s", id)
		dups += n - 1
	}
	return dups
}

func runUntilDrained(t *testing.T, ms ...*member) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() { require.NoError(t, m.st.Run(ctx)) })
	}
	wg.Wait()
}

// perPrincipal reports whether a rule's state is keyed by principal, so
// partitioning by cluster/principal cannot change its findings.
func perPrincipal(rule string) bool {
	switch rule {
	case "RW-AUTH-001", "RW-AUDIT-001", "RW-ANOM-005": // spraying by address, cluster-wide silence/config: cross-principal
		return false
	}
	return true
}

func TestEndToEndMatchesEmbedded(t *testing.T) {
	env := kafkaenv.Broker(t)
	f := loggenFixture(t)
	require.NotEmpty(t, f.embedded)
	for _, parts := range []int{1, 6} {
		t.Run(fmt.Sprintf("%d_partitions", parts), func(t *testing.T) {
			kc := kafkaConfig(t, env, parts)
			ctx := context.Background()
			require.NoError(t, streamtest.CreateTopic(ctx, kc, kc.Topics.Events, parts))
			require.NoError(t, streamtest.Produce(ctx, kc, kc.Topics.Events, f.events, 5000))
			m := newMember(t, f, kc)
			start := time.Now()
			runUntilDrained(t, m)
			t.Logf("%d events through %d partition(s) in %s", len(f.events), parts, time.Since(start).Round(time.Millisecond))

			require.Zero(t, checkEvents(t, f.events, m.events), "no duplicates without crashes")
			got := lastVersions(readLines[detectors.Finding](t, m.findings))
			want := byID(f.embedded)
			if parts == 1 {
				require.Equal(t, jsonOf(t, want), jsonOf(t, got), "findings differ from the embedded run")
				return
			}
			wantPP, gotPP := map[string]detectors.Finding{}, map[string]detectors.Finding{}
			differ := map[string]bool{}
			for id, w := range want {
				if perPrincipal(w.RuleID) {
					wantPP[id] = w
				} else if g, ok := got[id]; !ok || jsonOf(t, map[string]detectors.Finding{id: g}) != jsonOf(t, map[string]detectors.Finding{id: w}) {
					differ[w.RuleID] = true
				}
			}
			for id, g := range got {
				if perPrincipal(g.RuleID) {
					gotPP[id] = g
				}
			}
			t.Logf("cross-principal rules that differ with %d partitions: %v", parts, differ)
			// RW-TLS-001 follows a session from its connection events,
			// which ingest keys by client address (the user is not known
			// yet), to its statements, keyed by user: with several
			// partitions a session's events can land in two partitions, so
			// the incident is found (same id) but may miss occurrences.
			for id, w := range wantPP {
				g, ok := gotPP[id]
				require.True(t, ok, "finding %s (%s) missing with %d partitions", id, w.RuleID, parts)
				if w.RuleID == "RW-TLS-001" {
					if w.Count != g.Count {
						t.Logf("RW-TLS-001 %s@%s: count %d embedded, %d with %d partitions", w.Principal.User, w.Principal.ClientAddr, w.Count, g.Count, parts)
					}
					continue
				}
				require.Equal(t, jsonOf(t, map[string]detectors.Finding{id: w}), jsonOf(t, map[string]detectors.Finding{id: g}), "finding %s (%s)", id, w.RuleID)
			}
			require.Len(t, gotPP, len(wantPP), "no extra findings")
		})
	}
}

// Two members; the second joins mid-stream. Moved partitions are restored
// from the state topic, so findings (counts included) equal a single
// owner's.
func TestRebalanceHandsOverState(t *testing.T) {
	env := kafkaenv.Broker(t)
	f := loggenFixture(t)
	kc := kafkaConfig(t, env, 6)
	kc.Consumer.BatchSize = 200
	ctx := context.Background()
	require.NoError(t, streamtest.CreateTopic(ctx, kc, kc.Topics.Events, 6))
	require.NoError(t, streamtest.Produce(ctx, kc, kc.Topics.Events, f.events, 5000))

	a := newMember(t, f, kc, &slowSink{delay: 20 * time.Millisecond})
	b := newMember(t, f, kc)
	rctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(t, a.st.Run(rctx)) })
	require.Eventually(t, func() bool {
		fi, err := os.Stat(a.events)
		return err == nil && fi.Size() > 0
	}, time.Minute, 50*time.Millisecond)
	wg.Go(func() { require.NoError(t, b.st.Run(rctx)) })
	wg.Wait()

	restoredA := testutil.ToFloat64(metricVec(t, a.reg, "roachwatch_stream_state_restores_total", "snapshot"))
	restoredB := testutil.ToFloat64(metricVec(t, b.reg, "roachwatch_stream_state_restores_total", "snapshot"))
	t.Logf("restored from snapshots: first member %v, second member %v", restoredA, restoredB)
	require.Positive(t, restoredA+restoredB, "moved partitions must be restored from the state topic")
	dups := checkEvents(t, f.events, a.events, b.events)
	t.Logf("duplicates around the hand-over: %d", dups)

	got := lastVersions(append(readLines[detectors.Finding](t, a.findings), readLines[detectors.Finding](t, b.findings)...))
	want := byID(f.embedded)
	// Every incident is found. Counts carry over only for detectors that
	// implement detectors.Stateful (the unit test TestHandOverKeepsState
	// proves that path); detectors that keep private state without it
	// (today tlsrule's sessions and cryptorule's per-host state) restart
	// empty on the new owner, which this logs.
	for id, w := range want {
		if !perPrincipal(w.RuleID) {
			continue
		}
		g, ok := got[id]
		require.True(t, ok, "finding %s (%s) lost in the hand-over", id, w.RuleID)
		if g.Count != w.Count {
			t.Logf("%s %s: count %d single owner, %d across the hand-over (detector not Stateful)", w.RuleID, id, w.Count, g.Count)
		}
	}
}

func metricVec(t *testing.T, reg *prometheus.Registry, name, label string) prometheus.Collector {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					g.Set(m.GetCounter().GetValue())
				}
			}
		}
	}
	return g
}

// slowSink delays every write (and acknowledges it).
type slowSink struct{ delay time.Duration }

func (s *slowSink) WriteEvents(ctx context.Context, _ []event.Event) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.delay):
		return nil
	}
}
func (s *slowSink) WriteFindings(context.Context, []detectors.Finding) error { return nil }
func (s *slowSink) Close() error                                             { return nil }

// gateSink blocks every write until open is closed, and fails the first
// failures writes after that.
type gateSink struct {
	open     chan struct{}
	failures atomic.Int64
	calls    atomic.Int64
}

func (g *gateSink) WriteEvents(ctx context.Context, _ []event.Event) error {
	g.calls.Add(1)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-g.open:
	}
	if g.failures.Add(-1) >= 0 {
		return fmt.Errorf("gate: injected failure")
	}
	return nil
}
func (g *gateSink) WriteFindings(context.Context, []detectors.Finding) error { return nil }
func (g *gateSink) Close() error                                             { return nil }

// A blocked sink pauses consumption (bounded in-flight, nothing
// committed); failures are retried and nothing is lost.
func TestBackpressureAndRetries(t *testing.T) {
	env := kafkaenv.Broker(t)
	f := loggenFixture(t)
	kc := kafkaConfig(t, env, 2)
	kc.Consumer.BatchSize = 500
	kc.Consumer.MaxInFlight = 2
	ctx := context.Background()
	require.NoError(t, streamtest.CreateTopic(ctx, kc, kc.Topics.Events, 2))
	require.NoError(t, streamtest.Produce(ctx, kc, kc.Topics.Events, f.events, 5000))

	gate := &gateSink{open: make(chan struct{})}
	gate.failures.Store(5)
	m := newMember(t, f, kc, gate)
	rctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.st.Run(rctx) }()

	// Wait until the sink holds max_in_flight batches, then a little
	// longer: nothing more is handed out and nothing is committed.
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(gaugeOf(t, m.reg, "roachwatch_stream_batches_in_flight")) == float64(kc.Consumer.MaxInFlight)
	}, time.Minute, 50*time.Millisecond)
	time.Sleep(2 * time.Second)
	cl, err := kc.NewClient()
	require.NoError(t, err)
	res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: kc.Consumer.GroupID, Topics: map[string][]int{kc.Topics.Events: {0, 1}}})
	require.NoError(t, err)
	for _, p := range res.Topics[kc.Topics.Events] {
		require.Less(t, p.CommittedOffset, int64(0), "partition %d committed while the sink acknowledged nothing", p.Partition)
	}
	require.LessOrEqual(t, gate.calls.Load(), int64(kc.Consumer.MaxInFlight), "no more batches than max_in_flight handed out")
	inFlight := testutil.ToFloat64(gaugeOf(t, m.reg, "roachwatch_stream_batches_in_flight"))
	require.Equal(t, float64(kc.Consumer.MaxInFlight), inFlight)

	close(gate.open)
	require.NoError(t, <-done)
	require.Zero(t, checkEvents(t, f.events, m.events))
	require.Positive(t, testutil.ToFloat64(metricVec(t, m.reg, "roachwatch_stream_sink_errors_total", "sink")), "failures were counted")
	_, end, err := kafkatransport.PartitionEnds(ctx, cl, kc.Topics.Events, []int{0, 1})
	require.NoError(t, err)
	res, err = cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: kc.Consumer.GroupID, Topics: map[string][]int{kc.Topics.Events: {0, 1}}})
	require.NoError(t, err)
	for _, p := range res.Topics[kc.Topics.Events] {
		require.Equal(t, end[p.Partition], p.CommittedOffset, "partition %d fully committed after the sink recovered", p.Partition)
	}
}

func gaugeOf(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
	for _, mf := range mfs {
		if mf.GetName() == name {
			g.Set(mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	return g
}
