package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"

	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
	"roachwatch/pipeline/transport/kafkatransport"
)

// importGCPercent is the garbage collector's target of ingest import
// unless GOGC is set: import is a one-shot batch job, CPU bound on a
// machine it shares with the broker, and GC was about a tenth of its CPU
// at the default 100. At 200 it spends ~10 % less CPU per event for
// more peak RSS (1.33 M loggen events, scripts/bench-ingest.sh: median
// ~450 -> ~500 MB with the other changes, up to ~600 MB alone).
const importGCPercent = 200

func newImportCmd() *cobra.Command {
	var inputs []string
	var cpuprofile string
	cmd := &cobra.Command{
		Use:   "import --input DIR|FILE|GLOB [--input ...]",
		Short: "Read log files once into Kafka, in event-time order, then exit",
		Long: `Reads every file once through the embedded runner (files decoded in parallel, events merged
by event time) and produces the events to kafka.topics.events; exits 0 once Kafka acknowledged
everything. No checkpoints: run it again and the deterministic event ids make the replay harmless.
Lines that cannot be parsed go to kafka.topics.dlq with the same record as ingest run (reason,
position, keyed hash of the line, never the line itself unless redaction.keep_raw), and are
counted in the summary at the end. Files of unknown format are skipped and listed in the summary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cli.LoadConfig(cmd)
			if err != nil {
				return err
			}
			if len(inputs) == 0 {
				return cli.Usage(errors.New("--input: name at least one log file or directory"))
			}
			files, err := source.Expand(inputs)
			if err != nil {
				return cli.Usage(err)
			}
			if cpuprofile != "" {
				f, err := os.Create(cpuprofile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(importGCPercent)
			}
			return runImport(cmd.Context(), cfg, files, cmd)
		},
	}
	cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "log file, directory or glob; repeatable")
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file (measurements)")
	return usageErrors(cmd)
}

func runImport(ctx context.Context, cfg config.Config, files []source.File, cmd *cobra.Command) error {
	c, err := newCommon(ctx, cfg, cmd)
	if err != nil {
		return err
	}
	ck, err := ack.NewCheckpointer("", time.Hour, c.reg.reg, c.log)
	if err != nil {
		return err
	}
	stats := &runner.Stats{}
	start := time.Now()
	batchN := cfg.Ingest.BatchEvents
	// The runner calls handle from one goroutine, in event-time order, and
	// reuses the event afterwards: it is encoded right away.
	feed := func(ctx, hard context.Context, kout chan<- kafkatransport.Batch) error {
		defer close(kout)
		var msgs []kafka.Message
		flush := func() error {
			if len(msgs) == 0 {
				return nil
			}
			if err := c.ship.handOff(hard, kout, msgs); err != nil {
				return err
			}
			msgs = make([]kafka.Message, 0, batchN)
			return nil
		}
		rejects := newRejectFeed(c.ship, files, hard, kout, batchN)
		err := runner.Run(ctx, runner.Options{
			Files: files, Format: cfg.Input.Format, Formats: c.dec.Formats, MaxLineBytes: cfg.Input.MaxLineBytes,
			NewNormalizer: c.dec.Normalizer, Workers: runtime.GOMAXPROCS(0), IngestTime: start.UnixNano(), Log: c.log,
			OnError: rejects.onError,
		}, stats, func(ev *event.Event) error {
			m, _, err := c.ship.enc.Event(ev, ev.Format)
			if err != nil {
				return err
			}
			if msgs = append(msgs, m); len(msgs) >= batchN {
				return flush()
			}
			return nil
		})
		if errors.Is(err, context.Canceled) {
			err = nil // interrupted: what was handed on is still produced
		}
		// The runner's file goroutines are done: no onError call after this.
		return errors.Join(err, flush(), rejects.flush())
	}
	err = c.ship.pipeline(ctx, ck, c.reg, feed)
	el := time.Since(start)
	c.log.Info("import finished", "files", stats.Files, "lines", stats.Lines, "events", stats.Events, "bytes", stats.Bytes,
		"parse_errors", stats.Errors, "skipped_files", len(stats.SkippedFiles), "elapsed", el.Round(time.Millisecond),
		"events_per_s", fmt.Sprintf("%.0f", float64(stats.Events)/el.Seconds()),
		"mb_per_s", fmt.Sprintf("%.1f", float64(stats.Bytes)/1e6/el.Seconds()))
	return err
}
