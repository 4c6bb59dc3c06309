package authrule

import (
	"testing"
	"time"

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
	small.MaxKeys, small.MaxConnections = 16, 16
	detectorstest.SnapshotRestoreOnLoggen(t,
		func() detectorstest.Detector { return New(DefaultConfig()) },
		func() detectorstest.Detector { return New(small) }, "bursts")
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
	frame := func(fill func(e *snapcodec.Encoder)) []byte { return detectorstest.Frame(t, snapFormat, fill) }
	cases := append(detectorstest.ContainerRejects(t, snapFormat, snapshotOf(t, d)), []detectorstest.Reject{
		{Name: "absurd key count", Data: frame(func(e *snapcodec.Encoder) { e.U(1 << 40) }), Want: "key count"},
		{Name: "bad kind", Data: frame(func(e *snapcodec.Encoder) { e.U(1); e.U(7); e.Str("u"); e.Str("a") }), Want: "key kind"},
		{Name: "too many attempts", Data: frame(func(e *snapcodec.Encoder) {
			e.U(1)
			e.U(0)
			e.Str("u")
			e.Str("a")
			e.U(maxAttempts + 1)
			e.Raw(make([]byte, 4096))
		}), Want: "attempt count"},
	}...)
	detectorstest.RequireRejects(t, func() detectorstest.Detector {
		fresh := New(DefaultConfig())
		fresh.Observe(login("failed", 0, "kept", "10.9.9.9"), nil)
		return fresh
	}, ErrSnapshot, cases)
}

// FuzzRestore: Restore never panics on any input, framed or not, and a
// state it accepts can be snapshotted and used.
func FuzzRestore(f *testing.F) {
	d := New(DefaultConfig())
	for _, ev := range cat(fails(6, 0, time.Second, "bob", "10.1.1.1"), one(login("ok", 7*time.Second, "bob", "10.1.1.1"))) {
		d.Observe(ev, nil)
	}
	detectorstest.FuzzRestore(f, snapFormat, snapshotOf(f, d), func() *Detector {
		cfg := DefaultConfig()
		cfg.MaxKeys, cfg.MaxConnections = 16, 16
		return New(cfg)
	}, func(t *testing.T, fresh *Detector) {
		fresh.Observe(login("failed", 0, "u", "10.0.0.1"), nil)
	})
}
