package main

import (
	"bufio"
	"errors"
	json "github.com/goccy/go-json"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"roachwatch/internal/cli"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
)

// newEventsCmd is ingest's original behaviour: files to events as JSON
// lines with exactly the parsing code `analyze run` uses; no Kafka.
func newEventsCmd() *cobra.Command {
	var inputs []string
	var output string
	cmd := &cobra.Command{
		Use:   "events --input PATH [--input PATH ...] [--output FILE]",
		Short: "Write the events of log files as JSON lines (no Kafka)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cli.LoadConfig(cmd)
			if err != nil {
				return err
			}
			if len(inputs) == 0 {
				return cli.Usage(errors.New("--input: name at least one log file or directory"))
			}
			log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
			files, err := source.Expand(inputs)
			if err != nil {
				return cli.Usage(err)
			}
			dec, err := cli.NewDecoding(cfg, log)
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			if output != "" && output != "-" {
				f, err := os.Create(output)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriterSize(w, 1<<20)
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			stats := &runner.Stats{}
			start := time.Now()
			err = runner.Run(cmd.Context(), runner.Options{
				Files: files, Format: cfg.Input.Format, Formats: dec.Formats, MaxLineBytes: cfg.Input.MaxLineBytes,
				NewNormalizer: dec.Normalizer, Workers: runtime.GOMAXPROCS(0), IngestTime: start.UnixNano(), Log: log,
			}, stats, func(ev *event.Event) error { return enc.Encode(ev) })
			if ferr := bw.Flush(); err == nil {
				err = ferr
			}
			log.Info("ingest finished", "files", stats.Files, "lines", stats.Lines, "events", stats.Events,
				"parse_errors", stats.Errors, "skipped_files", len(stats.SkippedFiles), "elapsed", time.Since(start).Round(time.Millisecond))
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "log file, directory or glob; repeatable")
	cmd.Flags().StringVarP(&output, "output", "o", "-", "where to write the events (JSON lines); - is stdout")
	return usageErrors(cmd)
}
