//go:build browser

package report_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors/all"
	"roachwatch/report"
)

// The browser test renders a report in Debian's headless Chromium: the
// page must load without console errors, the charts must carry the
// expected series, and a screenshot is kept as a build artifact.
//
//	go test -tags browser ./report -run TestBrowser
//
// REPORT_FINDINGS / REPORT_EVENTS choose the input (default: the
// loggen-s3 testdata); REPORT_OUT the artifact directory (default: out/ at
// the repository root). scripts/report-browser-check.sh runs it on a
// fresh loggen scenario.

const chromium = "/usr/bin/chromium"

// chromiumRun runs headless Chromium with the flags that keep it offline
// and quiet, returning stdout and stderr.
func chromiumRun(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", stderr.String())
	return stdout.String(), stderr.String()
}

// consoleErrors returns the page's console messages and uncaught errors
// from Chromium's stderr log. The report has no script, so any console
// line is unexpected.
func consoleErrors(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") {
			out = append(out, l)
		}
	}
	return out
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no /usr/bin/chromium: run scripts/report-browser-check.sh (installs Debian's chromium)")
	}
	outDir, err := filepath.Abs(envOr("REPORT_OUT", filepath.Join("..", "out")))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(outDir, 0o755))

	// The detector of console errors must itself work: a page that throws.
	bad := filepath.Join(t.TempDir(), "bad.html")
	require.NoError(t, os.WriteFile(bad, []byte(`<!DOCTYPE html><p>x</p><script>null.f()</script>`), 0o644))
	_, stderr := chromiumRun(t, "--dump-dom", "file://"+bad)
	require.NotEmpty(t, consoleErrors(stderr), "a throwing page must be detected; chromium log:\n%s", stderr)

	src := &report.JSONLSource{
		FindingsPath: envOr("REPORT_FINDINGS", filepath.Join("testdata", "loggen-s3", "findings.jsonl")),
		EventsPath:   envOr("REPORT_EVENTS", filepath.Join("testdata", "loggen-s3", "events.jsonl.gz")),
	}
	r, err := report.Build(context.Background(), src, report.Options{Since: 7 * 24 * time.Hour, GeneratedAt: generatedAt, Rules: all.Rules()})
	require.NoError(t, err)
	page := filepath.Join(outDir, "report.html")
	f, err := os.Create(page)
	require.NoError(t, err)
	require.NoError(t, report.WriteHTML(f, r))
	require.NoError(t, f.Close())

	dom, stderr := chromiumRun(t, "--dump-dom", "file://"+page)
	require.Empty(t, consoleErrors(stderr), "console errors while loading the report")
	require.NoError(t, os.WriteFile(filepath.Join(outDir, "report.dom.html"), []byte(dom), 0o644))
	require.Contains(t, dom, "roachwatch audit report")

	// Series in the rendered DOM, per chart, against the report's data.
	want := map[string]int{"chart-matrix": 5 * len(r.Matrix), "chart-principals": len(r.Principals)}
	for _, d := range r.FindingsByDay {
		for _, n := range []int64{d.Counts.Critical, d.Counts.High, d.Counts.Medium, d.Counts.Low, d.Counts.Info} {
			if n > 0 {
				want["chart-findings-per-day"]++
			}
		}
	}
	for _, d := range r.TLS.Daily {
		for _, n := range []int64{d.TLS, d.NonTLS, d.Other} {
			if n > 0 {
				want["chart-sessions"]++
			}
		}
	}
	markRe := regexp.MustCompile(`<rect [^>]*data-series="`)
	for id, n := range want {
		i := strings.Index(dom, `<figure class="chart" id="`+id+`"`)
		require.GreaterOrEqual(t, i, 0, "chart %s missing from the DOM", id)
		fig := dom[i : i+strings.Index(dom[i:], "</figure>")]
		require.Equal(t, n, len(markRe.FindAllString(fig, -1)), "data-series marks of %s", id)
		require.Contains(t, fig, "<title>", "chart %s has no accessible title", id)
	}
	nonTLS := 0
	for _, d := range r.TLS.Daily {
		if d.NonTLS > 0 {
			nonTLS++
		}
	}
	require.Equal(t, nonTLS, strings.Count(dom, `data-series="non_tls"`), "non-TLS series in the sessions chart")

	shot := filepath.Join(outDir, "report.png")
	_, stderr = chromiumRun(t, "--screenshot="+shot, "--window-size=1280,4000", "file://"+page)
	require.Empty(t, consoleErrors(stderr))
	st, err := os.Stat(shot)
	require.NoError(t, err)
	require.Greater(t, st.Size(), int64(10_000), "screenshot looks empty")
	fmt.Fprintf(os.Stderr, "browser check: %s (%d bytes), DOM %s\n", shot, st.Size(), filepath.Join(outDir, "report.dom.html"))
}
