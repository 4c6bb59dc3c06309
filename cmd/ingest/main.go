// Command ingest reads CockroachDB and Django logs, parses, normalizes and
// redacts them, and ships the events. In this version it writes the
// normalized events as JSON lines (to stdout or a file) with exactly the
// parsing code `analyze run` uses; tailing with checkpoints and producing
// to Kafka come with the streaming transport.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
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

var version = "dev"

func main() { cli.Main("ingest", newRoot()) }

func newRoot() *cobra.Command {
	var inputs []string
	var output string
	cmd := &cobra.Command{
		Use:           "ingest --input PATH [--input PATH ...] [--output FILE]",
		Short:         "Parse, normalize and redact CockroachDB and Django logs into roachwatch events (JSON lines)",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		Args:          cobra.NoArgs,
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
	cmd.Flags().String("config", "", "YAML config file (default: the embedded configs/local.yaml)")
	cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "log file, directory or glob; repeatable")
	cmd.Flags().StringVarP(&output, "output", "o", "-", "where to write the events (JSON lines); - is stdout")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return cli.Usage(err) })
	return cmd
}
