package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/report"
)

type reportFlags struct {
	since       string
	until       string
	format      string
	out         string
	findings    string
	events      string
	generatedAt string
}

// newReportCmd builds `analyze report`.
func newReportCmd() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report --since 7d --format html|md|json --out FILE [--findings findings.jsonl [--events events.jsonl]]",
		Short: "Render an audit report (HTML with charts, Markdown or JSON) from findings and session events",
		Long: `Report reads the findings of a period - from the findings JSONL of 'analyze run --output'
(the embedded default) - and, with --events, the events JSONL of 'analyze run --events-output'
for TLS posture over time. Without --findings it reads both from the ClickHouse store of the
clickhouse config section (clickhouse.enabled, or ROACHWATCH_CLICKHOUSE_ENABLED=true), which
gives the same report for the same data.

It renders an audit report: executive summary with trend against
the previous period of the same length, TLS posture, cryptographic failures, injection /
authentication / privilege / audit-tampering findings, anomalies, the compliance mapping of the
rule catalog and a remediation checklist judged from the evidence.

The period is [until - since, until]; --until defaults to the newest last_seen in the data, so
reports of old log files work. Without --events, TLS posture comes from RW-TLS-001 findings
and the report says so.

Exit status: 0 written; 2 bad flags or config; 1 reading or writing failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options()
			if err != nil {
				return cli.Usage(err)
			}
			src, name, closeSrc, err := f.source(cmd)
			if err != nil {
				return cli.Usage(err)
			}
			defer closeSrc()
			opts.SourceName = name
			r, err := report.Build(cmd.Context(), src, opts)
			if errors.Is(err, report.ErrNoData) {
				return cli.Usage(err)
			}
			if err != nil {
				return err
			}
			return writeReport(f.out, cmd.OutOrStdout(), func(w io.Writer) error { return render(f.format, w, r) })
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "7d", "length of the period: a Go duration or Nd / Nw (days, weeks)")
	fl.StringVar(&f.until, "until", "", "end of the period, RFC 3339 or YYYY-MM-DD (end of that day, UTC); default: the newest last_seen in the data")
	fl.StringVar(&f.format, "format", "html", "html, md or json")
	fl.StringVarP(&f.out, "out", "o", "", "write the report to this file (written atomically); - for stdout")
	fl.StringVar(&f.findings, "findings", "", "findings JSONL written by `analyze run --output` (.gz accepted); default: the ClickHouse store when clickhouse.enabled")
	fl.StringVar(&f.events, "events", "", "events JSONL written by `analyze run --events-output`, for TLS posture over time (optional)")
	fl.StringVar(&f.generatedAt, "generated-at", "", "pin the generation time (RFC 3339), for reproducible output; default: now")
	return cmd
}

// options validates the flags that shape the report.
func (f reportFlags) options() (report.Options, error) {
	var o report.Options
	var errs []error
	since, err := parseSpan(f.since)
	if err != nil {
		errs = append(errs, fmt.Errorf("--since: %w", err))
	}
	o.Since = since
	if f.until != "" {
		if o.Until, err = parseInstant(f.until, true); err != nil {
			errs = append(errs, fmt.Errorf("--until: %w", err))
		}
	}
	o.GeneratedAt = time.Now().UTC().Truncate(time.Second)
	if f.generatedAt != "" {
		if o.GeneratedAt, err = parseInstant(f.generatedAt, false); err != nil {
			errs = append(errs, fmt.Errorf("--generated-at: %w", err))
		}
	}
	switch f.format {
	case "html", "md", "json":
	default:
		errs = append(errs, fmt.Errorf("--format: %q is not html, md or json", f.format))
	}
	if f.out == "" {
		errs = append(errs, errors.New("--out: name the report file (or - for stdout)"))
	}
	o.Rules = all.Rules()
	return o, errors.Join(errs...)
}

// source picks the data source: the findings JSONL when --findings is
// given (the embedded default), else the ClickHouse store when the config
// enables it. close releases the source; errors are usage errors.
func (f reportFlags) source(cmd *cobra.Command) (report.Source, string, func(), error) {
	noop := func() {}
	if f.findings == "" {
		return f.clickhouseSource(cmd)
	}
	for _, p := range []string{f.findings, f.events} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return nil, "", noop, err
		}
	}
	return &report.JSONLSource{FindingsPath: f.findings, EventsPath: f.events}, "jsonl", noop, nil
}

// clickhouseSource opens the store of the clickhouse config section.
func (f reportFlags) clickhouseSource(cmd *cobra.Command) (report.Source, string, func(), error) {
	noop := func() {}
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		return nil, "", noop, err
	}
	if !cfg.ClickHouse.Enabled {
		return nil, "", noop, errors.New("--findings: name the findings JSONL of `analyze run --output`, or enable the ClickHouse " +
			"store (clickhouse.enabled: true or ROACHWATCH_CLICKHOUSE_ENABLED=true) to report from it")
	}
	if f.events != "" {
		return nil, "", noop, errors.New("--events goes with --findings: the ClickHouse store reads sessions from its events table")
	}
	store, err := clickhousesink.Open(cmd.Context(), cfg.ClickHouse, cli.NewLogger(cfg.Log, cmd.ErrOrStderr()))
	if err != nil {
		return nil, "", noop, err
	}
	return &report.ClickHouseSource{Store: store}, "clickhouse", func() { _ = store.Close() }, nil
}

func render(format string, w io.Writer, r *report.Report) error {
	switch format {
	case "md":
		return report.WriteMarkdown(w, r)
	case "json":
		return report.WriteJSON(w, r)
	}
	return report.WriteHTML(w, r)
}

// writeReport writes to stdout for "-", else to a temporary file in the
// target directory renamed over path, so readers never see half a report.
func writeReport(path string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "-" {
		return fn(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(tmp)
	err = errors.Join(fn(bw), bw.Flush(), tmp.Chmod(0o644), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// parseSpan parses a Go duration or a number of days (7d) or weeks (2w).
func parseSpan(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	switch {
	case strings.HasSuffix(s, "d"), strings.HasSuffix(s, "w"):
		unit := 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			unit *= 7
		}
		var n int
		n, err = strconv.Atoi(s[:len(s)-1])
		d = time.Duration(n) * unit
	default:
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 7d, 2w, 36h)", s)
	}
	return d, nil
}

// parseInstant parses RFC 3339 or a date; a date means the end of that
// UTC day when endOfDay is set, else its start.
func parseInstant(s string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}
