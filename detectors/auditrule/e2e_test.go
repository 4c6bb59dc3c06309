package auditrule_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/detectors/auditrule"
	"roachwatch/detectors/authrule"
	"roachwatch/detectors/privrule"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
)

// analyzeDir decodes every log under dir the way `analyze run` does
// (runner + formats + one normalizer per file, events in time order) and
// runs the three rule families through the engine.
func analyzeDir(t *testing.T, dir string) []detectors.Finding {
	t.Helper()
	files, err := source.Expand([]string{dir})
	require.NoError(t, err)
	var logs []source.File
	for _, f := range files {
		if filepath.Base(f.Path) != "truth.json" {
			logs = append(logs, f)
		}
	}
	engine, err := detectors.NewEngine([]detectors.Detector{
		authrule.New(authrule.DefaultConfig()), privrule.New(privrule.DefaultConfig()), auditrule.New(auditrule.DefaultConfig()),
	}, nil)
	require.NoError(t, err)
	key := []byte("e2e-test-key-0123456789")
	stats := &runner.Stats{}
	err = runner.Run(context.Background(), runner.Options{
		Files:         logs,
		Format:        parse.FormatAuto,
		Formats:       formats.Options{MaxEntryBytes: 16 << 20, DjangoLocation: time.UTC},
		MaxLineBytes:  16 << 20,
		NewNormalizer: func() *parse.Normalizer { return parse.NewNormalizer(parse.NormalizerConfig{Key: key}) },
		Workers:       2,
		IngestTime:    1,
	}, stats, func(ev *event.Event) error {
		engine.Observe(ev)
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, stats.SkippedFiles)
	require.Positive(t, stats.Events)
	engine.Finish()
	return engine.Findings()
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts
}

// TestEndToEndOverLoggen: every planted brute force, privilege escalation
// and audit tampering incident is found, and no look-alike gets a high or
// critical finding of these rules.
func TestEndToEndOverLoggen(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two days of logs")
	}
	dir := t.TempDir()
	cfg := loggen.DefaultConfig()
	cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, 1, 2, 4000
	truth, err := loggen.Generate(cfg)
	require.NoError(t, err)
	findings := analyzeDir(t, dir)

	rules := map[string]bool{authrule.Rule001.ID: true, privrule.Rule001.ID: true, auditrule.Rule001.ID: true}
	planted := map[string]int{}
	for _, inc := range truth.Incidents {
		if !rules[inc.ExpectedRule] || inc.Lookalike {
			continue
		}
		planted[inc.ExpectedRule]++
		decisive := parseTime(t, inc.DecisiveTime)
		found := false
		for _, f := range findings {
			if f.RuleID != inc.ExpectedRule || inc.Principal.User != "" && f.Principal.User != inc.Principal.User {
				continue
			}
			if !decisive.Before(f.FirstSeen) && !decisive.After(f.LastSeen) {
				found = true
				t.Logf("%s (%s, truth %s) -> %s %s count=%d: %s", inc.ID, inc.ExpectedRule, inc.Severity, f.Severity, f.ID, f.Count, f.Summary)
			}
		}
		require.True(t, found, "planted incident %s (%s by %s@%s at %s) has no finding", inc.ID, inc.ExpectedRule,
			inc.Principal.User, inc.Principal.ClientAddr, inc.DecisiveTime)
	}
	for r := range rules {
		require.Positive(t, planted[r], "the scenario must plant %s", r)
	}

	for _, inc := range truth.Incidents {
		if !inc.Lookalike {
			continue
		}
		first, last := parseTime(t, inc.FirstSeen), parseTime(t, inc.LastSeen)
		for _, f := range findings {
			if !rules[f.RuleID] || f.Severity < detectors.SeverityHigh || f.Principal.User != inc.Principal.User {
				continue
			}
			overlap := !f.LastSeen.Before(first) && !f.FirstSeen.After(last)
			require.False(t, overlap, "look-alike %s (%s) got %s finding %s: %s", inc.ID, inc.Description, f.Severity, f.RuleID, f.Summary)
		}
	}
	var other []string
	for _, f := range findings {
		if rules[f.RuleID] {
			other = append(other, f.Severity.String()+" "+f.RuleID+" "+f.Principal.User+" "+f.FirstSeen.Format(time.RFC3339)+" "+f.Summary)
		}
	}
	t.Logf("%d findings of the three rules:\n%s", len(other), strings.Join(other, "\n"))
	if os.Getenv("ROACHWATCH_E2E_VERBOSE") != "" {
		for _, f := range findings {
			t.Logf("%+v", f.Details)
		}
	}
}
