package anomaly

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// occurrences runs d over evs and returns every occurrence as JSON.
func occurrences(t testing.TB, d *Detector, evs []event.Event) []byte {
	var out []detectors.Finding
	for i := range evs {
		out = d.Observe(&evs[i], out)
	}
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return b
}

func snapshot(t testing.TB, d *Detector) []byte {
	var buf bytes.Buffer
	require.NoError(t, d.Snapshot(&buf))
	return buf.Bytes()
}

// TestDeterminism: two runs over the same input give byte-identical
// findings and snapshots.
func TestDeterminism(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the loggen corpus")
	}
	evs, _ := loggenEvents(t)
	a, b := New(DefaultConfig()), New(DefaultConfig())
	fa, fb := occurrences(t, a, evs), occurrences(t, b, evs)
	require.Equal(t, fa, fb)
	require.Greater(t, len(fa), 100, "the corpus produces findings")
	ja, err := json.Marshal(runEngine(t, New(DefaultConfig()), evs))
	require.NoError(t, err)
	jb, err := json.Marshal(runEngine(t, New(DefaultConfig()), evs))
	require.NoError(t, err)
	require.Equal(t, ja, jb)
	require.Equal(t, snapshot(t, a), snapshot(t, b))
}

// TestSnapshotRestore: run part of the stream, snapshot, restore into a
// fresh detector and run the rest; the occurrences equal those of an
// uninterrupted run.
func TestSnapshotRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the loggen corpus")
	}
	evs, _ := loggenEvents(t)
	whole := occurrences(t, New(DefaultConfig()), evs)
	for _, tc := range []struct {
		name  string
		split float64
		cfg   func(*Config)
	}{
		{"early, during warm-up", 0.2, nil},
		{"half", 0.5, nil},
		{"late", 0.9, nil},
		{"half, small caps and eviction", 0.5, func(c *Config) { c.MaxPrincipals, c.MaxFingerprints, c.MaxTables = 3, 8, 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			ref := whole
			if tc.cfg != nil {
				ref = occurrences(t, New(cfg), evs)
			}
			n := int(float64(len(evs)) * tc.split)
			first := New(cfg)
			head := occurrences(t, first, evs[:n])
			snap := snapshot(t, first)
			second := New(cfg)
			require.NoError(t, second.Restore(bytes.NewReader(snap)))
			require.Equal(t, snap, snapshot(t, second), "a restored state snapshots to the same bytes")
			require.LessOrEqual(t, second.MemoryBytes(), first.MemoryBytes(), "restore compacts, never grows")
			tail := occurrences(t, second, evs[n:])
			var a, b, c []json.RawMessage
			require.NoError(t, json.Unmarshal(ref, &a))
			require.NoError(t, json.Unmarshal(head, &b))
			require.NoError(t, json.Unmarshal(tail, &c))
			require.Equal(t, len(a), len(b)+len(c))
			for i := range a {
				got := b
				j := i
				if i >= len(b) {
					got, j = c, i-len(b)
				}
				require.JSONEq(t, string(a[i]), string(got[j]))
			}
		})
	}
}

func TestRestoreRejects(t *testing.T) {
	g := &gen{rnd: 1}
	d := New(DefaultConfig())
	evs := g.steady("web", day0, day, min_, shapes(3), 3, 0, 24)
	occurrences(t, d, evs)
	good := snapshot(t, d)

	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	version := bytes.Clone(good)
	version[len(snapMagic)] = 9
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an anomaly detector snapshot"},
		{"other file", []byte("hello, world, not a snapshot"), "not an anomaly detector snapshot"},
		{"corrupt", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)-10], "checksum mismatch"},
		{"future version", version, "checksum mismatch"}, // the CRC catches it first
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := New(DefaultConfig())
			err := fresh.Restore(bytes.NewReader(tc.data))
			require.ErrorIs(t, err, ErrSnapshot)
			require.ErrorContains(t, err, tc.want)
			require.Zero(t, fresh.Principals(), "a rejected snapshot leaves the state alone")
		})
	}

	small := DefaultConfig()
	small.MaxFingerprints = 1
	d2 := New(small)
	require.NoError(t, d2.Restore(bytes.NewReader(good)))
	require.Equal(t, 1, d2.Principals())
	require.Len(t, d2.st.ps[d2.st.head].fps, 1, "restore fits the state to smaller caps")
}
