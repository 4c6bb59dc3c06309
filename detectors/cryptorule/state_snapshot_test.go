package cryptorule

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/event"
)

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
	r.note(out[n:])
	return out
}

func (r *recorder) Finish(last int64, out []detectors.Finding) []detectors.Finding {
	n := len(out)
	out = r.d.Finish(last, out)
	r.note(out[n:])
	return out
}

func (r *recorder) note(fs []detectors.Finding) {
	for i := range fs {
		b, _ := json.Marshal(&fs[i])
		r.occ = append(r.occ, b)
	}
}

func snapshotOf(t testing.TB, d *Detector) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, d.Snapshot(&buf))
	return buf.Bytes()
}

// runSplit feeds evs through one engine and, before each index of splits,
// moves the state into a fresh detector through Snapshot and Restore. It
// returns the occurrences, the engine's findings as JSON and the final
// snapshot.
func runSplit(t *testing.T, newDet func() *Detector, evs []*event.Event, splits ...int) ([][]byte, []byte, []byte) {
	t.Helper()
	rec := &recorder{d: newDet()}
	e, err := detectors.NewEngine([]detectors.Detector{rec}, nil)
	require.NoError(t, err)
	for i, ev := range evs {
		for len(splits) > 0 && splits[0] == i {
			splits = splits[1:]
			snap := snapshotOf(t, rec.d)
			fresh := newDet()
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
	at := func(f float64) int { return int(float64(len(evs)) * f) }
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		splits []int
	}{
		{"20%", nil, []int{at(0.2)}},
		{"50%", nil, []int{at(0.5)}},
		{"90%", nil, []int{at(0.9)}},
		{"every 10%", nil, []int{at(0.1), at(0.2), at(0.3), at(0.4), at(0.5), at(0.6), at(0.7), at(0.8), at(0.9)}},
		{"50%, one open incident, short window", func(c *Config) { c.MaxIncidents, c.Window = 1, 3600e9 }, []int{at(0.5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			cat := loggenCatalog()
			newDet := func() *Detector { return New(cfg, cat) }
			occ, findings, final := runSplit(t, newDet, evs)
			require.Greater(t, len(occ), 20, "the corpus produces occurrences")
			occ2, findings2, final2 := runSplit(t, newDet, evs, tc.splits...)
			require.Equal(t, len(occ), len(occ2))
			for i := range occ {
				require.JSONEq(t, string(occ[i]), string(occ2[i]), "occurrence %d", i)
			}
			require.JSONEq(t, string(findings), string(findings2))
			require.Equal(t, final, final2, "same final state")
			t.Logf("%d occurrences, final state %d bytes", len(occ), len(final))
		})
	}
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
	good := snapshotOf(t, d)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	version := bytes.Clone(good)
	version[len(snapMagic)] = 9
	e := newSnapEncoder(snapMagic, 9)
	future := new(bytes.Buffer)
	require.NoError(t, e.writeTo(future))
	e = newSnapEncoder(snapMagic, snapVersion)
	e.i(0)
	e.u(1 << 40) // absurd incident count
	huge := new(bytes.Buffer)
	require.NoError(t, e.writeTo(huge))
	trailing := new(bytes.Buffer)
	e = newSnapEncoder(snapMagic, snapVersion)
	e.b = append(e.b, good[len(snapMagic)+1:len(good)-4]...)
	e.u(7)
	require.NoError(t, e.writeTo(trailing))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a cryptorule detector snapshot"},
		{"other detector", []byte("RWANOM\x01\x00\x00\x00\x00\x00"), "not a cryptorule detector snapshot"},
		{"corrupt", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)-10], "checksum mismatch"},
		{"version byte altered", version, "checksum mismatch"}, // the CRC catches it first
		{"future version", future.Bytes(), "version 9"},
		{"absurd size", huge.Bytes(), "incident count"},
		{"trailing bytes", trailing.Bytes(), "trailing bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := New(DefaultConfig(), nil)
			fresh.Observe(debugLine(100, "kept"), nil)
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
	d := New(DefaultConfig(), loggenCatalog())
	for i := range int64(3) {
		d.Observe(debugLine(i, "web-1"), nil)
	}
	d.Observe(&event.Event{ID: "s", Time: 5e9, Source: event.SourceCRDB, Node: "1", Channel: "SQL_EXEC",
		Secrets: []event.Secret{{Type: "password", Field: "message", Hash: "h1"}}}, nil)
	d.Observe(&event.Event{ID: "r", Time: 6e9, Source: event.SourceCRDB, User: "web", StatementTag: "SELECT",
		FingerprintHash: 7, Tables: []string{"customers"}, Columns: []string{"card_number"}, Rows: 3}, nil)
	var buf bytes.Buffer
	require.NoError(f, d.Snapshot(&buf))
	f.Add(buf.Bytes())
	f.Add([]byte(snapMagic))
	f.Add(buf.Bytes()[len(snapMagic)+1 : buf.Len()-4])
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newSnapEncoder(snapMagic, snapVersion)
		e.b = append(e.b, data...)
		var framed bytes.Buffer
		require.NoError(t, e.writeTo(&framed))
		for _, in := range [][]byte{data, framed.Bytes()} {
			fresh := New(DefaultConfig(), nil)
			if fresh.Restore(bytes.NewReader(in)) != nil {
				continue
			}
			var out bytes.Buffer
			require.NoError(t, fresh.Snapshot(&out))
		}
	})
}
