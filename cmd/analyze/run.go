package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/runner"
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
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --input PATH [--input PATH ...]",
		Short: "Run the detectors over log files or directories (the embedded default: no Kafka, no ClickHouse)",
		Long: `Run parses CockroachDB (json, crdb-v2) and Django (text, json) logs, runs every detector in
one process and prints the findings, most severe first, and a summary.

Exit status: 0 done; 3 done and a finding at or above --fail-on exists; 2 bad flags or
config; 1 the run failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfgPath, _ := cmd.Flags().GetString("config")
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return cli.Usage(err)
			}
			if len(f.inputs) == 0 {
				return cli.Usage(errors.New("--input: name at least one log file or directory (streaming from Kafka is `analyze run` without --input once the Kafka transport is configured)"))
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
	return cmd
}

func runEmbedded(cmd *cobra.Command, cfg config.Config, f runFlags) error {
	ctx := cmd.Context()
	log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
	files, err := source.Expand(f.inputs)
	if err != nil {
		return cli.Usage(err)
	}
	dec, err := cli.NewDecoding(cfg, log)
	if err != nil {
		return err
	}
	engine, err := detectors.NewEngine(all.Detectors(cfg.Detectors), cfg.Detectors.Rules)
	if err != nil {
		return cli.Usage(err)
	}
	var events *jsonLines
	if f.eventsOutput != "" {
		if events, err = createJSONLines(f.eventsOutput); err != nil {
			return err
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
	stats := &runner.Stats{}
	stopProgress := startProgress(cfg.Run.Progress, cmd.ErrOrStderr(), total, stats)
	start := time.Now()
	log.Info("run started", "files", len(files), "bytes", total)
	err = runner.Run(ctx, runner.Options{
		Files:         files,
		Format:        cfg.Input.Format,
		Formats:       dec.Formats,
		MaxLineBytes:  cfg.Input.MaxLineBytes,
		NewNormalizer: dec.Normalizer,
		Workers:       workers,
		IngestTime:    start.UnixNano(),
		Log:           log,
	}, stats, func(ev *event.Event) error {
		engine.Observe(ev)
		if events != nil {
			return events.Write(ev)
		}
		return nil
	})
	engine.Finish()
	stopProgress()
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	if events != nil {
		if err := events.Close(); err != nil {
			return err
		}
	}
	findings := engine.Findings()
	if f.output != "" {
		if err := writeFindings(f.output, findings); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	summaryTo := out
	if f.format == "json" {
		enc := json.NewEncoder(out)
		for i := range findings {
			if err := enc.Encode(&findings[i]); err != nil {
				return err
			}
		}
		summaryTo = cmd.ErrOrStderr()
	} else {
		printFindings(out, findings)
	}
	printSummary(summaryTo, stats, findings, engine.Suppressed, elapsed)
	log.Info("run finished", "events", stats.Events, "findings", len(findings), "elapsed", elapsed.Round(time.Millisecond))
	if cfg.Run.FailOn != "" {
		threshold, _ := detectors.ParseSeverity(cfg.Run.FailOn)
		for _, fd := range findings {
			if fd.Severity >= threshold {
				return &cli.ExitError{Code: cli.ExitFindings, Err: fmt.Errorf("%d finding(s) at or above %s", countAtLeast(findings, threshold), threshold)}
			}
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
