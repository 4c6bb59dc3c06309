package report_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/report"
)

// seriesRe matches one chart mark and captures series, day/key and value.
var seriesRe = regexp.MustCompile(`<rect class="mark"[^>]* data-series="([^"]+)"(?: data-day="([^"]+)")?(?: data-key="([^"]*)")? data-value="([0-9]+)"`)

// marks returns "chart/series/day-or-key" -> value for every SVG mark.
func marks(t *testing.T, html string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, fig := range strings.Split(html, `<figure class="chart" id="`)[1:] {
		id := fig[:strings.IndexByte(fig, '"')]
		for _, m := range seriesRe.FindAllStringSubmatch(fig, -1) {
			out[id+"/"+m[1]+"/"+m[2]+m[3]] = m[4]
		}
	}
	return out
}

func renderHTML(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.WriteHTML(&b, r))
	return b.String()
}

func TestHTMLEscapesUntrustedText(t *testing.T) {
	html := renderHTML(t, build(t, filepath.Join("testdata", "hostile")))
	for _, bad := range []string{"<script", "<img", "<iframe", "alert(\"x\")"} {
		require.False(t, strings.Contains(html, bad), "untrusted text reached the page unescaped: %s", bad)
	}
	require.Contains(t, html, "&lt;img src=x onerror=alert(1)&gt;", "the principal must appear, escaped")
	require.Contains(t, html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	// Inside SVG too: the top-principals chart labels and keys.
	require.Regexp(t, `data-key="&lt;script&gt;alert\(&#34;x&#34;\)&lt;/script&gt;"`, html)
	require.False(t, strings.Contains(html, "ZgotmplZ"), "a template value was rejected by html/template")
}

func TestHTMLSelfContained(t *testing.T) {
	html := renderHTML(t, build(t, filepath.Join("testdata", "loggen-s3")))
	for _, ext := range []string{"<script", "<link", "@import", "url(", "src=", "http://", "https://"} {
		if ext == "http://" {
			// The SVG namespace is an identifier, not a fetch.
			html = strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, "")
		}
		require.False(t, strings.Contains(html, ext), "the report must not load anything: %s", ext)
	}
	require.Equal(t, 4, strings.Count(html, `<figure class="chart"`))
	require.Equal(t, 4, strings.Count(html, `role="img" aria-label=`))
	require.Contains(t, html, "@media print")
}

func TestHTMLSeriesMatchFindings(t *testing.T) {
	r := build(t, filepath.Join("testdata", "hostile"))
	got := marks(t, renderHTML(t, r))

	// Findings per day: one mark per (day, severity) with findings, value
	// = the findings first seen that day with that severity.
	fs, err := (&report.JSONLSource{FindingsPath: filepath.Join("testdata", "hostile", "findings.jsonl")}).
		Findings(context.Background(), r.Period.From, r.Period.To)
	require.NoError(t, err)
	want := map[string]int{}
	for _, f := range fs {
		want["chart-findings-per-day/"+f.Severity.String()+"/"+f.FirstSeen.UTC().Format(time.DateOnly)]++
	}
	n := 0
	for k, v := range got {
		if strings.HasPrefix(k, "chart-findings-per-day/") {
			n++
			require.Equal(t, strconv.Itoa(want[k]), v, k)
		}
	}
	require.Equal(t, len(want), n, "one mark per day and severity with findings")

	// Sessions: hostile/events.jsonl has one hostnossl and two hostssl
	// sessions (the local one is internal).
	require.Equal(t, "1", got["chart-sessions/non_tls/2025-06-10"])
	require.Equal(t, "1", got["chart-sessions/tls/2025-06-10"])
	require.Equal(t, "2", got["chart-sessions/tls/2025-06-11"], "a hostssl session and a failed hostssl authentication")

	// Matrix: every catalog rule x 5 severities, cell = findings.
	require.Equal(t, "1", got["chart-matrix/high/RW-SQLI-001"])
	require.Equal(t, "1", got["chart-matrix/critical/RW-CRYPTO-003"])
	require.Equal(t, "1", got["chart-matrix/high/RW-CRYPTO-003"])
	cells := 0
	for k := range got {
		if strings.HasPrefix(k, "chart-matrix/") {
			cells++
		}
	}
	require.Equal(t, 5*len(r.Matrix), cells)

	// Principals: one bar per user, value = occurrences.
	require.Equal(t, "35", got["chart-principals/sensitive_access/reporting"])
}

func TestCatalogRules(t *testing.T) {
	// The live catalog: every rule of all.Rules() is in the compliance
	// table and the matrix, whatever families exist today.
	r, err := report.Build(context.Background(), &report.JSONLSource{FindingsPath: filepath.Join("testdata", "hostile", "findings.jsonl")},
		report.Options{Since: 3 * 24 * time.Hour, Rules: all.Rules()})
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, c := range r.Compliance {
		ids[c.RuleID] = true
	}
	for _, rule := range all.Rules() {
		require.True(t, ids[rule.ID], "%s missing from the compliance table", rule.ID)
	}
	require.Len(t, r.Matrix, len(r.Compliance))
}

func TestNoDataNeedsUntil(t *testing.T) {
	_, err := report.Build(context.Background(), &report.JSONLSource{FindingsPath: filepath.Join("testdata", "empty", "findings.jsonl")},
		report.Options{Since: time.Hour, Rules: []detectors.Rule{}})
	require.ErrorIs(t, err, report.ErrNoData)
}

func TestNeverCopiesValues(t *testing.T) {
	// Value hashes and distinct-value counts stay out of every rendering.
	r := build(t, filepath.Join("testdata", "hostile"))
	var js, md bytes.Buffer
	require.NoError(t, report.WriteJSON(&js, r))
	require.NoError(t, report.WriteMarkdown(&md, r))
	for _, out := range []string{js.String(), md.String(), renderHTML(t, r)} {
		require.False(t, strings.Contains(out, "distinct_values") || strings.Contains(out, "distinct_hashes"))
	}
	_, err := os.Stat(filepath.Join("testdata", "hostile", "findings.jsonl"))
	require.NoError(t, err)
}
