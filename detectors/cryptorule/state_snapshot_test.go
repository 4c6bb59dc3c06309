package cryptorule

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors/detectorstest"
	"roachwatch/detectors/internal/snapcodec"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/event"
)

func snapshotOf(t testing.TB, d *Detector) []byte { return detectorstest.Snapshot(t, d) }

func loggenCatalog() *catalog.Catalog {
	return catalog.New(catalog.Config{Plaintext: []string{"customers.card_number"}})
}

// TestSnapshotRestore: splitting the loggen stream at any point, moving
// the state through Snapshot and Restore, gives the same occurrences, the
// same findings and the same final state as an uninterrupted run.
func TestSnapshotRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the loggen corpus")
	}
	evs := loadCorpus(t).events
	run := func(t *testing.T, cfg Config, at ...int) {
		cat := loggenCatalog()
		newDet := func() detectorstest.Detector { return New(cfg, cat) }
		require.Greater(t, detectorstest.SplitRunEqual(t, newDet, evs, at...), 20, "the corpus produces occurrences")
	}
	for _, c := range detectorstest.StandardCuts(len(evs)) {
		t.Run(c.Name, func(t *testing.T) { run(t, DefaultConfig(), c.At...) })
	}
	t.Run("50%, one open incident, short window", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.MaxIncidents, cfg.Window = 1, 3600e9
		run(t, cfg, len(evs)/2)
	})
}

// TestSnapshotDeterministic: the same state gives the same bytes, and a
// fresh detector's snapshot restores.
func TestSnapshotDeterministic(t *testing.T) {
	evs := []*event.Event{debugLine(1, "a"), debugLine(2, "b"), debugLine(3, "a")}
	a, b := New(DefaultConfig(), nil), New(DefaultConfig(), nil)
	for _, ev := range evs {
		a.Observe(ev, nil)
		b.Observe(ev, nil)
	}
	require.Equal(t, snapshotOf(t, a), snapshotOf(t, b))
	fresh := New(DefaultConfig(), nil)
	require.NoError(t, fresh.Restore(bytes.NewReader(snapshotOf(t, New(DefaultConfig(), nil)))))
	require.Empty(t, fresh.debug)
}

func debugLine(sec int64, host string) *event.Event {
	return &event.Event{ID: "e" + host, Time: sec * 1e9, Source: event.SourceDjango, Type: djangoSQLType, Node: host}
}

func TestRestoreRejects(t *testing.T) {
	d := New(DefaultConfig(), nil)
	for i := range int64(5) {
		d.Observe(debugLine(i, "web-1"), nil)
	}
	cases := append(detectorstest.ContainerRejects(t, snapFormat, snapshotOf(t, d)), detectorstest.Reject{
		Name: "absurd size",
		Data: detectorstest.Frame(t, snapFormat, func(e *snapcodec.Encoder) { e.I(0); e.U(1 << 40) }),
		Want: "incident count",
	})
	detectorstest.RequireRejects(t, func() detectorstest.Detector {
		fresh := New(DefaultConfig(), nil)
		fresh.Observe(debugLine(100, "kept"), nil)
		return fresh
	}, ErrSnapshot, cases)
}

// FuzzRestore: Restore never panics on any input, framed or not, and a
// state it accepts can be snapshotted.
func FuzzRestore(f *testing.F) {
	d := New(DefaultConfig(), loggenCatalog())
	for i := range int64(3) {
		d.Observe(debugLine(i, "web-1"), nil)
	}
	d.Observe(&event.Event{ID: "s", Time: 5e9, Source: event.SourceCRDB, Node: "1", Channel: "SQL_EXEC",
		Secrets: []event.Secret{{Type: "password", Field: "message", Hash: "h1"}}}, nil)
	d.Observe(&event.Event{ID: "r", Time: 6e9, Source: event.SourceCRDB, User: "web", StatementTag: "SELECT",
		FingerprintHash: 7, Tables: []string{"customers"}, Columns: []string{"card_number"}, Rows: 3}, nil)
	f.Add([]byte(snapMagic))
	detectorstest.FuzzRestore(f, snapFormat, snapshotOf(f, d), func() *Detector { return New(DefaultConfig(), nil) }, nil)
}
