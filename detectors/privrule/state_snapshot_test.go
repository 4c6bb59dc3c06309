package privrule

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
	small.MaxRecent = 16
	detectorstest.SnapshotRestoreOnLoggen(t,
		func() detectorstest.Detector { return New(DefaultConfig()) },
		func() detectorstest.Detector { return New(small) }, "escalations")
}

// grants is a synthetic stream: escalations with their SQL_EXEC and
// TELEMETRY copies (counted once), one of them a minute later.
func grants() []*event.Event {
	return evs(grantRole("root", []string{"admin"}, []string{"web"}), copies("root", "GRANT", "grant admin to web", 0),
		tablePriv("web", "patients", "public", []string{"SELECT"}, nil), copies("web", "GRANT", "grant select on table patients to public", 30*time.Second),
		at(time.Minute, grantRole("root", []string{"admin"}, []string{"web"})), copies("root", "GRANT", "grant admin to web", 61*time.Second),
		at(2*time.Hour, roleOpts("alter_role", "web", "web", []string{"CREATEROLE"}, "alter role web with createrole")))
}

// TestSnapshotRestoreEverywhere splits the synthetic stream at every
// event, with the default ring and with a ring so small it forgets.
func TestSnapshotRestoreEverywhere(t *testing.T) {
	in := grants()
	cfg := DefaultConfig()
	small := cfg
	small.MaxRecent = 16
	for _, c := range []Config{cfg, small} {
		for i := 1; i < len(in); i++ {
			require.Positive(t, requireSame(t, c, in, i))
		}
	}
	// Overflow the small ring, then restore it into a bigger and a
	// smaller one.
	d := New(small)
	for i := range 40 {
		d.Observe(at(time.Duration(i)*time.Hour, grantRole("root", []string{"admin"}, []string{"u" + strconv.Itoa(i)})), nil)
	}
	snap := snapshotOf(t, d)
	big := New(cfg)
	require.NoError(t, big.Restore(bytes.NewReader(snap)))
	require.Equal(t, 16, big.recent.Len())
	require.Equal(t, snap, snapshotOf(t, big), "the oldest statement stays first")
}

func TestRestoreRejects(t *testing.T) {
	d := New(DefaultConfig())
	for _, ev := range grants() {
		d.Observe(ev, nil)
	}
	frame := func(fill func(e *snapcodec.Encoder)) []byte { return detectorstest.Frame(t, snapFormat, fill) }
	cases := append(detectorstest.ContainerRejects(t, snapFormat, snapshotOf(t, d)), []detectorstest.Reject{
		{Name: "absurd count", Data: frame(func(e *snapcodec.Encoder) { e.U(1 << 40) }), Want: "statement count"},
		{Name: "cut short", Data: frame(func(e *snapcodec.Encoder) { e.U(2); e.Str("root"); e.I(1) }), Want: "truncated or corrupt"},
		{Name: "duplicate", Data: frame(func(e *snapcodec.Encoder) {
			e.U(2)
			for range 2 {
				e.Str("root")
				e.I(1)
				e.Str("sig")
			}
		}), Want: "duplicate"},
	}...)
	detectorstest.RequireRejects(t, func() detectorstest.Detector {
		fresh := New(DefaultConfig())
		fresh.Observe(grantRole("root", []string{"admin"}, []string{"kept"}), nil)
		return fresh
	}, ErrSnapshot, cases)
}

// FuzzRestore: Restore never panics on any input, framed or not, and a
// state it accepts can be snapshotted and used.
func FuzzRestore(f *testing.F) {
	d := New(DefaultConfig())
	for _, ev := range grants() {
		d.Observe(ev, nil)
	}
	detectorstest.FuzzRestore(f, snapFormat, snapshotOf(f, d), func() *Detector {
		cfg := DefaultConfig()
		cfg.MaxRecent = 16
		return New(cfg)
	}, func(t *testing.T, fresh *Detector) {
		for _, ev := range grants() {
			fresh.Observe(ev, nil)
		}
	})
}
