package cryptorule

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
	"roachwatch/schemas"
)

// corpus is a decoded loggen scenario shared by the end-to-end test and
// the benchmark.
type corpus struct {
	truth  *loggen.Truth
	events []*event.Event
}

var (
	corpusOnce sync.Once
	corpusVal  corpus
	corpusErr  error
)

// loadCorpus generates two days of loggen traffic (seed 1, 4000 entries a
// day) and decodes it the way cmd/analyze run does.
func loadCorpus(tb testing.TB) corpus {
	tb.Helper()
	corpusOnce.Do(func() {
		dir := filepath.Join(tb.TempDir(), "gen")
		cfg := loggen.DefaultConfig()
		cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, 1, 2, 4000
		truth, err := loggen.Generate(cfg)
		if err != nil {
			corpusErr = err
			return
		}
		files, err := source.Expand([]string{dir})
		if err != nil {
			corpusErr = err
			return
		}
		cat := catalog.New(catalog.Config{})
		key := []byte("0123456789abcdef0123456789abcdef")
		var evs []*event.Event
		corpusErr = runner.Run(context.Background(), runner.Options{
			Files:         files,
			Format:        parse.FormatAuto,
			Formats:       formats.Options{MaxEntryBytes: 16 << 20, DjangoLocation: time.UTC},
			MaxLineBytes:  16 << 20,
			NewNormalizer: func() *parse.Normalizer { return parse.NewNormalizer(parse.NormalizerConfig{Key: key, Catalog: cat}) },
			Workers:       1,
			Log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		}, &runner.Stats{}, func(ev *event.Event) error {
			c := *ev
			evs = append(evs, &c)
			return nil
		})
		corpusVal = corpus{truth: truth, events: evs}
	})
	require.NoError(tb, corpusErr)
	return corpusVal
}

func TestEndToEndLoggen(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and decodes two days of logs")
	}
	c := loadCorpus(t)
	require.NotEmpty(t, c.events)
	// The detector's catalog also lists customers.card_number as stored in
	// plaintext, so RW-CRYPTO-002 sees the exfiltration scenario's reads.
	det := New(DefaultConfig(), catalog.New(catalog.Config{Plaintext: []string{"customers.card_number"}}))
	engine, err := detectors.NewEngine([]detectors.Detector{det}, nil)
	require.NoError(t, err)
	for _, ev := range c.events {
		engine.Observe(ev)
	}
	engine.Finish()
	findings := engine.Findings()

	schema, err := schemas.Compile(schemas.Finding)
	require.NoError(t, err)
	for i := range findings {
		b, err := json.Marshal(&findings[i])
		require.NoError(t, err)
		require.NoError(t, schemas.Validate(schema, b), "finding %s", b)
	}

	covers := func(f *detectors.Finding, user string, t time.Time) bool {
		return f.Principal.User == user && !t.Before(f.FirstSeen) && !t.After(f.LastSeen)
	}
	parse := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return ts
	}
	planted, lookalikes := 0, 0
	for _, inc := range c.truth.Incidents {
		decisive := parse(inc.DecisiveTime)
		switch {
		case !inc.Lookalike && (inc.ExpectedRule == Rule001.ID || inc.ExpectedRule == Rule003.ID):
			planted++
			found := false
			for i := range findings {
				f := &findings[i]
				if f.RuleID == inc.ExpectedRule && f.Details["type"] != "django_debug_sql" && covers(f, inc.Principal.User, decisive) {
					found = true
					require.GreaterOrEqual(t, f.Severity, detectors.SeverityHigh, "incident %s: %s", inc.ID, f.Summary)
				}
			}
			require.True(t, found, "incident %s (%s) has no %s finding", inc.ID, inc.Description, inc.ExpectedRule)
		case inc.Lookalike && inc.Category == "plaintext_write":
			lookalikes++
			from, to := parse(inc.FirstSeen), parse(inc.LastSeen)
			for i := range findings {
				f := &findings[i]
				if f.RuleID == Rule001.ID && f.Principal.User == inc.Principal.User {
					overlap := !f.LastSeen.Before(from) && !f.FirstSeen.After(to)
					require.False(t, overlap, "look-alike %s (%s) got %s", inc.ID, inc.Description, f.Summary)
				}
			}
		}
	}
	require.Positive(t, planted, "the scenario plants RW-CRYPTO-001/003 incidents")
	require.Positive(t, lookalikes, "the scenario plants Fernet look-alikes")

	byRule := map[string]int{}
	for _, f := range findings {
		byRule[f.RuleID]++
		require.NotContains(t, f.Summary, "‹", "no redaction markers leak into summaries")
	}
	require.Positive(t, byRule[Rule002.ID], "exfiltration reads of customers.card_number")
	t.Logf("%d events, findings per rule: %v", len(c.events), byRule)
}

// BenchmarkObserve runs the detector over the decoded loggen mix
// (CockroachDB SQL, audit, telemetry and session events, Django SQL debug
// and request lines, planted incidents), with the default catalog and with
// customers.card_number listed as plaintext (every read of it is then an
// RW-CRYPTO-002 occurrence). Each op is a fresh detector over all events.
func BenchmarkObserve(b *testing.B) {
	c := loadCorpus(b)
	cats := []struct {
		name string
		cat  catalog.Config
	}{
		{"default_catalog", catalog.Config{}},
		{"plaintext_card_number", catalog.Config{Plaintext: []string{"customers.card_number"}}},
	}
	for _, bc := range cats {
		b.Run(bc.name, func(b *testing.B) {
			cat := catalog.New(bc.cat)
			var out []detectors.Finding
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				d := New(DefaultConfig(), cat)
				for _, ev := range c.events {
					out = d.Observe(ev, out[:0])
				}
				out = d.Finish(0, out[:0])
				n += len(c.events)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
			b.ReportMetric(float64(len(c.events)), "events/op")
		})
	}
}
