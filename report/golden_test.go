package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/report"
	"roachwatch/schemas"
)

var (
	update        = flag.Bool("update", false, "rewrite golden files")
	updateCatalog = flag.Bool("update-catalog", false, "rewrite testdata/catalog.json from all.Rules()")
)

// pinnedRules is the rule catalog the golden reports are rendered with,
// pinned in testdata/catalog.json so that rule families added to
// all.Rules() do not change the golden files (TestCatalogRules covers
// the live catalog). -update-catalog refreshes it.
func pinnedRules(t *testing.T) []detectors.Rule {
	t.Helper()
	path := filepath.Join("testdata", "catalog.json")
	if *updateCatalog {
		b, err := json.MarshalIndent(all.Rules(), "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var rules []detectors.Rule
	require.NoError(t, json.Unmarshal(b, &rules))
	return rules
}

// generatedAt pins the generation time of every golden report.
var generatedAt = time.Date(2025, 6, 12, 9, 0, 0, 0, time.UTC)

// goldenCase is testdata/<case>/case.json. Paths are relative to the case
// directory; findings defaults to findings.jsonl, events to none.
//
// loggen-s3 was made with
//
//	go run ./cmd/loggen --out /tmp/rp --seed 3 --days 3
//	ROACHWATCH_REDACTION_KEY=0123456789abcdef0123 go run ./cmd/analyze run --input /tmp/rp \
//	  --output findings.jsonl --events-output events.jsonl --progress never
//
// keeping, of the events, only the SESSIONS-channel authentication and
// session-end events with the fields the report reads (gzipped).
type goldenCase struct {
	Since    string `json:"since"`
	Until    string `json:"until"`
	Findings string `json:"findings"`
	Events   string `json:"events"`
}

// build renders the report of one case directory.
func build(t *testing.T, dir string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "case.json"))
	require.NoError(t, err)
	var c goldenCase
	require.NoError(t, json.Unmarshal(b, &c))
	since, err := time.ParseDuration(strings.Replace(c.Since, "d", "h", 1))
	require.NoError(t, err)
	if strings.HasSuffix(c.Since, "d") {
		since *= 24
	}
	src := &report.JSONLSource{FindingsPath: filepath.Join(dir, "findings.jsonl")}
	if c.Findings != "" {
		src.FindingsPath = filepath.Join(dir, c.Findings)
	}
	if c.Events != "" {
		src.EventsPath = filepath.Join(dir, c.Events)
	} else if _, err := os.Stat(filepath.Join(dir, "events.jsonl")); err == nil {
		src.EventsPath = filepath.Join(dir, "events.jsonl")
	}
	o := report.Options{Since: since, GeneratedAt: generatedAt, Rules: pinnedRules(t), SourceName: "jsonl"}
	if c.Until != "" {
		o.Until, err = time.Parse(time.RFC3339, c.Until)
		require.NoError(t, err)
	}
	r, err := report.Build(context.Background(), src, o)
	require.NoError(t, err)
	return r
}

func caseDirs(t *testing.T) []string {
	dirs, err := filepath.Glob("testdata/*")
	require.NoError(t, err)
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "case.json")); err == nil {
			out = append(out, d)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// golden compares got with dir/name, rewriting it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./report -update to create it")
	require.Equal(t, string(want), string(got), "golden file %s differs; inspect and rerun with -update if intended", path)
}

func TestGolden(t *testing.T) {
	schema, err := schemas.Compile(schemas.Report)
	require.NoError(t, err)
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := build(t, dir)
			var js, md, html bytes.Buffer
			require.NoError(t, report.WriteJSON(&js, r))
			require.NoError(t, report.WriteMarkdown(&md, r))
			require.NoError(t, report.WriteHTML(&html, r))
			require.NoError(t, schemas.Validate(schema, js.Bytes()), "JSON report must match schemas/report.schema.json")
			golden(t, filepath.Join(dir, "want.json"), js.Bytes())
			golden(t, filepath.Join(dir, "want.md"), md.Bytes())

			// Same input, same bytes: rebuild and render again.
			var again bytes.Buffer
			require.NoError(t, report.WriteHTML(&again, build(t, dir)))
			require.Equal(t, html.String(), again.String(), "HTML output is not deterministic")
		})
	}
}
