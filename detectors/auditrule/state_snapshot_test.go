package auditrule

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
	small.MaxStreams, small.MaxRecent = 8, 16
	detectorstest.SnapshotRestoreOnLoggen(t,
		func() detectorstest.Detector { return New(DefaultConfig()) },
		func() detectorstest.Detector { return New(small) }, "tampering and silences")
}

// tampered is a synthetic stream: three nodes logging, an HBA change, a
// setting switched off, node 1 falling silent right after it and
// speaking again later (the pending silence is closed from the state).
func tampered() []*event.Event {
	hba := setting("mallory", "server.host_based_authentication.configuration", "host all all all trust", 20*time.Minute)
	return mergeByTime(traffic([]string{"1", "2", "3"}, 0, 100*time.Minute, 10*time.Second, map[string]time.Duration{"1": 70 * time.Minute}),
		traffic([]string{"1"}, 95*time.Minute, 100*time.Minute, 10*time.Second, nil), hba,
		setting("mallory", "server.auth_log.sql_sessions.enabled", "false", 70*time.Minute+time.Second),
		auditStmt("mallory", "patients", "off", 75*time.Minute))
}

// TestSnapshotRestoreEverywhere splits the synthetic stream at many
// points, with the default caps and with caps so small streams and
// statements are forgotten.
func TestSnapshotRestoreEverywhere(t *testing.T) {
	in := tampered()
	small := DefaultConfig()
	small.MaxStreams, small.MaxRecent = 8, 16
	for _, cfg := range []Config{DefaultConfig(), small} {
		for i := 1; i < len(in); i += 37 {
			require.Positive(t, requireSame(t, cfg, in, i))
		}
	}
	// A restore into fewer streams drops those silent the longest.
	d := New(DefaultConfig())
	for i := range 20 {
		d.Observe(&event.Event{ID: "x", Time: t0 + int64(i), Source: event.SourceCRDB, Type: "log", Channel: "OPS", Node: strconv.Itoa(i)}, nil)
	}
	few := New(small)
	require.NoError(t, few.Restore(bytes.NewReader(snapshotOf(t, d))))
	require.Len(t, few.streams, 8)
	_, ok := few.streams[streamKey{node: "19", channel: "OPS", typ: "log"}]
	require.True(t, ok, "the newest stream is kept")
}

func TestRestoreRejects(t *testing.T) {
	d := New(DefaultConfig())
	for _, ev := range tampered()[:700] {
		d.Observe(ev, nil)
	}
	frame := func(fill func(e *snapcodec.Encoder)) []byte { return detectorstest.Frame(t, snapFormat, fill) }
	head := func(e *snapcodec.Encoder) { // maxTime, nextScan, empty activity
		e.I(0)
		e.I(0)
		e.Flag(false)
		e.I(0)
		for range activityMinutes / 64 {
			e.U(0)
		}
	}
	cases := append(detectorstest.ContainerRejects(t, snapFormat, snapshotOf(t, d)), []detectorstest.Reject{
		{Name: "too many tampers", Data: frame(func(e *snapcodec.Encoder) { head(e); e.U(maxTampers + 1); e.Raw(make([]byte, 64)) }), Want: "tamper count"},
		{Name: "absurd stream count", Data: frame(func(e *snapcodec.Encoder) { head(e); e.U(0); e.U(0); e.U(1 << 40) }), Want: "stream count"},
		{Name: "bad flag", Data: frame(func(e *snapcodec.Encoder) { e.I(0); e.I(0); e.U(2) }), Want: "flag"},
		{Name: "bad pending finding", Data: frame(func(e *snapcodec.Encoder) {
			head(e)
			e.U(0)
			e.U(0)
			e.U(1)
			for _, s := range []string{"c", "1", "OPS", "log", ""} {
				e.Str(s)
			}
			e.I(1)
			e.Str("id")
			e.I(0)
			e.U(1)
			e.Flag(true)
			e.Str("{not json")
			e.U(0)
		}), Want: "pending silence finding"},
	}...)
	detectorstest.RequireRejects(t, func() detectorstest.Detector {
		fresh := New(DefaultConfig())
		fresh.Observe(tampered()[0], nil)
		return fresh
	}, ErrSnapshot, cases)
}

// FuzzRestore: Restore never panics on any input, framed or not, and a
// state it accepts can be snapshotted and used.
func FuzzRestore(f *testing.F) {
	d := New(DefaultConfig())
	in := tampered()
	for _, ev := range in[:len(in)*85/100] { // a silence is pending
		d.Observe(ev, nil)
	}
	detectorstest.FuzzRestore(f, snapFormat, snapshotOf(f, d), func() *Detector {
		cfg := DefaultConfig()
		cfg.MaxStreams, cfg.MaxRecent = 8, 16
		return New(cfg)
	}, func(t *testing.T, fresh *Detector) {
		fresh.Observe(tampered()[0], nil)
		fresh.Finish(0, nil)
	})
}
