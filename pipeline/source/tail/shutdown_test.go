package tail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/parse"
)

// djangoVerbose is a Django log (verbose formatter) whose last entry is a
// 500 with its traceback: nothing after it says the traceback is over.
const djangoVerbose = `INFO 2025-06-11 16:05:44,902 log 4121 140231946327616 export started by user 17
WARNING 2025-06-11 16:05:45,113 log 4121 140231946327616 Not Found: /api/patients/99999/
ERROR 2025-06-11 16:05:46,000 log 4121 140231946327616 Internal Server Error: /boom/
Traceback (most recent call last):
  File "/srv/app/boom/views.py", line 3, in boom
    raise ValueError("boom")
ValueError: boom
`

// checkpointAt returns the only checkpointed offset in ck.
func checkpointAt(t *testing.T, ck string) int64 {
	t.Helper()
	saved, err := ack.Load(ck)
	require.NoError(t, err)
	require.Len(t, saved, 1)
	for _, s := range saved {
		return s.Offset
	}
	return -1
}

// TestShutdownFlushesHeldEntry: a file ends with an open multi-line entry
// (no line after it says it is over, and multiline_wait is far away). A
// graceful stop flushes it: it is handed on exactly once, whole, the
// checkpoint moves to the end of the file, and a restart hands on nothing.
func TestShutdownFlushesHeldEntry(t *testing.T) {
	for _, tc := range []struct {
		name, format, text string
		before             int    // events handed on before the stop
		last               string // in the message of the flushed entry
	}{
		{"crdb-v2 continuation lines", parse.FormatCRDBV2, entries(1, 4, 2), 2, "continuation 1 of entry 3"},
		{"django traceback", parse.FormatDjangoText, djangoVerbose, 2, "ValueError: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "app.log")
			ck := filepath.Join(dir, "ck.json")
			appendFile(t, p, tc.text)
			cfg := testConfig(p)
			cfg.Format = tc.format
			cfg.MultilineWait = time.Hour

			h := startTail(t, cfg, ck, false)
			h.waitEvents(tc.before)
			time.Sleep(200 * time.Millisecond)
			h.mu.Lock()
			require.Len(t, h.msgs, tc.before, "the last entry is held while running")
			h.mu.Unlock()
			h.stop()
			require.Len(t, h.msgs, tc.before+1, "the held entry is flushed at the stop: %q", h.msgs)
			require.Contains(t, h.msgs[tc.before], tc.last, "flushed whole")
			require.Empty(t, h.rej)
			require.Equal(t, 1.0, testutil.ToFloat64(h.m.ShutdownFlushes))
			require.Zero(t, testutil.ToFloat64(h.m.Flushes), "not the multiline_wait flush")
			require.Equal(t, int64(len(tc.text)), checkpointAt(t, ck), "checkpoint past the flushed entry")

			h = startTail(t, cfg, ck, false)
			time.Sleep(300 * time.Millisecond)
			h.stop()
			require.Empty(t, h.msgs, "a restart hands on nothing again")
			require.Empty(t, h.rej, "no orphan continuation lines")
			require.Zero(t, testutil.ToFloat64(h.m.ShutdownFlushes))
			require.Equal(t, int64(len(tc.text)), checkpointAt(t, ck))
		})
	}
}

// TestShutdownLeavesPartialLine: a last line without its newline (the
// writer is in the middle of it) is not taken at the stop; the held entry
// before it is. The restart reads the line once it is complete.
func TestShutdownLeavesPartialLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cockroach.log")
	ck := filepath.Join(dir, "ck.json")
	third := v2Entry(3, 1)
	cut := strings.IndexByte(third, '\n') / 2
	appendFile(t, p, entries(1, 3, 1)+third[:cut])
	cfg := testConfig(p)
	cfg.MultilineWait = time.Hour

	h := startTail(t, cfg, ck, false)
	h.waitEvents(1)
	time.Sleep(200 * time.Millisecond)
	h.stop()
	require.Equal(t, map[int]int{1: 1, 2: 1}, numbers(t, h.msgs))
	require.Equal(t, int64(len(entries(1, 3, 1))), checkpointAt(t, ck), "checkpoint at the start of the partial line")

	appendFile(t, p, third[cut:])
	h = startTail(t, testConfig(p), ck, false)
	got := h.waitEvents(1)
	h.stop()
	require.Equal(t, map[int]int{3: 1}, numbers(t, got))
	require.Contains(t, got[0], "continuation 0 of entry 3")
	require.Empty(t, h.rej)
	require.Equal(t, int64(len(entries(1, 4, 1))), checkpointAt(t, ck))
}

// TestShutdownKeepsEntryPinnedBeforeUnreadData: when the stop comes while
// a file still has unread data, its held entry may go on in that data:
// it is not flushed (that would split it) but stays pinned; what was
// decoded before it is handed on.
func TestShutdownKeepsEntryPinnedBeforeUnreadData(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cockroach.log")
	ck := filepath.Join(dir, "ck.json")
	text := entries(1, 4, 2)
	appendFile(t, p, text)
	cfg := testConfig(p)
	cfg.MultilineWait = time.Hour
	reg := prometheus.NewRegistry()
	ckpt, err := ack.NewCheckpointer(ck, time.Hour, reg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	m := NewMetrics(reg)
	tl := New(cfg, ckpt, m, slog.New(slog.DiscardHandler))
	out := make(chan Batch, 16)
	tl.out = out
	tl.scan()
	require.Len(t, tl.files, 1)
	var tf *tailFile
	for _, f := range tl.files {
		tf = f
	}
	// Read entry 1 and the first two lines of entry 2; its second
	// continuation line is still unread.
	e2 := v2Entry(2, 2)
	upTo := len(v2Entry(1, 2)) + strings.Index(e2, "+continuation 1")
	tf.buf = make([]byte, upTo)
	_, eof, err := tf.read(upTo, time.Now())
	require.NoError(t, err)
	require.False(t, eof)
	require.False(t, tf.atEnd())

	tl.drain(context.Background())
	close(out)
	var msgs []string
	for b := range out {
		for _, ev := range b.Events {
			msgs = append(msgs, ev.Message)
		}
		require.Empty(t, b.Rejects)
		b.Done()
	}
	require.Equal(t, map[int]int{1: 1}, numbers(t, msgs), "entry 2 is not split")
	require.Zero(t, testutil.ToFloat64(m.ShutdownFlushes))
	require.NoError(t, ckpt.Sync())
	require.Equal(t, int64(len(v2Entry(1, 2))), checkpointAt(t, ck), "pinned at entry 2")
	tl.closeAll()

	// The next run reads entry 2 whole.
	h := startTail(t, testConfig(p), ck, false)
	got := h.waitEvents(2)
	h.stop()
	require.Equal(t, map[int]int{2: 1, 3: 1}, numbers(t, got))
	require.Contains(t, got[0], "continuation 1 of entry 2")
	require.Empty(t, h.rej)
}

// TestReadStreamShutdown: stdin cannot be resumed, so a graceful stop
// finishes what was read as at EOF (held entry and a last line without its
// newline); a stop without drain hands on nothing more.
func TestReadStreamShutdown(t *testing.T) {
	for _, drained := range []bool{true, false} {
		t.Run(map[bool]string{true: "drain", false: "no drain"}[drained], func(t *testing.T) {
			cfg := testConfig()
			cfg.Format = parse.FormatCRDBV2 // too few lines to detect it before multiline_wait
			cfg.MultilineWait = time.Hour
			m := NewMetrics(prometheus.NewRegistry())
			pr, pw := io.Pipe()
			defer pw.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			drain := context.Background()
			if !drained {
				d, stop := context.WithCancel(context.Background())
				stop()
				drain = d
			}
			in, run := ReadStream(ctx, drain, cfg, pr, "stdin", m, slog.New(slog.DiscardHandler))
			errc := make(chan error, 1)
			go func() { errc <- run() }()
			go func() {
				_, _ = io.WriteString(pw, entries(1, 3, 1)+strings.TrimSuffix(v2Entry(3, 0), "\n"))
			}()
			// A watchdog: a bug (or a batch shape this test did not foresee)
			// fails the test instead of hanging it until go test's timeout.
			watchdog := time.AfterFunc(30*time.Second, func() {
				cancel()
				_ = pw.CloseWithError(errors.New("watchdog: no shutdown within 30s"))
			})
			defer watchdog.Stop()
			var msgs []string
			cancelled := false
			for b := range in {
				for _, ev := range b.Events {
					msgs = append(msgs, ev.Message)
				}
				if len(msgs) > 0 && !cancelled {
					time.Sleep(100 * time.Millisecond) // the rest of the write is read and held
					cancel()
					cancelled = true
				}
			}
			require.True(t, watchdog.Stop(), "the watchdog fired: the stream did not stop on cancel")
			require.NoError(t, <-errc)
			if drained {
				require.Equal(t, map[int]int{1: 1, 2: 1, 3: 1}, numbers(t, msgs))
				require.Contains(t, msgs[1], "continuation 0 of entry 2")
				require.Equal(t, 1.0, testutil.ToFloat64(m.ShutdownFlushes))
			} else {
				require.Equal(t, map[int]int{1: 1}, numbers(t, msgs))
				require.Zero(t, testutil.ToFloat64(m.ShutdownFlushes))
			}
		})
	}
}
