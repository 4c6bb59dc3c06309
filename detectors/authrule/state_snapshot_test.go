package authrule

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
)

var corpus struct {
	once sync.Once
	evs  []*event.Event
	err  error
}

// loggenEvents generates two days of loggen traffic (seed 1, rate 4000)
// once per test binary and decodes it as cmd/analyze run does.
func loggenEvents(t testing.TB) []*event.Event {
	t.Helper()
	corpus.once.Do(func() {
		cfg := loggen.DefaultConfig()
		cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = filepath.Join(t.TempDir(), "gen"), 1, 2, 4000
		if _, corpus.err = loggen.Generate(cfg); corpus.err != nil {
			return
		}
		files, err := source.Expand([]string{cfg.Out})
		if err != nil {
			corpus.err = err
			return
		}
		key := []byte("0123456789abcdef0123")
		corpus.err = runner.Run(context.Background(), runner.Options{
			Files:         files,
			Format:        parse.FormatAuto,
			Formats:       formats.Options{MaxEntryBytes: 16 << 20, DjangoLocation: time.UTC},
			MaxLineBytes:  16 << 20,
			NewNormalizer: func() *parse.Normalizer { return parse.NewNormalizer(parse.NormalizerConfig{Key: key}) },
			Workers:       1,
			IngestTime:    1,
		}, &runner.Stats{}, func(ev *event.Event) error {
			c := *ev
			corpus.evs = append(corpus.evs, &c)
			return nil
		})
	})
	require.NoError(t, corpus.err)
	return corpus.evs
}

// recorder is the detector an engine holds in the snapshot tests: it
// delegates to d, which a test replaces between two events by a fresh
// detector restored from d's snapshot (what a restart or a partition
// handover does), and records every occurrence d returns as JSON. One
// engine thus aggregates the findings of both halves the way it would
// those of one detector, with no merging logic in the test.
type recorder struct {
	d   *Detector
	occ [][]byte
}

func (r *recorder) Rules() []detectors.Rule { return r.d.Rules() }

func (r *recorder) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	n := len(out)
	out = r.d.Observe(ev, out)
	for i := n; i < len(out); i++ {
		b, _ := json.Marshal(&out[i])
		r.occ = append(r.occ, b)
	}
	return out
}

func snapshotOf(t testing.TB, d *Detector) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, d.Snapshot(&buf))
	return buf.Bytes()
}

// runSplit feeds evs through one engine and, before each index of
// splits, moves the state into a fresh detector through Snapshot and
// Restore. It returns the occurrences, the engine's findings as JSON and
// the final snapshot.
func runSplit(t *testing.T, cfg Config, evs []*event.Event, splits ...int) ([][]byte, []byte, []byte) {
	t.Helper()
	rec := &recorder{d: New(cfg)}
	e, err := detectors.NewEngine([]detectors.Detector{rec}, nil)
	require.NoError(t, err)
	for i, ev := range evs {
		for len(splits) > 0 && splits[0] == i {
			splits = splits[1:]
			snap := snapshotOf(t, rec.d)
			fresh := New(cfg)
			require.NoError(t, fresh.Restore(bytes.NewReader(snap)))
			require.Equal(t, snap, snapshotOf(t, fresh), "a restored state snapshots to the same bytes")
			rec.d = fresh
		}
		e.Observe(ev)
	}
	e.Finish()
	findings, err := json.Marshal(e.Findings())
	require.NoError(t, err)
	return rec.occ, findings, snapshotOf(t, rec.d)
}

// requireSame runs evs whole and split and compares occurrences,
// findings and final state.
func requireSame(t *testing.T, cfg Config, evs []*event.Event, splits ...int) int {
	t.Helper()
	occ, findings, final := runSplit(t, cfg, evs)
	occ2, findings2, final2 := runSplit(t, cfg, evs, splits...)
	require.Equal(t, len(occ), len(occ2))
	for i := range occ {
		require.JSONEq(t, string(occ[i]), string(occ2[i]), "occurrence %d", i)
	}
	require.JSONEq(t, string(findings), string(findings2))
	require.Equal(t, final, final2, "same final state")
	t.Logf("%d occurrences, final state %d bytes", len(occ), len(final))
	return len(occ)
}

// TestSnapshotRestore: splitting the loggen stream, moving the state
// through Snapshot and Restore, gives the same occurrences, findings and
// final state as an uninterrupted run.
func TestSnapshotRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the loggen corpus")
	}
	evs := loggenEvents(t)
	at := func(f float64) int { return int(float64(len(evs)) * f) }
	small := DefaultConfig()
	small.MaxKeys, small.MaxConnections = 16, 16
	for _, tc := range []struct {
		name   string
		cfg    Config
		splits []int
	}{
		{"20%", DefaultConfig(), []int{at(0.2)}},
		{"50%", DefaultConfig(), []int{at(0.5)}},
		{"90%", DefaultConfig(), []int{at(0.9)}},
		{"every 10%", DefaultConfig(), []int{at(0.1), at(0.2), at(0.3), at(0.4), at(0.5), at(0.6), at(0.7), at(0.8), at(0.9)}},
		{"50%, small caps and eviction", small, []int{at(0.5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Positive(t, requireSame(t, tc.cfg, evs, tc.splits...), "the corpus has bursts")
		})
	}
}

// TestSnapshotRestoreEverywhere splits a synthetic attack (guessing with
// an expired password, spraying, a success after the burst) at every
// event.
func TestSnapshotRestoreEverywhere(t *testing.T) {
	evs := cat(fails(4, 0, time.Second, "alice", "10.0.0.9"), expired(5*time.Second, "alice", "10.0.0.9"),
		fails(2, 6*time.Second, time.Second, "alice", "10.0.0.9"), spray(12, "10.0.0.66"),
		one(login("ok", 20*time.Second, "alice", "10.0.0.9")))
	cfg := DefaultConfig()
	for i := 1; i < len(evs); i++ {
		requireSame(t, cfg, evs, i)
	}
	small := cfg
	small.MaxKeys, small.MaxConnections = 16, 16
	for i := 1; i < len(evs); i++ {
		requireSame(t, small, evs, i)
	}
}

func TestRestoreRejects(t *testing.T) {
	d := New(DefaultConfig())
	for _, ev := range fails(6, 0, time.Second, "bob", "10.1.1.1") {
		d.Observe(ev, nil)
	}
	good := snapshotOf(t, d)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	version := bytes.Clone(good)
	version[len(snapMagic)] = 9
	frame := func(fill func(e *snapEncoder)) []byte {
		e := newSnapEncoder(snapMagic, snapVersion)
		fill(e)
		var b bytes.Buffer
		require.NoError(t, e.writeTo(&b))
		return b.Bytes()
	}
	future := newSnapEncoder(snapMagic, 9)
	var futureBuf bytes.Buffer
	require.NoError(t, future.writeTo(&futureBuf))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an authrule detector snapshot"},
		{"other detector", []byte("RWANOM\x01\x00\x00\x00\x00\x00"), "not an authrule detector snapshot"},
		{"corrupt", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)-10], "checksum mismatch"},
		{"version byte altered", version, "checksum mismatch"}, // the CRC catches it first
		{"future version", futureBuf.Bytes(), "version 9"},
		{"absurd key count", frame(func(e *snapEncoder) { e.u(1 << 40) }), "key count"},
		{"bad kind", frame(func(e *snapEncoder) { e.u(1); e.u(7); e.str("u"); e.str("a") }), "key kind"},
		{"too many attempts", frame(func(e *snapEncoder) {
			e.u(1)
			e.u(0)
			e.str("u")
			e.str("a")
			e.u(maxAttempts + 1)
			e.b = append(e.b, make([]byte, 4096)...)
		}), "attempt count"},
		{"trailing bytes", frame(func(e *snapEncoder) {
			e.b = append(e.b, good[len(snapMagic)+1:len(good)-4]...)
			e.u(0)
		}), "trailing bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := New(DefaultConfig())
			fresh.Observe(login("failed", 0, "kept", "10.9.9.9"), nil)
			before := snapshotOf(t, fresh)
			err := fresh.Restore(bytes.NewReader(tc.data))
			require.ErrorIs(t, err, ErrSnapshot)
			require.ErrorContains(t, err, tc.want)
			require.Equal(t, before, snapshotOf(t, fresh), "a rejected snapshot leaves the state alone")
		})
	}
}

// FuzzRestore: Restore never panics on any input, framed or not, and a
// state it accepts can be snapshotted. Random bytes are tried as they
// are and inside a valid container (magic, version, checksum), so the
// fuzzer reaches the body decoder instead of stopping at the checksum.
func FuzzRestore(f *testing.F) {
	d := New(DefaultConfig())
	for _, ev := range cat(fails(6, 0, time.Second, "bob", "10.1.1.1"), one(login("ok", 7*time.Second, "bob", "10.1.1.1"))) {
		d.Observe(ev, nil)
	}
	var buf bytes.Buffer
	require.NoError(f, d.Snapshot(&buf))
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[len(snapMagic)+1 : buf.Len()-4])
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newSnapEncoder(snapMagic, snapVersion)
		e.b = append(e.b, data...)
		var framed bytes.Buffer
		require.NoError(t, e.writeTo(&framed))
		for _, in := range [][]byte{data, framed.Bytes()} {
			cfg := DefaultConfig()
			cfg.MaxKeys, cfg.MaxConnections = 16, 16
			fresh := New(cfg)
			if fresh.Restore(bytes.NewReader(in)) != nil {
				continue
			}
			require.NoError(t, fresh.Snapshot(&bytes.Buffer{}))
			fresh.Observe(login("failed", 0, "u", "10.0.0.1"), nil)
		}
	})
}
