//go:build integration

package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/kafkaenv"
)

// TestRotationDuringIngest: rename rotation and copytruncate while ingest
// tails; every entry's event id arrives.
func TestRotationDuringIngest(t *testing.T) {
	env := kafkaenv.Broker(t)
	dir := t.TempDir()
	prefix := topicPrefix(t)
	cfg := writeConfig(t, dir, env.Plain, prefix, "")
	log := filepath.Join(dir, "app.log")
	var all strings.Builder
	write := func(from, to int) {
		var b strings.Builder
		for n := from; n < to; n++ {
			b.WriteString(v2(n))
		}
		appendTo(t, log, b.String())
		all.WriteString(b.String())
	}
	write(0, 200)
	p := startIngest(t, "run", "--config", cfg, "--input", log)
	for i := 0; i < 10; i++ {
		write(200+i*20, 220+i*20)
		time.Sleep(30 * time.Millisecond)
	}
	// Rename rotation, with a late write to the old descriptor.
	old, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	require.NoError(t, os.Rename(log, log+".1"))
	write(400, 500) // the new app.log
	time.Sleep(200 * time.Millisecond)
	var late strings.Builder
	for n := 1000; n < 1050; n++ {
		late.WriteString(v2(n))
	}
	_, err = old.WriteString(late.String())
	require.NoError(t, err)
	require.NoError(t, old.Close())
	all.WriteString(late.String())
	write(500, 600)

	// copytruncate (logrotate): copy, truncate, keep writing. Lines must
	// be acknowledged before the truncate, as with any copytruncate set-up.
	st, err := os.Stat(log)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return checkpointOffset(t, filepath.Join(dir, "ck.json"), log) == st.Size() },
		20*time.Second, 50*time.Millisecond, "app.log acknowledged before copytruncate")
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(log+".2", b, 0o644))
	require.NoError(t, os.Truncate(log, 0))
	write(600, 800)

	ids := idsOf(t, all.String())
	require.Len(t, ids, 850)
	got := readTopic(t, env.Plain, prefix+".events", len(ids), 2*time.Second, 60*time.Second, eventID)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 30*time.Second), p.logs.String())
	missing := 0
	for _, id := range ids {
		if got[id] == 0 {
			missing++
		}
	}
	require.Zero(t, missing, "events lost; logs:\n%s", p.logs.String())
	require.Contains(t, p.logs.String(), "file truncated")
	require.Contains(t, p.logs.String(), "rotated away")
}

// TestKill9AndRestart: SIGKILL ingest at random points while lines are
// written; after the last restart every line arrived, and duplicates are
// bounded by the lines between the last checkpoint and each kill.
func TestKill9AndRestart(t *testing.T) {
	env := kafkaenv.Broker(t)
	dir := t.TempDir()
	prefix := topicPrefix(t)
	cfg := writeConfig(t, dir, env.Plain, prefix, "")
	ck := filepath.Join(dir, "ck.json")
	log := filepath.Join(dir, "app.log")
	var offsets []int64 // start offset of every entry
	var size int64
	var all strings.Builder
	n := 0
	write := func(k int) {
		var b strings.Builder
		for range k {
			e := v2(n)
			offsets = append(offsets, size+int64(b.Len()))
			b.WriteString(e)
			n++
		}
		appendTo(t, log, b.String())
		size += int64(b.Len())
		all.WriteString(b.String())
	}
	entriesIn := func(from, to int64) int {
		c := 0
		for _, o := range offsets {
			if o >= from && o < to {
				c++
			}
		}
		return c
	}
	write(500)
	bound := 0
	for round := range 4 {
		p := startIngest(t, "run", "--config", cfg, "--input", log)
		deadline := time.Now().Add(time.Duration(500+rand.IntN(2000)) * time.Millisecond)
		for time.Now().Before(deadline) {
			write(20 + rand.IntN(40))
			time.Sleep(20 * time.Millisecond)
		}
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
		_ = p.wait(t, 10*time.Second)
		c := checkpointOffset(t, ck, log)
		// Everything after the checkpoint may have been produced before the kill.
		w := entriesIn(c, size)
		bound += w
		t.Logf("round %d: killed; checkpoint %d of %d bytes, %d entries in the unacknowledged window", round, c, size, w)
	}
	write(100)
	p := startIngest(t, "run", "--config", cfg, "--input", log)
	ids := idsOf(t, all.String())
	require.Len(t, ids, n)
	got := readTopic(t, env.Plain, prefix+".events", len(ids), 3*time.Second, 90*time.Second, eventID)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 30*time.Second))
	dups, missing := 0, 0
	for _, id := range ids {
		if got[id] == 0 {
			missing++
		}
		dups += max(0, got[id]-1)
	}
	t.Logf("%d entries, %d duplicates (bound %d), %d missing", n, dups, bound, missing)
	require.Zero(t, missing, "lines lost")
	require.LessOrEqual(t, dups, bound, "duplicates beyond the unacknowledged windows")
}
