package sqlirule

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors/detectorstest"
	"roachwatch/detectors/internal/snapcodec"
	"roachwatch/pipeline/event"
)

func snapshotOf(t testing.TB, d *Detector) []byte { return detectorstest.Snapshot(t, d) }

// requireSame runs evs whole and split, with detectors of cfg, and
// compares occurrences, findings and final state.
func requireSame(t *testing.T, cfg Config, evs []*event.Event, splits ...int) int {
	t.Helper()
	return detectorstest.SplitRunEqual(t, func() detectorstest.Detector { return New(cfg) }, evs, splits...)
}

// TestSnapshotRestore: splitting the loggen stream, moving the state
// through Snapshot and Restore, gives the same occurrences, findings and
// final state as an uninterrupted run.
func TestSnapshotRestore(t *testing.T) {
	small := DefaultConfig()
	small.MaxKeys = 2
	detectorstest.SnapshotRestoreOnLoggen(t,
		func() detectorstest.Detector { return New(DefaultConfig()) },
		func() detectorstest.Detector { return New(small) }, "injections")
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
	frame := func(fill func(e *snapcodec.Encoder)) []byte { return detectorstest.Frame(t, snapFormat, fill) }
	cases := append(detectorstest.ContainerRejects(t, snapFormat, snapshotOf(t, d)), []detectorstest.Reject{
		{Name: "too many codes", Data: frame(func(e *snapcodec.Encoder) { e.U(maxSQLStates + 1); e.Raw(make([]byte, 64)) }), Want: "SQLSTATE count"},
		{Name: "absurd incident count", Data: frame(func(e *snapcodec.Encoder) { e.U(0); e.U(1 << 40) }), Want: "incident count"},
		{Name: "error of an unknown code", Data: frame(func(e *snapcodec.Encoder) {
			e.U(1)
			e.Str("42601")
			e.U(0)
			e.U(1)
			e.Str("uweb")
			e.U(1)
			e.I(1)
			e.U(1)
			e.Str("query_execute")
			e.Str("id")
			e.U(3)
		}), Want: "error SQLSTATE"},
	}...)
	detectorstest.RequireRejects(t, func() detectorstest.Detector {
		fresh := New(DefaultConfig())
		fresh.Observe(attack(t)[0], nil)
		return fresh
	}, ErrSnapshot, cases)
}

// FuzzRestore: Restore never panics on any input, framed or not, and a
// state it accepts can be snapshotted and used.
func FuzzRestore(f *testing.F) {
	in := attack(f)
	d := New(DefaultConfig())
	for _, e := range in[:12] {
		d.Observe(e, nil)
	}
	detectorstest.FuzzRestore(f, snapFormat, snapshotOf(f, d), func() *Detector {
		cfg := DefaultConfig()
		cfg.MaxKeys = 4
		return New(cfg)
	}, func(t *testing.T, fresh *Detector) {
		for _, ev := range in {
			c := *ev
			fresh.Observe(&c, nil)
		}
	})
}
