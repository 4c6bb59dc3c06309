package detectorstest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// Detector is a detector whose state can be snapshotted.
type Detector interface {
	detectors.Detector
	detectors.Stateful
}

// Snapshot returns d's snapshot.
func Snapshot(tb testing.TB, d detectors.Stateful) []byte {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, d.Snapshot(&buf))
	return buf.Bytes()
}

// Swapper is the detector an engine holds in the snapshot tests: it
// delegates to D, which a test replaces between two events by a fresh
// detector restored from D's snapshot (what a restart or a partition
// handover does), and records every occurrence D returns as JSON. One
// engine thus aggregates the findings of both halves the way it would
// those of one detector, with no merging logic in the test.
type Swapper struct {
	D   Detector
	Occ [][]byte // every occurrence, as JSON
}

// Rules returns D's rules.
func (s *Swapper) Rules() []detectors.Rule { return s.D.Rules() }

// Observe forwards to D and records what it appends.
func (s *Swapper) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	n := len(out)
	out = s.D.Observe(ev, out)
	s.note(out[n:])
	return out
}

// Finish forwards to D when it is a detectors.Finisher and records what
// it appends.
func (s *Swapper) Finish(last int64, out []detectors.Finding) []detectors.Finding {
	f, ok := s.D.(detectors.Finisher)
	if !ok {
		return out
	}
	n := len(out)
	out = f.Finish(last, out)
	s.note(out[n:])
	return out
}

func (s *Swapper) note(fs []detectors.Finding) {
	for i := range fs {
		b, _ := json.Marshal(&fs[i])
		s.Occ = append(s.Occ, b)
	}
}

// Run is the outcome of SplitRun.
type Run struct {
	Occ      [][]byte // occurrences as JSON, in order
	Findings []byte   // the engine's findings as JSON
	Final    []byte   // the final snapshot
}

// SplitRun feeds evs through one engine and, before each index of
// splits (ascending), moves the state into a fresh detector from
// newDetector through Snapshot and Restore, requiring that the restored
// detector snapshots to the same bytes.
func SplitRun(t testing.TB, newDetector func() Detector, evs []*event.Event, splits ...int) Run {
	t.Helper()
	sw := &Swapper{D: newDetector()}
	e, err := detectors.NewEngine([]detectors.Detector{sw}, nil)
	require.NoError(t, err)
	for i, ev := range evs {
		for len(splits) > 0 && splits[0] == i {
			splits = splits[1:]
			snap := Snapshot(t, sw.D)
			fresh := newDetector()
			require.NoError(t, fresh.Restore(bytes.NewReader(snap)))
			require.Equal(t, snap, Snapshot(t, fresh), "a restored state snapshots to the same bytes")
			sw.D = fresh
		}
		e.Observe(ev)
	}
	e.Finish()
	findings, err := json.Marshal(e.Findings())
	require.NoError(t, err)
	return Run{Occ: sw.Occ, Findings: findings, Final: Snapshot(t, sw.D)}
}

// SplitRunEqual runs evs whole and split at splits and requires the same
// occurrences, findings and final state. It returns the number of
// occurrences.
func SplitRunEqual(t testing.TB, newDetector func() Detector, evs []*event.Event, splits ...int) int {
	t.Helper()
	whole := SplitRun(t, newDetector, evs)
	split := SplitRun(t, newDetector, evs, splits...)
	require.Equal(t, len(whole.Occ), len(split.Occ))
	for i := range whole.Occ {
		require.JSONEq(t, string(whole.Occ[i]), string(split.Occ[i]), "occurrence %d", i)
	}
	require.JSONEq(t, string(whole.Findings), string(split.Findings))
	require.Equal(t, whole.Final, split.Final, "same final state")
	t.Logf("%d occurrences, final state %d bytes", len(whole.Occ), len(whole.Final))
	return len(whole.Occ)
}

// Cut is one way of splitting a stream in the snapshot tests: the event
// indexes at which the detector's state goes through Snapshot and Restore.
type Cut struct {
	Name string
	At   []int
}

// StandardCuts are the cuts every Stateful detector is tested with over n
// events: at 20 %, 50 % and 90 %, and at every 10 %.
func StandardCuts(n int) []Cut {
	at := func(f float64) int { return int(float64(n) * f) }
	every := make([]int, 0, 9)
	for i := 1; i <= 9; i++ {
		every = append(every, at(float64(i)/10))
	}
	return []Cut{
		{"20%", []int{at(0.2)}},
		{"50%", []int{at(0.5)}},
		{"90%", []int{at(0.9)}},
		{"every 10%", every},
	}
}

// SnapshotRestoreOnLoggen is the loggen test of a Stateful detector: the
// loggen corpus run whole and split at every StandardCuts cut with
// detectors from newDetector, then split at half with newSmall (small
// caps, so that eviction happens), must give the same occurrences,
// findings and final state, and the corpus must make the detector report
// something (what names it, for the message). Skipped with -short.
func SnapshotRestoreOnLoggen(t *testing.T, newDetector, newSmall func() Detector, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip("uses the loggen corpus")
	}
	evs := LoggenEvents(t)
	for _, c := range StandardCuts(len(evs)) {
		t.Run(c.Name, func(t *testing.T) {
			require.Positive(t, SplitRunEqual(t, newDetector, evs, c.At...), "the corpus has %s", what)
		})
	}
	t.Run("50%, small caps and eviction", func(t *testing.T) {
		require.Positive(t, SplitRunEqual(t, newSmall, evs, len(evs)/2), "the corpus has %s", what)
	})
}
