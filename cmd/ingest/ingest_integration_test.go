//go:build integration

package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// appender is the steady writer of TestKill9AndRestart: it appends
// crdb-v2 entries to its files every few milliseconds and remembers where
// each entry starts. mu is held for every append, so whoever holds it sees
// whole entries only and the files do not grow.
type appender struct {
	paths []string

	mu      sync.Mutex
	text    []strings.Builder // everything written, per file
	offsets [][]int64         // start offset of every entry, per file
	ids     map[int][2]int    // n -> file, index of the entry
	n       int
	err     error

	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
}

func newAppender(paths ...string) *appender {
	return &appender{paths: paths, text: make([]strings.Builder, len(paths)), offsets: make([][]int64, len(paths)),
		ids: map[int][2]int{}, quit: make(chan struct{}), done: make(chan struct{})}
}

// write appends k entries to file f; the caller holds mu.
func (a *appender) write(f, k int) {
	if a.err != nil {
		return
	}
	var b strings.Builder
	size := int64(a.text[f].Len())
	for range k {
		a.offsets[f] = append(a.offsets[f], size+int64(b.Len()))
		a.ids[a.n] = [2]int{f, len(a.offsets[f]) - 1}
		b.WriteString(v2(a.n))
		a.n++
	}
	h, err := os.OpenFile(a.paths[f], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = h.WriteString(b.String())
		err = errors.Join(err, h.Close())
	}
	a.err = err
	a.text[f].WriteString(b.String())
}

// run appends 1 to 6 entries to every file every 10ms until stop.
func (a *appender) run(rng *rand.Rand) {
	defer close(a.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-a.quit:
			return
		case <-tick.C:
		}
		a.mu.Lock()
		for f := range a.paths {
			a.write(f, 1+rng.IntN(6))
		}
		a.mu.Unlock()
	}
}

func (a *appender) stop() {
	a.stopOnce.Do(func() { close(a.quit) })
	<-a.done
}

// sizes returns the size of every file; the caller holds mu.
func (a *appender) sizes() []int64 {
	out := make([]int64, len(a.paths))
	for f := range a.paths {
		out[f] = int64(a.text[f].Len())
	}
	return out
}

// entriesIn counts the entries of file f that start in [from, to).
func (a *appender) entriesIn(f int, from, to int64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := 0
	for _, o := range a.offsets[f] {
		if o >= from && o < to {
			c++
		}
	}
	return c
}

// kill9 is what the test knew right after one SIGKILL.
type kill9 struct {
	after time.Duration // run time before the kill
	size  []int64       // file sizes at the kill: ingest cannot have read further
	ck    []int64       // checkpointed offsets on disk after the kill
	bound int           // entries in [ck, size) over all files: the unacknowledged window
	hw    map[int]int64 // high-water marks once the broker settled: messages below are from this run or before
}

// TestKill9AndRestart: a steady writer appends to two tailed files while
// ingest runs with checkpoints every 2s and is SIGKILLed at seeded random
// points 1.5-4.5s into each run, so acknowledged but not yet checkpointed
// lines exist at most kills. Every message is attributed to the run that
// produced it (by the high-water marks after each kill). Then: no line is
// lost; no run produces a line twice; every line produced by run k and
// again later starts at or after the checkpoint on disk at kill k and
// before the end of the file at kill k, and there are at most as many as
// entries in that window; a restart never produces a line before the
// checkpoint it resumed from; and at least one kill did produce
// duplicates (the window was hit, not only bounded).
func TestKill9AndRestart(t *testing.T) {
	env := kafkaenv.Broker(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ROACHWATCH_KILL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ROACHWATCH_KILL_SEED")
		seed = v
	}
	t.Logf("seed %d (ROACHWATCH_KILL_SEED=%[1]d replays the kill points)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ingestBinary(t) // build before the clock matters

	dir := t.TempDir()
	prefix := topicPrefix(t)
	topic := prefix + ".events"
	cfg := writeConfigInterval(t, dir, env.Plain, prefix, "", 2*time.Second)
	ck := filepath.Join(dir, "ck.json")
	a := newAppender(filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"))
	args := []string{"run", "--config", cfg, "--input", a.paths[0], "--input", a.paths[1]}
	a.mu.Lock()
	a.write(0, 300) // a backlog for the first run
	a.write(1, 300)
	a.mu.Unlock()
	go a.run(rand.New(rand.NewPCG(seed, 2)))
	defer a.stop()

	const rounds = 5
	var kills []kill9
	for round := range rounds {
		p := startIngest(t, args...)
		after := 1500*time.Millisecond + time.Duration(rng.Int64N(int64(3*time.Second)))
		time.Sleep(after)
		k := kill9{after: after}
		func() {
			a.mu.Lock() // no append until ingest is gone: size is where it stopped reading at the latest
			defer a.mu.Unlock()
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
			_ = p.wait(t, 10*time.Second)
			k.size = a.sizes()
			require.NoError(t, a.err)
		}()
		for f, path := range a.paths {
			c := checkpointOffset(t, ck, path)
			require.LessOrEqual(t, c, k.size[f])
			k.ck = append(k.ck, c)
			k.bound += a.entriesIn(f, c, k.size[f])
		}
		k.hw = settledHighWater(t, env.Plain, topic)
		kills = append(kills, k)
		t.Logf("kill %d after %s: checkpoints %v of sizes %v, %d entries in the unacknowledged window",
			round, after.Round(time.Millisecond), k.ck, k.size, k.bound)
	}

	// Last run: keep writing a little, stop the writer, wait until every
	// byte is checkpointed, then stop ingest gracefully.
	p := startIngest(t, args...)
	time.Sleep(time.Second)
	a.stop()
	a.mu.Lock()
	final := a.sizes()
	require.NoError(t, a.err)
	a.mu.Unlock()
	require.Eventually(t, func() bool {
		for f, path := range a.paths {
			if checkpointOffset(t, ck, path) != final[f] {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "everything checkpointed after the last restart; logs:\n%s", p.logs.String())
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 30*time.Second), p.logs.String())

	// The id of every entry, and where it is.
	type where struct {
		file int
		off  int64
	}
	entries := map[string]where{}
	for f := range a.paths {
		ids := idsOf(t, a.text[f].String())
		require.Len(t, ids, len(a.offsets[f]), "one event per entry in %s", a.paths[f])
		for i, id := range ids {
			entries[id] = where{f, a.offsets[f][i]}
		}
	}
	require.Len(t, entries, a.n, "event ids are unique")

	// Which run produced each message.
	runOf := func(r record) int {
		for k, kl := range kills {
			if r.Offset < kl.hw[r.Partition] {
				return k
			}
		}
		return rounds
	}
	perRun := make([]map[string]int, rounds+1)
	for k := range perRun {
		perRun[k] = map[string]int{}
	}
	total := map[string]int{}
	for _, r := range readUpTo(t, env.Plain, topic, highWater(t, env.Plain, topic)) {
		_, known := entries[r.ID]
		require.True(t, known, "message %d@%d: unknown event id %q", r.Offset, r.Partition, r.ID)
		perRun[runOf(r)][r.ID]++
		total[r.ID]++
	}
	missing, extra := 0, 0
	for id := range entries {
		if total[id] == 0 {
			missing++
		}
		extra += max(0, total[id]-1)
	}
	require.Zero(t, missing, "lines lost")
	for k, m := range perRun {
		for id, c := range m {
			require.Equal(t, 1, c, "run %d produced %s (file %d offset %d) %d times", k, id, entries[id].file, entries[id].off, c)
		}
	}

	sum, hit := 0, 0
	for k, kl := range kills {
		dups := 0
		lo := make([]int64, len(a.paths)) // lowest duplicated offset per file, -1 none
		for f := range lo {
			lo[f] = -1
		}
		for id := range perRun[k] {
			again := false
			for j := k + 1; j <= rounds && !again; j++ {
				again = perRun[j][id] > 0
			}
			if !again {
				continue
			}
			dups++
			e := entries[id]
			require.GreaterOrEqual(t, e.off, kl.ck[e.file], "kill %d: file %d offset %d produced again, but it is before the checkpoint", k, e.file, e.off)
			require.Less(t, e.off, kl.size[e.file], "kill %d: file %d offset %d was not written yet", k, e.file, e.off)
			if lo[e.file] < 0 || e.off < lo[e.file] {
				lo[e.file] = e.off
			}
		}
		// The restart resumes exactly at the checkpoint: nothing before it is read again.
		for id := range perRun[k+1] {
			e := entries[id]
			require.GreaterOrEqual(t, e.off, kl.ck[e.file], "run %d produced file %d offset %d, before the checkpoint it resumed from", k+1, e.file, e.off)
		}
		t.Logf("kill %d after %s: %d duplicates, bound %d (checkpoints %v, lowest duplicated offsets %v, sizes %v)",
			k, kl.after.Round(time.Millisecond), dups, kl.bound, kl.ck, lo, kl.size)
		require.LessOrEqual(t, dups, kl.bound, "kill %d: duplicates beyond the unacknowledged window", k)
		sum += dups
		if dups > 0 {
			hit++
		}
	}
	t.Logf("%d entries, %d messages, %d duplicates in all (%d of %d kills inside the window), 0 missing",
		len(entries), len(entries)+extra, extra, hit, rounds)
	require.Equal(t, extra, sum, "every duplicate is attributed to one kill")
	require.Positive(t, hit, "no kill landed in the unacknowledged window: the duplicate bound was not exercised")
}
