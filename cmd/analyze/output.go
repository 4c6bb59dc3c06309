package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"roachwatch/detectors"
	"roachwatch/pipeline/runner"
)

func printFindings(w io.Writer, findings []detectors.Finding) {
	if len(findings) == 0 {
		fmt.Fprintln(w, "No findings.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tRULE\tCOUNT\tUSER\tCLIENT\tAPPLICATION\tFIRST SEEN (UTC)\tSUMMARY")
	for _, f := range findings {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n",
			strings.ToUpper(f.Severity.String()), f.RuleID, f.Count, dash(f.Principal.User), dash(f.Principal.ClientAddr),
			dash(f.Principal.Application), f.FirstSeen.Format("2006-01-02 15:04:05"), clip(f.Summary, 110))
	}
	tw.Flush()
}

func printSummary(w io.Writer, s *runner.Stats, findings []detectors.Finding, suppressed map[string]int64, elapsed time.Duration) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Summary")
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.Events) / elapsed.Seconds()
	}
	fmt.Fprintf(w, "  files:         %d read, %d skipped\n", s.Files-len(s.SkippedFiles), len(s.SkippedFiles))
	for _, f := range s.SkippedFiles {
		fmt.Fprintf(w, "    skipped %s\n", f)
	}
	fmt.Fprintf(w, "  formats:       %s\n", counts(toInt64(s.Formats)))
	fmt.Fprintf(w, "  lines read:    %d (%.1f MB)\n", s.Lines, float64(s.Bytes)/1e6)
	fmt.Fprintf(w, "  events:        %d in %s (%.0f events/s)\n", s.Events, elapsed.Round(time.Millisecond), rate)
	var nerr int64
	for _, n := range s.Errors {
		nerr += n
	}
	fmt.Fprintf(w, "  parse errors:  %d %s\n", nerr, counts(s.Errors))
	for _, e := range s.Samples {
		fmt.Fprintf(w, "    %s\n", e)
	}
	if s.OutOfOrder > 0 {
		fmt.Fprintf(w, "  out of order:  %d events arrived older than one already analyzed\n", s.OutOfOrder)
	}
	byRule := map[string]int64{}
	bySev := map[string]int64{}
	for _, f := range findings {
		byRule[f.RuleID]++
		bySev[f.Severity.String()]++
	}
	fmt.Fprintf(w, "  findings:      %d %s\n", len(findings), counts(bySev))
	fmt.Fprintf(w, "  by rule:       %s\n", counts(byRule))
	if len(suppressed) > 0 {
		fmt.Fprintf(w, "  suppressed:    %s (allowlists)\n", counts(suppressed))
	}
}

func toInt64(m map[string]int) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

// counts renders a map as "(a: 1, b: 2)" in key order, or "" when empty.
func counts(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// startProgress shows a byte-based progress bar on w while the run goes
// on, when mode says so (auto: only when w is a terminal). It returns the
// function that stops it.
func startProgress(mode string, w io.Writer, total int64, s *runner.Stats) func() {
	show := mode == "always"
	if mode == "auto" {
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			show = true
		}
	}
	if !show || total == 0 {
		return func() {}
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("reading logs"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = bar.Set64(s.BytesRead())
			case <-done:
				_ = bar.Finish()
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}
