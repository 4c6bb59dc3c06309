package sqlirule

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
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
	small.MaxKeys = 2
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
			require.Positive(t, requireSame(t, tc.cfg, evs, tc.splits...), "the corpus has injections")
		})
	}
}

// attack is a synthetic stream: error probing that makes a burst (by
// user and by address), a tautology that opens an incident, errors while
// it is open (one logged twice), a sensitive read that escalates it, and
// another principal's burst.
func attack(t testing.TB) []*event.Event {
	var out []*event.Event
	add := func(e event.Event) { out = append(out, &e) }
	for i := range 6 {
		add(errEv(t, "web", "10.0.0.1", `SELECT "t"."c`+strconv.Itoa(i)+`" FROM "t"`, "42703", time.Duration(i)*time.Second))
	}
	add(ev(t, "web", "10.0.0.1", `SELECT id, username FROM auth_user WHERE username = (‹''›) OR (‹1› = ‹1›)`, 10*time.Second))
	for i := range 3 {
		e := errEv(t, "web", "10.0.0.1", `SELECT x FROM "t" WHERE a = ‹'`+strconv.Itoa(i)+`›`, "42601", time.Duration(20+i)*time.Second)
		add(e)
		if i == 1 {
			e.Type = "sampled_query"
			add(e)
		}
	}
	add(ev(t, "web", "10.0.0.1", `SELECT id, ssn FROM "".""."patients" WHERE id = ‹3›`, time.Minute))
	for i := range 5 {
		add(errEv(t, "u"+strconv.Itoa(i), "10.0.0.7", `SELECT "t"."d`+strconv.Itoa(i)+`" FROM "t"`, "42P01", 2*time.Minute+time.Duration(i)*time.Second))
	}
	return out
}

// TestSnapshotRestoreEverywhere splits the synthetic attack at every
// event, with the default caps and with one key per map.
func TestSnapshotRestoreEverywhere(t *testing.T) {
	in := attack(t)
	small := DefaultConfig()
	small.MaxKeys = 1
	for _, cfg := range []Config{DefaultConfig(), small} {
		for i := 1; i < len(in); i++ {
			require.Positive(t, requireSame(t, cfg, in, i))
		}
	}
}

// TestRestoreFollowsSQLStates: counts and remembered errors follow their
// SQLSTATE code when error_sqlstates is reordered, and are dropped with
// a code no longer listed.
func TestRestoreFollowsSQLStates(t *testing.T) {
	d := New(DefaultConfig())
	for _, e := range attack(t)[:10] {
		d.Observe(e, nil)
	}
	inc := d.incidents.get([]byte("web\x0010.0.0.1"))
	require.NotNil(t, inc)
	i42601, i42703 := d.stateIdx["42601"], d.stateIdx["42703"]
	require.Positive(t, inc.states[i42601])

	cfg := DefaultConfig()
	cfg.ErrorSQLStates = []string{"42601", "42P01", "22P02"} // 42703 dropped, 42601 moved
	moved := New(cfg)
	require.NoError(t, moved.Restore(bytes.NewReader(snapshotOf(t, d))))
	got := moved.incidents.get([]byte("web\x0010.0.0.1"))
	require.Equal(t, inc.states[i42601], got.states[0])
	require.Zero(t, got.states[1]+got.states[2])
	require.NotZero(t, inc.states[i42703], "the original counted 42703")
	for i := moved.bursts.head; i >= 0; i = moved.bursts.nodes[i].next {
		b := &moved.bursts.nodes[i].v
		for k := range b.n {
			require.Equal(t, int8(0), b.ring[k].state, "only 42601 errors remain")
		}
	}
}

func TestRestoreRejects(t *testing.T) {
	d := New(DefaultConfig())
	for _, e := range attack(t) {
		d.Observe(e, nil)
	}
	good := snapshotOf(t, d)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	version := bytes.Clone(good)
	version[len(snapMagic)] = 9
	frame := func(v uint64, fill func(e *snapEncoder)) []byte {
		e := newSnapEncoder(snapMagic, v)
		fill(e)
		var b bytes.Buffer
		require.NoError(t, e.writeTo(&b))
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a sqlirule detector snapshot"},
		{"other detector", []byte("RWANOM\x01\x00\x00\x00\x00\x00"), "not a sqlirule detector snapshot"},
		{"corrupt", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)-10], "checksum mismatch"},
		{"version byte altered", version, "checksum mismatch"}, // the CRC catches it first
		{"future version", frame(9, func(*snapEncoder) {}), "version 9"},
		{"too many codes", frame(snapVersion, func(e *snapEncoder) { e.u(maxSQLStates + 1); e.b = append(e.b, make([]byte, 64)...) }), "SQLSTATE count"},
		{"absurd incident count", frame(snapVersion, func(e *snapEncoder) { e.u(0); e.u(1 << 40) }), "incident count"},
		{"error of an unknown code", frame(snapVersion, func(e *snapEncoder) {
			e.u(1)
			e.str("42601")
			e.u(0)
			e.u(1)
			e.str("uweb")
			e.u(1)
			e.i(1)
			e.u(1)
			e.str("query_execute")
			e.str("id")
			e.u(3)
		}), "error SQLSTATE"},
		{"trailing bytes", frame(snapVersion, func(e *snapEncoder) {
			e.b = append(e.b, good[len(snapMagic)+1:len(good)-4]...)
			e.u(0)
		}), "trailing bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := New(DefaultConfig())
			fresh.Observe(attack(t)[0], nil)
			before := snapshotOf(t, fresh)
			err := fresh.Restore(bytes.NewReader(tc.data))
			require.ErrorIs(t, err, ErrSnapshot)
			require.ErrorContains(t, err, tc.want)
			require.Equal(t, before, snapshotOf(t, fresh), "a rejected snapshot leaves the state alone")
		})
	}
}

// FuzzRestore: Restore never panics on any input, framed or not, and a
// state it accepts can be snapshotted and used. Random bytes are tried
// as they are and inside a valid container (magic, version, checksum),
// so the fuzzer reaches the body decoder instead of stopping at the
// checksum.
func FuzzRestore(f *testing.F) {
	in := attack(f)
	d := New(DefaultConfig())
	for _, e := range in[:12] {
		d.Observe(e, nil)
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
		for _, b := range [][]byte{data, framed.Bytes()} {
			cfg := DefaultConfig()
			cfg.MaxKeys = 4
			fresh := New(cfg)
			if fresh.Restore(bytes.NewReader(b)) != nil {
				continue
			}
			require.NoError(t, fresh.Snapshot(&bytes.Buffer{}))
			for _, ev := range in {
				c := *ev
				fresh.Observe(&c, nil)
			}
		}
	})
}
