//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/pipeline/source/tail"
	"roachwatch/pipeline/transport/kafkatransport"
)

// setMultilineWait rewrites ingest.multiline_wait in the config at cfg.
func setMultilineWait(t *testing.T, cfg string, d time.Duration) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	nb := bytes.Replace(b, []byte("multiline_wait: 300ms"), []byte("multiline_wait: "+d.String()), 1)
	require.NotEqual(t, b, nb)
	require.NoError(t, os.WriteFile(cfg, nb, 0o600))
}

// countIDs counts the event ids of every message of topic up to its
// current high-water marks (exact counts: duplicates show).
func countIDs(t *testing.T, broker, topic string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range readUpTo(t, broker, topic, highWater(t, broker, topic)) {
		out[r.ID]++
	}
	return out
}

// TestShutdownFlushesOpenEntry: the log file ends with a crdb-v2 entry
// whose continuation lines have no end in sight (multiline_wait is an
// hour away). SIGTERM flushes it: it is in the topic exactly once and
// whole (its id hashes the whole entry), the checkpoint is at the end of
// the file, and a restart produces nothing, neither events nor DLQ
// records (no orphan continuation lines).
func TestShutdownFlushesOpenEntry(t *testing.T) {
	env := kafkaenv.Broker(t)
	dir := t.TempDir()
	prefix := topicPrefix(t)
	cfg := writeConfig(t, dir, env.Plain, prefix, "")
	setMultilineWait(t, cfg, time.Hour)
	ck := filepath.Join(dir, "ck.json")
	log := filepath.Join(dir, "app.log")
	var text strings.Builder
	for n := range 10 {
		text.WriteString(v2(n))
	}
	closed := int64(text.Len())
	open := v2(10)
	head := open[:strings.IndexByte(open, '\n')+1]
	cont := strings.TrimPrefix(open, head)
	open += strings.Replace(cont, "+second", "+third", 1) + strings.Replace(cont, "+second", "+fourth", 1)
	text.WriteString(open)
	appendTo(t, log, text.String())
	ids := idsOf(t, text.String())
	require.Len(t, ids, 11)
	last := ids[10]

	p := startIngest(t, "run", "--config", cfg, "--input", log)
	got := readTopic(t, env.Plain, prefix+".events", 10, time.Second, 60*time.Second, eventID)
	require.Zero(t, got[last], "the open entry is held while ingest runs")
	require.Eventually(t, func() bool { return checkpointOffset(t, ck, log) == closed },
		10*time.Second, 50*time.Millisecond, "checkpoint pinned at the open entry")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 30*time.Second), p.logs.String())
	require.Contains(t, p.logs.String(), "held entry flushed at shutdown")

	require.Equal(t, int64(text.Len()), checkpointOffset(t, ck, log), "checkpoint past the flushed entry; logs:\n%s", p.logs.String())
	counts := countIDs(t, env.Plain, prefix+".events")
	for i, id := range ids {
		require.Equal(t, 1, counts[id], "entry %d produced exactly once", i)
	}
	require.Len(t, counts, 11, "nothing else (a split entry would have another id)")
	hwEvents := highWater(t, env.Plain, prefix+".events")
	hwDLQ := highWater(t, env.Plain, prefix+".dlq")

	// Restart: nothing new.
	p = startIngest(t, "run", "--config", cfg, "--input", log)
	require.Eventually(t, func() bool { return strings.Contains(p.logs.String(), "file opened") },
		30*time.Second, 50*time.Millisecond, "restart")
	time.Sleep(1500 * time.Millisecond) // many poll and read intervals
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 30*time.Second), p.logs.String())
	require.Contains(t, p.logs.String(), fmt.Sprintf("file=%s file_id=%s offset=%d", log, tail.FileID(log), text.Len()), "resumed at the end of the file")
	require.NotContains(t, p.logs.String(), "held entry flushed at shutdown")
	require.Equal(t, hwEvents, highWater(t, env.Plain, prefix+".events"), "the restart produced events")
	require.Equal(t, hwDLQ, highWater(t, env.Plain, prefix+".dlq"), "the restart produced DLQ records")
	require.Equal(t, int64(text.Len()), checkpointOffset(t, ck, log))
}

// TestImportToDLQ: ingest import of a file with good and bad lines. The
// good lines are in the events topic, each bad line is one DLQ record
// with its reason, position and keyed hash (never its content), and the
// exit code and summary are unchanged.
func TestImportToDLQ(t *testing.T) {
	env := kafkaenv.Broker(t)
	dir := t.TempDir()
	prefix := topicPrefix(t)
	cfg := writeConfig(t, dir, env.Plain, prefix, "input:\n  max_line_bytes: 4096\n  max_entry_bytes: 1048576\n")
	log := filepath.Join(dir, "app.log")
	var good, text strings.Builder
	type bad struct {
		reason string
		line   string
	}
	want := map[int64]bad{} // offset -> bad line
	for n := range 40 {
		good.WriteString(v2(n))
		text.WriteString(v2(n))
		if n%10 == 5 {
			l := fmt.Sprintf("garbage line with password=hunter2 %d", n)
			want[int64(text.Len())] = bad{"no_prefix", l}
			text.WriteString(l + "\n")
		}
		if n == 22 {
			want[int64(text.Len())] = bad{"too_long", ""}
			text.WriteString("password=hunter2 " + strings.Repeat("y", 5000) + "\n")
		}
	}
	appendTo(t, log, text.String())
	ids := idsOf(t, good.String())
	require.Len(t, ids, 40)

	p := startIngest(t, "import", "--config", cfg, "--input", log)
	require.NoError(t, p.wait(t, 60*time.Second), p.logs.String())
	logs := p.logs.String()
	require.Contains(t, logs, `msg="import finished"`)
	require.Contains(t, logs, `parse_errors="map[no_prefix:4 too_long:1]"`, "summary; logs:\n%s", logs)

	counts := countIDs(t, env.Plain, prefix+".events")
	require.Len(t, counts, len(ids))
	for _, id := range ids {
		require.Equal(t, 1, counts[id])
	}

	fileID := tail.FileID(log)
	require.NotEmpty(t, fileID)
	var recs []kafkatransport.DLQRecord
	hw := highWater(t, env.Plain, prefix+".dlq")
	readTopic(t, env.Plain, prefix+".dlq", len(want), time.Second, 60*time.Second, func(m kafka.Message) string {
		require.NotContains(t, string(m.Value), "hunter2", "raw line in the DLQ")
		require.NotContains(t, string(m.Value), "yyyy", "raw line in the DLQ")
		var r kafkatransport.DLQRecord
		require.NoError(t, json.Unmarshal(m.Value, &r))
		require.Equal(t, fileID, string(m.Key), "keyed by file identity, as run does")
		require.Equal(t, r.Reason, headerValue(m, kafkatransport.HeaderReason))
		recs = append(recs, r)
		return fmt.Sprint(r.Offset)
	})
	total := int64(0)
	for _, end := range hw {
		total += end
	}
	require.Equal(t, int64(len(want)), total, "one DLQ record per bad line")
	require.Len(t, recs, len(want))
	for _, r := range recs {
		w, ok := want[r.Offset]
		require.True(t, ok, "DLQ record at offset %d, not a bad line: %+v", r.Offset, r)
		require.Equal(t, w.reason, r.Reason)
		require.Equal(t, log, r.File)
		require.Equal(t, fileID, r.FileID)
		require.Equal(t, "crdb-v2", r.Source)
		require.Empty(t, r.Line)
		if w.line != "" {
			require.Equal(t, kafkatransport.LineHash([]byte("0123456789abcdef0123456789abcdef"), []byte(w.line)), r.LineHash)
		} else {
			require.Empty(t, r.LineHash, "a cut line is not hashed")
		}
		delete(want, r.Offset)
	}
	require.Empty(t, want, "bad lines without a DLQ record")
}

func headerValue(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
