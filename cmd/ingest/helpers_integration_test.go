//go:build integration

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/source"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ingestBinary builds cmd/ingest once per test run.
func ingestBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rw-ingest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ingest")
		out, err := exec.Command("nice", "go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// topicPrefix is unique per test, so runs never see each other's data.
func topicPrefix(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(strings.ToLower(t.Name()))
	return "rwit." + name + "." + hex.EncodeToString(b)
}

// writeConfig writes an ingest config for the PLAINTEXT listener at broker,
// with checkpoints every 100ms.
func writeConfig(t *testing.T, dir, broker, prefix, extra string) string {
	t.Helper()
	return writeConfigInterval(t, dir, broker, prefix, extra, 100*time.Millisecond)
}

// writeConfigInterval is writeConfig with ingest.checkpoint_interval ck.
func writeConfigInterval(t *testing.T, dir, broker, prefix, extra string, ck time.Duration) string {
	t.Helper()
	p := filepath.Join(dir, "ingest.yaml")
	cfg := fmt.Sprintf(`kafka:
  brokers: [%q]
  tls:
    enabled: false
  topics:
    events: %[2]s.events
    dlq: %[2]s.dlq
    alerts: %[2]s.alerts
    state: %[2]s.state
    partitions: 3
    replication_factor: 1
  producer:
    batch_timeout: 20ms
ingest:
  metrics_listen: ""
  poll_interval: 100ms
  multiline_wait: 300ms
  checkpoint_interval: %[5]s
  batch_events: 200
  max_in_flight: 8
  checkpoint_file: %[3]s
redaction:
  key: "0123456789abcdef0123456789abcdef"
log:
  level: info
%[4]s`, broker, prefix, filepath.Join(dir, "ck.json"), extra, ck)
	require.NoError(t, os.WriteFile(p, []byte(cfg), 0o600))
	return p
}

// v2 is one crdb-v2 entry with a continuation line; n makes it unique.
func v2(n int) string {
	prefix := fmt.Sprintf("I250611 14:%02d:%02d.%06d 55 1@cli/start.go:1210 ⋮ [T1,Vsystem,n2] %d ", n/60000%60, n/1000%60, n%1000*1000, n)
	return prefix + " integration entry " + fmt.Sprint(n) + "\n" + prefix + "+second line of " + fmt.Sprint(n) + "\n"
}

// idsOf decodes text as crdb-v2 and returns the event ids: the ids ingest
// must produce for it (ids hash the raw entry, not its position).
func idsOf(t *testing.T, text string) []string {
	t.Helper()
	dec, err := formats.New(parse.FormatCRDBV2, parse.NewNormalizer(parse.NormalizerConfig{Key: []byte("k0123456789abcdef")}), formats.Options{MaxEntryBytes: 1 << 20})
	require.NoError(t, err)
	var evs []event.Event
	lr := source.NewLineReader(strings.NewReader(text), "x", 1<<20)
	for {
		l, err := lr.Next()
		if err != nil {
			break
		}
		evs, _ = dec.Feed(l, evs)
	}
	evs, _ = dec.Flush(evs)
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	return ids
}

// readTopic reads the whole topic (all partitions, no group) until want
// distinct keys by keyFn are seen and nothing new arrives for quiet, or
// timeout. It returns the count per key.
func readTopic(t *testing.T, broker, topic string, want int, quiet, timeout time.Duration, keyFn func(kafka.Message) string) map[string]int {
	t.Helper()
	var parts []kafka.Partition
	require.Eventually(t, func() bool { // ingest creates the topic at its start
		conn, err := kafka.Dial("tcp", broker)
		if err != nil {
			return false
		}
		defer conn.Close()
		parts, err = conn.ReadPartitions(topic)
		return err == nil && len(parts) > 0
	}, 30*time.Second, 100*time.Millisecond, "topic %s", topic)
	var mu sync.Mutex
	got := map[string]int{}
	last := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p.ID, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 200 * time.Millisecond})
		wg.Go(func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				got[keyFn(m)]++
				last = time.Now()
				mu.Unlock()
			}
		})
	}
	for ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		done := len(got) >= want && time.Since(last) > quiet
		mu.Unlock()
		if done {
			break
		}
	}
	cancel()
	wg.Wait()
	return got
}

func eventID(m kafka.Message) string {
	var ev struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(m.Value, &ev)
	return ev.ID
}

// proc is a running ingest binary.
type proc struct {
	cmd  *exec.Cmd
	logs *strings.Builder
	done chan error
}

func startIngest(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(ingestBinary(t), args...)
	var logs strings.Builder
	lw := &lockedWriter{w: &logs}
	cmd.Stdout, cmd.Stderr = lw, lw
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, logs: &logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		t.Fatalf("ingest did not exit within %s", d)
		return nil
	}
}

// checkpointOffset returns the checkpointed offset of the file at path.
func checkpointOffset(t *testing.T, ck, path string) int64 {
	b, err := os.ReadFile(ck)
	if err != nil {
		return 0
	}
	var s struct {
		Files map[string]struct {
			Offset int64  `json:"offset"`
			Path   string `json:"path"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	for _, f := range s.Files {
		if f.Path == path {
			return f.Offset
		}
	}
	return 0
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// highWater returns the high-water mark of every partition of topic (the
// offset the next acknowledged message gets); empty when the topic does
// not exist yet.
func highWater(t *testing.T, broker, topic string) map[int]int64 {
	t.Helper()
	conn, err := kafka.Dial("tcp", broker)
	require.NoError(t, err)
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if errors.Is(err, kafka.UnknownTopicOrPartition) {
		return map[int]int64{}
	}
	require.NoError(t, err)
	out := make(map[int]int64, len(parts))
	for _, p := range parts {
		// A topic created a moment ago may not have elected its leaders
		// yet (Not Leader For Partition, Leader Not Available): ask again.
		var off int64
		deadline := time.Now().Add(15 * time.Second)
		for {
			off, err = lastOffset(broker, topic, p.ID)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		require.NoError(t, err, "last offset of %s/%d", topic, p.ID)
		out[p.ID] = off
	}
	return out
}

func lastOffset(broker, topic string, partition int) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pc, err := kafka.DialLeader(ctx, "tcp", broker, topic, partition)
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return pc.ReadLastOffset()
}

// settledHighWater waits until the high-water marks of topic stop moving
// (three equal readings 150ms apart), so that whatever a killed producer
// left in its sockets has landed before the marks are taken.
func settledHighWater(t *testing.T, broker, topic string) map[int]int64 {
	t.Helper()
	prev, same := highWater(t, broker, topic), 0
	for range 100 {
		time.Sleep(150 * time.Millisecond)
		cur := highWater(t, broker, topic)
		if maps.Equal(prev, cur) {
			if same++; same == 2 {
				return cur
			}
			continue
		}
		prev, same = cur, 0
	}
	t.Fatalf("high-water marks of %s never settled", topic)
	return nil
}

// record is one message of a topic: where it is and its event id.
type record struct {
	Partition int
	Offset    int64
	ID        string
}

// readUpTo reads every partition of topic from its start up to (not
// including) the high-water mark hw[partition].
func readUpTo(t *testing.T, broker, topic string, hw map[int]int64) []record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []record
	for part, end := range hw {
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: part,
			MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 200 * time.Millisecond})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				_ = r.Close()
				require.NoError(t, err, "reading %s[%d] up to %d", topic, part, end)
			}
			out = append(out, record{Partition: part, Offset: m.Offset, ID: eventID(m)})
			if m.Offset >= end-1 {
				break
			}
		}
		_ = r.Close()
	}
	return out
}
