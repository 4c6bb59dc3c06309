package stream

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// failCounter is a stateful test detector in the spirit of brute-force
// detection: it counts failed logins per user and raises one incident
// per user once the count reaches threshold, growing with every further
// failure. Its count must survive a hand-over for the incident to appear.
type failCounter struct {
	threshold int
	counts    map[string]int
}

var failRule = detectors.Rule{ID: "RW-TEST-001", Title: "failures", Severity: detectors.SeverityHigh}

func (d *failCounter) Rules() []detectors.Rule { return []detectors.Rule{failRule} }

func (d *failCounter) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Type != "client_authentication_failed" {
		return out
	}
	d.counts[ev.User]++
	if d.counts[ev.User] < d.threshold {
		return out
	}
	f := detectors.Occurrence(failRule, detectors.IncidentID(failRule.ID, 0, ev.User), ev.Time, ev.ID)
	f.Principal.User = ev.User
	f.Details = map[string]string{"failures": fmt.Sprint(d.counts[ev.User])}
	return append(out, f)
}

func (d *failCounter) Snapshot(w io.Writer) error { return json.NewEncoder(w).Encode(d.counts) }

func (d *failCounter) Restore(r io.Reader) error {
	d.counts = map[string]int{}
	return json.NewDecoder(r).Decode(&d.counts)
}

func testOptions() *Options {
	cfg := DefaultConfig()
	cfg.ReorderLateness = 3
	return &Options{Config: cfg, NewDetectors: func() []detectors.Detector {
		return []detectors.Detector{&failCounter{threshold: 5, counts: map[string]int{}}}
	}}
}

func handoverEvents() []event.Event {
	var evs []event.Event
	users := []string{"alice", "bob", "carol"}
	for i := range 60 {
		u := users[i%3]
		typ := "client_authentication_failed"
		if i%7 == 0 {
			typ = "client_authentication_ok"
		}
		// Times wobble so the reorder buffer has work to do.
		evs = append(evs, event.Event{ID: fmt.Sprint("ev", i), Time: int64(100 + i*2 - (i%3)*3), User: u, Type: typ})
	}
	return evs
}

// run feeds evs[from:] (offsets = indexes) into st and returns the last
// version of every finding emitted, by id.
func run(st *partState, evs []event.Event, from int, finish bool) map[string]detectors.Finding {
	last := map[string]detectors.Finding{}
	var changed []*detectors.Finding
	emit := func(f *detectors.Finding) { changed = append(changed, f) }
	flush := func() {
		for _, f := range changed {
			last[f.ID] = st.version(f)
		}
		changed = changed[:0]
	}
	for i := from; i < len(evs); i++ {
		st.observe(&evs[i], int64(i), emit)
		flush()
	}
	if finish {
		st.finish(emit)
		flush()
	}
	return last
}

// A partition handed over at any offset — detector state, open findings
// and held events through a snapshot — ends with the findings a single
// owner would have produced, and a count split across the hand-over still
// raises one incident.
func TestHandOverKeepsState(t *testing.T) {
	o := testOptions()
	evs := handoverEvents()
	whole, err := newPartState(o, 0)
	require.NoError(t, err)
	want := run(whole, evs, 0, true)
	require.Len(t, want, 3, "one incident per user")

	for cut := 0; cut <= len(evs); cut++ {
		a, err := newPartState(o, 0)
		require.NoError(t, err)
		got := run(a, evs[:cut], 0, false)
		snap, err := a.encode()
		require.NoError(t, err)

		b, err := decodeState(o, snap)
		require.NoError(t, err)
		require.Equal(t, int64(cut), b.next, "the state covers every offset below the cut")
		for id, f := range run(b, evs, cut, true) {
			got[id] = f
		}
		require.Equal(t, mustJSON(t, want), mustJSON(t, got), "hand-over at offset %d", cut)
	}
}

// Without the snapshot the new owner starts from zero and the incident
// split across the hand-over is weaker or missing: the test above would
// catch a snapshot that silently dropped the detector's state.
func TestHandOverWithoutStateLosesCounts(t *testing.T) {
	o := testOptions()
	evs := handoverEvents()
	whole, _ := newPartState(o, 0)
	want := run(whole, evs, 0, true)
	fresh, _ := newPartState(o, 30)
	got := run(fresh, evs, 30, true)
	require.NotEqual(t, mustJSON(t, want), mustJSON(t, got))
}

func TestDecodeStateRejectsOtherVersions(t *testing.T) {
	_, err := decodeState(testOptions(), []byte(`{"v":99}`))
	require.ErrorContains(t, err, "version 99")
	_, err = decodeState(testOptions(), []byte(`not json`))
	require.Error(t, err)
}

func mustJSON(t *testing.T, m map[string]detectors.Finding) string {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}
