//go:build integration

package stream_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/stream/streamtest"
	"roachwatch/pipeline/transport/kafkatransport"
)

// crashRun is one start of the analyze binary: which lines of the events
// file it wrote and, if it was killed, the group's committed offsets
// right after the kill (the start of its uncommitted window).
type crashRun struct {
	from, to  int64 // byte range of the events file written by this run
	killed    bool
	committed map[int]int64
	joinedAt  time.Time
	endedAt   time.Time
}

// TestKill9AndRestart runs the real analyze binary on a backlog, SIGKILLs it at seeded random points and restarts it until
// the topic is drained (stream.exit_when_idle). No event may be lost;
// every duplicate must lie in the uncommitted window of a killed run
// (offset at or above the committed offset after the kill) and that
// window must stay within the in-flight bound; the final findings (last
// version per id) must equal an uninterrupted run's.
func TestKill9AndRestart(t *testing.T) {
	env := kafkaenv.Broker(t)
	f := loggenFixture(t)
	const parts, kills = 3, 3
	kc := kafkaConfig(t, env, parts)
	kc.Consumer.BatchSize, kc.Consumer.MaxInFlight = 100, 4
	commitInterval := 300 * time.Millisecond
	seed := uint64(4)
	if s := os.Getenv("ROACHWATCH_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	t.Logf("kill seed %d (ROACHWATCH_KILL_SEED)", seed)

	dir := t.TempDir()
	bin := filepath.Join(dir, "analyze")
	// Owner: this test; exit: the build ends (waited for below).
	built := make(chan error, 1)
	go func() {
		out, err := exec.Command("go", "build", "-o", bin, "roachwatch/cmd/analyze").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("building analyze: %w: %s", err, out)
		}
		built <- err
	}()
	evPath, fPath := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "findings.jsonl")
	cfgPath := filepath.Join(dir, "roachwatch.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(crashConfig(kc, parts, commitInterval, evPath, fPath)), 0o600))

	ctx := context.Background()
	require.NoError(t, streamtest.CreateTopic(ctx, kc, kc.Topics.Events, parts))
	require.NoError(t, streamtest.Produce(ctx, kc, kc.Topics.Events, f.events, 5000))
	// An uninterrupted run of the same topic (own group) is the reference;
	// it runs beside the kill loop.
	ref := kc
	ref.Consumer.GroupID += "-reference"
	refMember := newMember(t, f, ref)
	var refRun sync.WaitGroup
	refRun.Go(func() { runUntilDrained(t, refMember) })

	require.NoError(t, <-built)
	cl, err := kc.NewClient()
	require.NoError(t, err)
	var runs []*crashRun
	for k := 0; k <= kills; k++ {
		r := &crashRun{from: fileSize(evPath)}
		logPath := filepath.Join(dir, fmt.Sprintf("run%d.log", k))
		lf, err := os.Create(logPath)
		require.NoError(t, err)
		cmd := exec.Command(bin, "run", "--config", cfgPath)
		cmd.Stdout, cmd.Stderr = lf, lf
		require.NoError(t, cmd.Start())
		waitForLog(t, logPath, "generation joined", 60*time.Second)
		r.joinedAt = time.Now()
		if k < kills {
			// Kill somewhere in the middle of the backlog (a run reads a
			// few thousand events per second here, after ~300 ms of start-up).
			time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(700*time.Millisecond))))
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()
			r.killed = true
			r.committed = committedOffsets(t, cl, kc, parts)
			t.Logf("run %d: SIGKILL %s after joining; committed %v", k, time.Since(r.joinedAt).Round(time.Millisecond), r.committed)
		} else {
			require.NoError(t, waitTimeout(cmd, 90*time.Second), "last run exits 0 once drained; log %s", logPath)
		}
		r.endedAt = time.Now()
		_ = lf.Close()
		r.to = fileSize(evPath)
		runs = append(runs, r)
	}

	pos := eventPositions(t, kc, parts)
	require.Len(t, pos, len(f.events))
	checkCrashDuplicates(t, f.events, evPath, runs, pos, kc.Consumer.BatchSize*(kc.Consumer.MaxInFlight+parts), commitInterval)

	refRun.Wait()
	want := lastVersions(readLines[detectors.Finding](t, refMember.findings))
	got := lastVersions(readLines[detectors.Finding](t, fPath))
	require.NotEmpty(t, want)
	require.Equal(t, jsonOf(t, want), jsonOf(t, got), "findings after kill -9 and restarts differ from an uninterrupted run")
}

// checkCrashDuplicates asserts no event is lost and that every duplicate
// is explained by the uncommitted window of a killed run, a window no
// larger than the in-flight bound plus what one commit period acknowledges.
func checkCrashDuplicates(t *testing.T, want []event.Event, path string, runs []*crashRun, pos map[string]msgPos, inFlight int, commitEvery time.Duration) {
	t.Helper()
	type occ struct{ run int }
	occs := map[string][]occ{}
	for i, r := range runs {
		for _, id := range eventIDsIn(t, path, r.from, r.to) {
			occs[id] = append(occs[id], occ{run: i})
		}
	}
	for i := range want {
		require.Contains(t, occs, want[i].ID, "event %d lost", i)
	}
	total := 0
	for id, os := range occs {
		p, ok := pos[id]
		require.True(t, ok, "unknown event id %s", id)
		for j := 0; j < len(os)-1; j++ {
			r := runs[os[j].run]
			require.True(t, r.killed, "event %s written twice though run %d was not killed", id, os[j].run)
			require.NotEqual(t, os[j].run, os[j+1].run, "event %s written twice by run %d", id, os[j].run)
			require.GreaterOrEqual(t, p.offset, r.committed[p.partition],
				"event %s (%d/%d) duplicated though committed before run %d was killed", id, p.partition, p.offset, os[j].run)
			total++
		}
	}
	for i, r := range runs {
		if !r.killed {
			continue
		}
		written := eventIDsIn(t, path, r.from, r.to)
		window := 0
		for _, id := range written {
			if p := pos[id]; p.offset >= r.committed[p.partition] {
				window++
			}
		}
		rate := float64(len(written)) / max(r.endedAt.Sub(r.joinedAt).Seconds(), 0.001)
		bound := inFlight + int(rate*2*commitEvery.Seconds()) + 1
		t.Logf("run %d: wrote %d events, uncommitted window at the kill %d (bound %d)", i, len(written), window, bound)
		require.LessOrEqual(t, window, bound, "run %d: uncommitted window beyond the in-flight bound", i)
	}
	t.Logf("%d events, %d duplicates after %d kills, all within the uncommitted windows", len(want), total, len(runs)-1)
}

type msgPos struct {
	partition int
	offset    int64
}

// eventPositions reads the whole events topic: event id -> position.
func eventPositions(t *testing.T, kc kafkatransport.Config, parts int) map[string]msgPos {
	cl, err := kc.NewClient()
	require.NoError(t, err)
	ids := make([]int, parts)
	for p := range ids {
		ids[p] = p
	}
	first, end, err := kafkatransport.PartitionEnds(context.Background(), cl, kc.Topics.Events, ids)
	require.NoError(t, err)
	out := map[string]msgPos{}
	for p := range parts {
		for _, m := range readRange(t, kc, kc.Topics.Events, p, first[p], end[p]) {
			var ev event.Event
			require.NoError(t, kafkatransport.Decode(m, &ev))
			out[ev.ID] = msgPos{partition: p, offset: m.Offset}
		}
	}
	return out
}

func committedOffsets(t *testing.T, cl *kafka.Client, kc kafkatransport.Config, parts int) map[int]int64 {
	ids := make([]int, parts)
	for p := range ids {
		ids[p] = p
	}
	res, err := cl.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: kc.Consumer.GroupID, Topics: map[string][]int{kc.Topics.Events: ids}})
	require.NoError(t, err)
	out := map[int]int64{}
	for _, p := range res.Topics[kc.Topics.Events] {
		out[p.Partition] = max(p.CommittedOffset, 0)
	}
	return out
}

// eventIDsIn returns the ids of the event lines in [from, to) of path;
// every line must be whole JSON (the file sink cuts torn tails on open).
func eventIDsIn(t *testing.T, path string, from, to int64) []string {
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	_, err = fh.Seek(from, 0)
	require.NoError(t, err)
	sc := bufio.NewScanner(io.LimitReader(fh, to-from))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var ids []string
	for sc.Scan() {
		var ev event.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), "line %.120q", sc.Text())
		ids = append(ids, ev.ID)
	}
	require.NoError(t, sc.Err())
	return ids
}

func crashConfig(kc kafkatransport.Config, parts int, commit time.Duration, events, findings string) string {
	tp := kc.Topics
	return strings.Join([]string{
		"kafka:",
		"  brokers: [" + strconv.Quote(kc.Brokers[0]) + "]",
		"  tls:\n    enabled: false",
		"  topics:",
		"    events: " + tp.Events, "    dlq: " + tp.DLQ, "    alerts: " + tp.Alerts, "    state: " + tp.State,
		"    partitions: " + strconv.Itoa(parts), "    replication_factor: 1",
		"  consumer:",
		"    group_id: " + kc.Consumer.GroupID,
		"    batch_size: " + strconv.Itoa(kc.Consumer.BatchSize), "    batch_timeout: 50ms",
		"    max_in_flight: " + strconv.Itoa(kc.Consumer.MaxInFlight),
		"    session_timeout: 6s", "    rebalance_timeout: 10s", "    heartbeat_interval: 500ms",
		"stream:",
		"  findings_path: " + strconv.Quote(findings), "  events_path: " + strconv.Quote(events),
		"  alerts: true", "  snapshot_interval: 400ms", "  commit_interval: " + commit.String(),
		"  metrics_listen: \"\"", "  exit_when_idle: 2s", "  shutdown_grace: 20s",
		"",
	}, "\n")
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// waitForLog polls path until it contains s.
func waitForLog(t *testing.T, path, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), s) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("%q not logged within %s:\n%s", s, timeout, b)
}

// waitTimeout waits for cmd, killing it after timeout.
func waitTimeout(cmd *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	// Owner: this function; exit: cmd ends (killed at the timeout).
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("analyze did not exit in time")
	}
}
