package tail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/ack"
)

func entries(from, to, cont int) string {
	var b strings.Builder
	for n := from; n < to; n++ {
		b.WriteString(v2Entry(n, cont))
	}
	return b.String()
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, dir string)
	}{
		{"multiline held until next entry or wait", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "cockroach.log")
			appendFile(t, p, entries(1, 3, 2))
			h := startTail(t, testConfig(filepath.Join(dir, "*.log")), filepath.Join(dir, "ck.json"), false)
			defer h.stop()
			got := h.waitEvents(2) // entry 2 is flushed after multiline_wait
			require.Equal(t, map[int]int{1: 1, 2: 1}, numbers(t, got))
			require.Contains(t, got[0], "continuation 1 of entry 1", "continuations reassembled")
			require.Equal(t, 1.0, testutil.ToFloat64(h.m.Flushes))
		}},
		{"rename rotation reads old file to the end", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "cockroach.log")
			appendFile(t, p, entries(1, 50, 1))
			h := startTail(t, testConfig(p), filepath.Join(dir, "ck.json"), false)
			defer h.stop()
			h.waitEvents(48)
			old, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			require.NoError(t, os.Rename(p, p+".1"))
			appendFile(t, p, entries(100, 150, 1))
			time.Sleep(120 * time.Millisecond)           // the scan sees the rotation first
			_, err = old.WriteString(entries(50, 60, 1)) // late writes to the old descriptor
			require.NoError(t, err)
			require.NoError(t, old.Close())
			got := numbers(t, h.waitEvents(109))
			requireAll(t, got, 1, 60)
			requireAll(t, got, 100, 150)
			require.GreaterOrEqual(t, testutil.ToFloat64(h.m.Rotations), 1.0)
		}},
		{"copytruncate restarts at zero", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "cockroach.log")
			appendFile(t, p, entries(1, 30, 0))
			h := startTail(t, testConfig(p), filepath.Join(dir, "ck.json"), false)
			defer h.stop()
			h.waitEvents(29)
			require.NoError(t, os.Truncate(p, 0))
			appendFile(t, p, entries(200, 210, 0))
			got := numbers(t, h.waitEvents(39))
			requireAll(t, got, 1, 30)
			requireAll(t, got, 200, 210)
			require.Equal(t, 1.0, testutil.ToFloat64(h.m.Truncations))
		}},
		{"symlinks in globs are skipped", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "cockroach.n1.2025-06-11T08_00_03Z.000001.log")
			appendFile(t, p, entries(1, 5, 0))
			require.NoError(t, os.Symlink(p, filepath.Join(dir, "cockroach.log")))
			h := startTail(t, testConfig(filepath.Join(dir, "*.log")), filepath.Join(dir, "ck.json"), false)
			defer h.stop()
			got := numbers(t, h.waitEvents(4))
			time.Sleep(200 * time.Millisecond)
			require.Equal(t, map[int]int{1: 1, 2: 1, 3: 1, 4: 1}, got)
			require.Equal(t, 1.0, testutil.ToFloat64(h.m.FilesOpen))
		}},
		{"over-long line rejected, reading goes on", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "cockroach.log")
			appendFile(t, p, entries(1, 3, 0)+strings.Repeat("x", 10000)+"\n"+entries(3, 5, 0))
			cfg := testConfig(p)
			cfg.Format = "crdb-v2"
			h := startTail(t, cfg, filepath.Join(dir, "ck.json"), false)
			defer h.stop()
			got := numbers(t, h.waitEvents(4))
			requireAll(t, got, 1, 5)
			h.mu.Lock()
			defer h.mu.Unlock()
			require.NotEmpty(t, h.rej)
			require.Equal(t, "too_long", h.rej[0].Reason)
			require.Equal(t, 1.0, testutil.ToFloat64(h.m.ParseErrors.WithLabelValues("crdb-v2", "too_long")))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, t.TempDir()) })
	}
}

// TestResume checks the checkpoint semantics across restarts: only acked
// data moves it, a held entry pins it at its first line, and a rewritten
// file (same inode, new content) is read from the start.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cockroach.log")
	ck := filepath.Join(dir, "ck.json")
	appendFile(t, p, entries(1, 11, 1))

	// Run 1 never acknowledges: nothing may be checkpointed.
	h := startTail(t, testConfig(p), ck, true)
	h.waitEvents(10)
	h.stop()
	saved, err := ack.Load(ck)
	require.NoError(t, err)
	for _, s := range saved {
		require.Zero(t, s.Offset)
	}

	// Run 2 acknowledges everything; append a partial entry at the end
	// that is only flushed by the wait. Stopping before the wait without
	// a drain (as a crash, or a shutdown grace that expired) leaves the
	// checkpoint pinned at that entry's first line.
	h = startTail(t, testConfig(p), ck, false)
	got := numbers(t, h.waitEvents(10))
	requireAll(t, got, 1, 11)
	h.stop()
	st, err := os.Stat(p)
	require.NoError(t, err)
	saved, err = ack.Load(ck)
	require.NoError(t, err)
	require.Len(t, saved, 1)
	for _, s := range saved {
		require.Equal(t, st.Size(), s.Offset)
	}
	cfg := testConfig(p)
	cfg.MultilineWait = time.Hour
	noDrain, cancel := context.WithCancel(context.Background())
	cancel()
	h = startTailDrain(t, cfg, ck, false, noDrain)
	appendFile(t, p, entries(11, 13, 1))
	got = numbers(t, h.waitEvents(1))
	require.Equal(t, map[int]int{11: 1}, got, "entry 12 is still held")
	time.Sleep(100 * time.Millisecond)
	h.stop()
	saved, err = ack.Load(ck)
	require.NoError(t, err)
	for _, s := range saved {
		require.Equal(t, st.Size()+int64(len(v2Entry(11, 1))), s.Offset, "pinned at entry 12")
	}

	// Run 4 resumes at entry 12 and re-decodes it whole.
	h = startTail(t, testConfig(p), ck, false)
	got = numbers(t, h.waitEvents(1))
	require.Equal(t, map[int]int{12: 1}, got)
	h.stop()

	// Same inode, new content: the fingerprint no longer matches.
	require.NoError(t, os.WriteFile(p, []byte(entries(500, 520, 0)+entries(520, 600, 0)), 0o644))
	h = startTail(t, testConfig(p), ck, false)
	got = numbers(t, h.waitEvents(100))
	requireAll(t, got, 500, 600)
	h.stop()
}
