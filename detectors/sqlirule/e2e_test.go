package sqlirule

import (
	"context"
	"io"
	"log/slog"
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

// runLoggen generates a scenario and runs it through the decoders (wired
// as cmd/analyze/run.go does) and an engine holding only this detector.
func runLoggen(t testing.TB, seed uint64, days, rate int) (*loggen.Truth, []detectors.Finding, []event.Event) {
	t.Helper()
	cfg := loggen.DefaultConfig()
	cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = t.TempDir(), seed, days, rate
	truth, err := loggen.Generate(cfg)
	require.NoError(t, err)
	files, err := source.Expand([]string{cfg.Out})
	require.NoError(t, err)
	loc, err := time.LoadLocation(truth.DjangoTimezone)
	require.NoError(t, err)
	engine, err := detectors.NewEngine([]detectors.Detector{New(DefaultConfig())}, nil)
	require.NoError(t, err)
	key := []byte("e2e-test-key-0123456789")
	var sqliEvents []event.Event
	err = runner.Run(context.Background(), runner.Options{
		Files:         files,
		Format:        parse.FormatAuto,
		Formats:       formats.Options{MaxEntryBytes: 16 << 20, DjangoLocation: loc},
		MaxLineBytes:  16 << 20,
		NewNormalizer: func() *parse.Normalizer { return parse.NewNormalizer(parse.NormalizerConfig{Key: key}) },
		Workers:       1,
		Log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, &runner.Stats{}, func(ev *event.Event) error {
		engine.Observe(ev)
		if ev.Fingerprint != "" || ev.SQLState != "" {
			sqliEvents = append(sqliEvents, *ev)
		}
		return nil
	})
	require.NoError(t, err)
	engine.Finish()
	return truth, engine.Findings(), sqliEvents
}

func parseTime(t testing.TB, s string) time.Time {
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts
}

func TestLoggenEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two days of logs")
	}
	truth, findings, _ := runLoggen(t, 1, 2, 4000)
	var planted, lookalikes int
	for _, inc := range truth.Incidents {
		if inc.Category != "sqli" && inc.ExpectedRule != Rule001.ID {
			continue
		}
		first, last := parseTime(t, inc.FirstSeen), parseTime(t, inc.LastSeen)
		if inc.Lookalike {
			lookalikes++
			for _, f := range findings {
				if f.Severity < detectors.SeverityHigh || f.Principal.User != inc.Principal.User ||
					f.Principal.ClientAddr != inc.Principal.ClientAddr {
					continue
				}
				overlap := !f.LastSeen.Before(first) && !f.FirstSeen.After(last)
				require.False(t, overlap, "look-alike %s (%s) matched finding %s: %s", inc.ID, inc.Description, f.ID, f.Summary)
			}
			continue
		}
		if inc.ExpectedRule != Rule001.ID {
			continue
		}
		planted++
		decisive := parseTime(t, inc.DecisiveTime)
		found := false
		for _, f := range findings {
			if f.Principal.User == inc.Principal.User && !decisive.Before(f.FirstSeen) && !decisive.After(f.LastSeen) {
				found = true
				t.Logf("%s -> %s %s count=%d classes=%s sqlstates=%s", inc.ID, f.Severity, f.Title, f.Count,
					f.Details["classes"], f.Details["sqlstates"])
			}
		}
		require.True(t, found, "planted incident %s (%s at %s) has no finding", inc.ID, inc.Principal.User, inc.DecisiveTime)
	}
	require.Positive(t, planted)
	require.Positive(t, lookalikes)
	for _, f := range findings {
		t.Logf("finding %s %s user=%q client=%q app=%q count=%d %s..%s classes=%s", f.Severity, f.Title, f.Principal.User,
			f.Principal.ClientAddr, f.Principal.Application, f.Count, f.FirstSeen.Format(time.TimeOnly),
			f.LastSeen.Format(time.TimeOnly), f.Details["classes"])
	}
}

// BenchmarkObserve runs the detector over the statement and error events
// of a day of loggen traffic (mostly ORM statements, some errors, the
// planted injections and look-alikes), the realistic mix it sees.
func BenchmarkObserve(b *testing.B) {
	_, _, evs := runLoggen(b, 1, 1, 4000)
	if len(evs) == 0 {
		b.Fatal("no events")
	}
	b.ReportAllocs()
	b.ResetTimer()
	d := New(DefaultConfig())
	for i := 0; i < b.N; i++ {
		d.Observe(&evs[i%len(evs)], nil)
	}
}

// BenchmarkMatch classifies fingerprints without the cache.
func BenchmarkMatch(b *testing.B) {
	n := newTestNormalizer()
	fps := []string{}
	for _, s := range readLines(b, "benign_django.txt")[:50] {
		e := corpusEvent(n, "django", s, false)
		fps = append(fps, e.Fingerprint)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var s scanner
	for i := 0; i < b.N; i++ {
		s.classify(fps[i%len(fps)], nil)
	}
}
