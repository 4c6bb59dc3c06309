package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	json "github.com/goccy/go-json"

	"github.com/spf13/cobra"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/pipeline/source"
)

type runFlags struct {
	inputs       []string
	output       string
	eventsOutput string
	format       string
	failOn       string
	progress     string
	inputFormat  string
	state        string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [--input PATH ...]",
		Short: "Run the detectors over log files (embedded mode) or over the Kafka event stream (streaming mode)",
		Long: `With --input, run parses CockroachDB (json, crdb-v2) and Django (text, json) logs, runs every
detector in one process and prints the findings, most severe first, and a summary: the
embedded mode, no Kafka and no ClickHouse.

Without --input, run consumes the kafka.topics.events topic in the kafka.consumer.group_id
consumer group, runs the detectors per partition and writes to the configured sinks,
committing offsets only after every sink acknowledged (the streaming mode; see the kafka
and stream config sections).

Exit status: 0 done; 3 done and a finding at or above --fail-on exists; 2 bad flags or
config; 1 the run failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cli.LoadConfig(cmd)
			if err != nil {
				return err
			}
			if len(f.inputs) == 0 {
				// No files: the streaming mode, from the Kafka events topic.
				return runStreaming(cmd, cfg)
			}
			if cmd.Flags().Changed("fail-on") {
				cfg.Run.FailOn = f.failOn
			}
			if cmd.Flags().Changed("progress") {
				cfg.Run.Progress = f.progress
			}
			if cmd.Flags().Changed("input-format") {
				cfg.Input.Format = f.inputFormat
			}
			if err := cfg.Validate(); err != nil {
				return cli.Usage(fmt.Errorf("flags: %w", err))
			}
			if f.format != "table" && f.format != "json" {
				return cli.Usage(fmt.Errorf("--format: %q is not table or json", f.format))
			}
			return runEmbedded(cmd, cfg, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.inputs, "input", "i", nil, "log file, directory (walked recursively, symlinks skipped) or glob; repeatable")
	fl.StringVarP(&f.output, "output", "o", "", "write the findings as JSON lines to this file")
	fl.StringVar(&f.eventsOutput, "events-output", "", "write the normalized events as JSON lines to this file")
	fl.StringVar(&f.format, "format", "table", "stdout format: table (findings table + summary) or json (findings as JSON lines; summary on stderr)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 3 when a finding at or above this severity exists: info, low, medium, high, critical")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (terminal only), always, never")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "force the input format: auto, crdb-json, crdb-v2, django-text, django-json")
	fl.StringVar(&f.state, "state", "", "detector state file: baselines are restored from it before the run and saved to it after (created if missing)")
	return cmd
}

// analysis is the result of one embedded run over files.
type analysis struct {
	findings   []detectors.Finding
	firstAt    map[string]int64 // finding id -> event time of the event that first raised it
	stats      *runner.Stats
	suppressed map[string]int64
	elapsed    time.Duration
}

// analyzeFiles runs parse -> detect over inputs in one process.
// statePath, when set, is where detector baselines are restored from
// before the run and saved to after it, so they survive restarts.
func analyzeFiles(cmd *cobra.Command, cfg config.Config, inputs []string, eventsOutput, statePath string) (*analysis, error) {
	ctx := cmd.Context()
	log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
	files, err := source.Expand(inputs)
	if err != nil {
		return nil, cli.Usage(err)
	}
	dec, err := cli.NewDecoding(cfg, log)
	if err != nil {
		return nil, err
	}
	cfg.Detectors.Catalog = dec.Catalog
	ds := all.Detectors(cfg.Detectors)
	engine, err := detectors.NewEngine(ds, cfg.Detectors.Rules)
	if err != nil {
		return nil, cli.Usage(err)
	}
	if statePath != "" {
		if err := detectors.LoadStateFile(statePath, ds); err != nil {
			return nil, fmt.Errorf("--state: %w (delete the file to start with fresh baselines)", err)
		}
	}
	// The ClickHouse store is optional in the embedded mode (clickhouse.enabled);
	// the schema comes from `analyze migrate`, never implicitly.
	var chStore *clickhousesink.Store
	var chBuf *clickhousesink.Buffer
	if cfg.ClickHouse.Enabled {
		if chStore, err = clickhousesink.Open(ctx, cfg.ClickHouse, log); err != nil {
			return nil, cli.Usage(err)
		}
		defer chStore.Close()
		chBuf = chStore.NewBuffer()
	}
	var events *jsonLines
	if eventsOutput != "" {
		if events, err = createJSONLines(eventsOutput); err != nil {
			return nil, err
		}
		defer events.Close()
	}
	workers := cfg.Run.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var total int64
	for _, fi := range files {
		total += fi.Size
	}
	a := &analysis{stats: &runner.Stats{}, firstAt: map[string]int64{}}
	stopProgress := startProgress(cfg.Run.Progress, cmd.ErrOrStderr(), total, a.stats)
	start := time.Now()
	log.Info("run started", "files", len(files), "bytes", total)
	var last int64
	note := func(changed []*detectors.Finding, t int64) {
		for _, f := range changed {
			if _, ok := a.firstAt[f.ID]; !ok {
				a.firstAt[f.ID] = t
			}
		}
	}
	err = runner.Run(ctx, runner.Options{
		Files:         files,
		Format:        cfg.Input.Format,
		Formats:       dec.Formats,
		MaxLineBytes:  cfg.Input.MaxLineBytes,
		NewNormalizer: dec.Normalizer,
		Workers:       workers,
		IngestTime:    start.UnixNano(),
		Log:           log,
	}, a.stats, func(ev *event.Event) error {
		last = max(last, ev.Time)
		note(engine.Observe(ev), ev.Time)
		if chBuf != nil {
			if err := chBuf.Add(ctx, ev); err != nil {
				return fmt.Errorf("clickhouse: %w", err)
			}
		}
		if events != nil {
			return events.Write(ev)
		}
		return nil
	})
	note(engine.Finish(), last)
	stopProgress()
	a.elapsed = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	if events != nil {
		if err := events.Close(); err != nil {
			return nil, err
		}
	}
	if statePath != "" {
		if err := detectors.SaveStateFile(statePath, ds); err != nil {
			return nil, fmt.Errorf("--state: saving detector state: %w", err)
		}
	}
	a.findings = engine.Findings()
	a.suppressed = engine.Suppressed
	if chBuf != nil {
		if err := chBuf.Flush(ctx); err != nil {
			return nil, fmt.Errorf("clickhouse: %w", err)
		}
		if err := chStore.WriteFindings(ctx, a.findings); err != nil {
			return nil, fmt.Errorf("clickhouse: %w", err)
		}
	}
	log.Info("run finished", "events", a.stats.Events, "findings", len(a.findings), "elapsed", a.elapsed.Round(time.Millisecond))
	return a, nil
}

func runEmbedded(cmd *cobra.Command, cfg config.Config, f runFlags) error {
	a, err := analyzeFiles(cmd, cfg, f.inputs, f.eventsOutput, f.state)
	if err != nil {
		return err
	}
	findings := a.findings
	if f.output != "" {
		if err := writeFindings(f.output, findings); err != nil {
			return err
		}
	}
	summaryTo, err := emitFindings(cmd, f.format, findings)
	if err != nil {
		return err
	}
	printSummary(summaryTo, a.stats, findings, a.suppressed, a.elapsed)
	if err := alertFindings(cmd, cfg, findings); err != nil {
		return err
	}
	if cfg.Run.FailOn != "" {
		threshold, _ := detectors.ParseSeverity(cfg.Run.FailOn)
		if n := countAtLeast(findings, threshold); n > 0 {
			return &cli.ExitError{Code: cli.ExitFindings, Err: fmt.Errorf("%d finding(s) at or above %s", n, threshold)}
		}
	}
	return nil
}

func countAtLeast(fs []detectors.Finding, s detectors.Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity >= s {
			n++
		}
	}
	return n
}

func writeFindings(path string, findings []detectors.Finding) error {
	w, err := createJSONLines(path)
	if err != nil {
		return err
	}
	for i := range findings {
		if err := w.Write(&findings[i]); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// jsonLines writes one JSON document per line to a file.
type jsonLines struct {
	f   *os.File
	bw  *bufio.Writer
	enc *json.Encoder
}

func createJSONLines(path string) (*jsonLines, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonLines{f: f, bw: bw, enc: enc}, nil
}

func (j *jsonLines) Write(v any) error { return j.enc.Encode(v) }

// Close flushes and closes; closing twice is harmless.
func (j *jsonLines) Close() error {
	if j.f == nil {
		return nil
	}
	err := errors.Join(j.bw.Flush(), j.f.Close())
	j.f = nil
	return err
}

var _ io.Closer = (*jsonLines)(nil)

// emitFindings writes findings to standard output, as JSON lines with
// --format json or as the table, and returns where the summary goes:
// standard error when standard output carries JSON, so it stays parseable.
func emitFindings(cmd *cobra.Command, format string, findings []detectors.Finding) (io.Writer, error) {
	out := cmd.OutOrStdout()
	if format != "json" {
		printFindings(out, findings)
		return out, nil
	}
	enc := json.NewEncoder(out)
	for i := range findings {
		if err := enc.Encode(&findings[i]); err != nil {
			return nil, err
		}
	}
	return cmd.ErrOrStderr(), nil
}
