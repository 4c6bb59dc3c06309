package anomaly

import (
	"context"
	"os"
	"slices"
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
	once   sync.Once
	events []event.Event
	truth  *loggen.Truth
	err    error
}

// loggenEvents generates three days of loggen traffic (seed 1, rate 4000)
// once per test binary and decodes it the way cmd/analyze run does.
func loggenEvents(t testing.TB) ([]event.Event, *loggen.Truth) {
	t.Helper()
	corpus.once.Do(func() {
		dir, err := os.MkdirTemp("", "anomaly-loggen-")
		if err != nil {
			corpus.err = err
			return
		}
		cfg := loggen.DefaultConfig()
		cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, 1, 3, 4000
		if r, err := strconv.Atoi(os.Getenv("ANOMALY_E2E_RATE")); err == nil && r > 0 {
			cfg.Rate = r // manual runs at other traffic levels
		}
		tr, err := loggen.Generate(cfg)
		if err != nil {
			corpus.err = err
			return
		}
		files, err := source.Expand([]string{dir})
		if err != nil {
			corpus.err = err
			return
		}
		files = slices.DeleteFunc(files, func(f source.File) bool { return f.Path == dir+"/truth.json" })
		key := []byte("0123456789abcdef0123")
		stats := &runner.Stats{}
		var evs []event.Event
		corpus.err = runner.Run(context.Background(), runner.Options{
			Files:   files,
			Format:  parse.FormatAuto,
			Formats: formats.Options{DjangoLocation: time.UTC},
			NewNormalizer: func() *parse.Normalizer {
				return parse.NewNormalizer(parse.NormalizerConfig{Key: key})
			},
			Workers:    2,
			IngestTime: 1,
		}, stats, func(ev *event.Event) error {
			evs = append(evs, cloneEvent(ev))
			return nil
		})
		corpus.events, corpus.truth = evs, tr
		os.RemoveAll(dir)
	})
	require.NoError(t, corpus.err)
	return corpus.events, corpus.truth
}

// cloneEvent copies ev deeply enough to outlive the runner's reuse.
func cloneEvent(ev *event.Event) event.Event {
	c := *ev
	c.Tables = slices.Clone(ev.Tables)
	c.Columns = slices.Clone(ev.Columns)
	c.SensitiveColumns = slices.Clone(ev.SensitiveColumns)
	c.Values, c.Secrets, c.Attrs, c.QueryTags = nil, nil, nil, nil
	return c
}

func runEngine(t testing.TB, d *Detector, evs []event.Event) []detectors.Finding {
	e, err := detectors.NewEngine([]detectors.Detector{d}, nil)
	require.NoError(t, err)
	for i := range evs {
		e.Observe(&evs[i])
	}
	e.Finish()
	return e.Findings()
}

func TestLoggenEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("generates three days of logs")
	}
	evs, tr := loggenEvents(t)
	d := New(DefaultConfig())
	findings := runEngine(t, d, evs)
	t.Logf("%d events, %d principals, state %d bytes", len(evs), d.Principals(), d.MemoryBytes())

	matched := map[string]bool{}
	for _, inc := range tr.Incidents {
		if inc.Lookalike || (inc.ExpectedRule != "RW-ANOM-001" && inc.ExpectedRule != "RW-ANOM-005" && inc.ExpectedRule != "RW-ANOM-006") {
			continue
		}
		decisive, err := time.Parse(time.RFC3339Nano, inc.DecisiveTime)
		require.NoError(t, err)
		found := false
		for _, f := range findings {
			if f.RuleID == inc.ExpectedRule && f.Principal.User == inc.Principal.User &&
				!decisive.Before(f.FirstSeen) && !decisive.After(f.LastSeen) {
				found, matched[f.ID] = true, true
				t.Logf("%s found: %s %s — %s", inc.ID, f.RuleID, f.Severity, f.Summary)
			}
		}
		require.True(t, found, "incident %s (%s, %s at %s) not found", inc.ID, inc.ExpectedRule, inc.Principal.User, inc.DecisiveTime)
	}
	// Findings that match no planted anomaly incident: attacks of other
	// categories seen by a baseline (brute force from a new address,
	// injection as a new shape) and false positives on benign traffic.
	for _, f := range findings {
		if matched[f.ID] {
			continue
		}
		inc := overlapping(tr, f)
		t.Logf("other: %s %-8s %s first %s (incident %q) %s", f.RuleID, f.Severity, f.Principal.User,
			f.FirstSeen.Format(time.RFC3339), inc, f.Summary)
		if inc == "" || lookalike(tr, inc) {
			require.Less(t, f.Severity, detectors.SeverityHigh, "high/critical anomaly finding on benign traffic: %+v", f)
		}
	}
}

// overlapping names the planted incident (not look-alike) whose principal
// and time span the finding touches, or "".
func overlapping(tr *loggen.Truth, f detectors.Finding) string {
	for _, inc := range tr.Incidents {
		first, _ := time.Parse(time.RFC3339Nano, inc.FirstSeen)
		last, _ := time.Parse(time.RFC3339Nano, inc.LastSeen)
		if inc.Principal.User == f.Principal.User && !f.FirstSeen.After(last.Add(time.Minute)) && !f.LastSeen.Before(first.Add(-time.Minute)) {
			return inc.ID
		}
	}
	return ""
}

func lookalike(tr *loggen.Truth, id string) bool {
	for _, inc := range tr.Incidents {
		if inc.ID == id {
			return inc.Lookalike
		}
	}
	return false
}
