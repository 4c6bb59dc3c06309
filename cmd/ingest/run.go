package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/internal/metrics"
	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/source/tail"
	"roachwatch/pipeline/transport/kafkatransport"
)

func newRunCmd() *cobra.Command {
	var inputs []string
	cmd := &cobra.Command{
		Use:   "run [--input PATH|DIR|GLOB ...] [--input -]",
		Short: "Tail log files (or stdin) continuously into Kafka, with checkpoints",
		Long: `Tails the files, directories and globs named by --input (or ingest.paths), picking up new
files, surviving rotation by rename and copytruncate, and produces events to kafka.topics.events
and unparseable lines to kafka.topics.dlq. Positions are checkpointed to ingest.checkpoint_file
only after Kafka acknowledged them; a restart resumes there. --input - reads stdin until EOF
(no checkpoint). SIGINT/SIGTERM: stop reading, flush the multi-line entries still held (taken as
complete, as after ingest.multiline_wait), wait for acknowledgements within ingest.shutdown_grace,
write checkpoints, exit 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cli.LoadConfig(cmd)
			if err != nil {
				return err
			}
			if len(inputs) == 0 {
				inputs = cfg.Ingest.Paths
			}
			if len(inputs) == 0 {
				return cli.Usage(errors.New("--input or ingest.paths: name at least one log file, directory or glob (or - for stdin)"))
			}
			stdin := len(inputs) == 1 && inputs[0] == "-"
			for _, in := range inputs {
				if in == "-" && !stdin {
					return cli.Usage(errors.New("--input -: stdin cannot be combined with other inputs"))
				}
			}
			return runTail(cmd.Context(), cfg, inputs, stdin, cmd)
		},
	}
	cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "log file, directory or glob to tail, or - for stdin; repeatable (default: ingest.paths)")
	return usageErrors(cmd)
}

// common builds what run and import share: logger, decoding set-up,
// metrics registry and server, producer.
type common struct {
	log  *slog.Logger
	dec  *cli.Decoding
	reg  *metricsServer
	tm   *tail.Metrics
	ship *shipper
}

func newCommon(ctx context.Context, cfg config.Config, cmd *cobra.Command) (*common, error) {
	log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
	dec, err := cli.NewDecoding(cfg, log)
	if err != nil {
		return nil, err
	}
	reg := metrics.NewRegistry()
	pm := kafkatransport.NewProducerMetrics(reg)
	ship, err := newShipper(ctx, cfg, dec.Key, pm, log)
	if err != nil {
		return nil, err
	}
	srv := &metrics.Server{Addr: cfg.Ingest.MetricsListen, Reg: reg, Log: log.With("component", "metrics"), Health: ship.prod.Healthy}
	return &common{log: log, dec: dec, reg: &metricsServer{srv: srv, reg: reg}, tm: tail.NewMetrics(reg), ship: ship}, nil
}

func runTail(ctx context.Context, cfg config.Config, inputs []string, stdin bool, cmd *cobra.Command) error {
	c, err := newCommon(ctx, cfg, cmd)
	if err != nil {
		return err
	}
	tcfg := tail.Config{
		Paths: inputs, Format: cfg.Input.Format, Formats: c.dec.Formats, NewNormalizer: c.dec.Normalizer,
		MaxLineBytes: cfg.Input.MaxLineBytes, PollInterval: cfg.Ingest.PollInterval,
		MultilineWait: cfg.Ingest.MultilineWait, BatchEvents: cfg.Ingest.BatchEvents,
	}
	ckPath := cfg.Ingest.CheckpointFile
	if stdin {
		ckPath = "" // a stream cannot be resumed
	}
	ck, err := ack.NewCheckpointer(ckPath, cfg.Ingest.CheckpointInterval, c.reg.reg, c.log.With("component", "checkpoint"))
	if err != nil {
		return err
	}
	start := time.Now()
	// On SIGINT/SIGTERM (ctx) the readers stop reading and drain until
	// hard (the shutdown grace) ends: held multi-line entries are flushed
	// and handed on, so the last checkpoint moves past them.
	read := func(ctx, hard context.Context, out chan<- tail.Batch) error {
		return tail.New(tcfg, ck, c.tm, c.log.With("component", "tail")).Run(ctx, hard, out)
	}
	if stdin {
		read = func(ctx, hard context.Context, out chan<- tail.Batch) error {
			defer close(out)
			in, run := tail.ReadStream(ctx, hard, tcfg, os.Stdin, "stdin", c.tm, c.log.With("component", "stdin"))
			errc := make(chan error, 1)
			go func() { errc <- run() }()
			for b := range in {
				select {
				case out <- b:
				case <-hard.Done():
					// Drain so run can return; these batches are never acknowledged.
					for range in {
					}
				}
			}
			return <-errc
		}
	}
	c.log.Info("ingest started", "inputs", len(inputs), "stdin", stdin, "brokers", cfg.Kafka.Brokers,
		"checkpoint_file", ckPath, "version", version)
	err = c.ship.pipeline(ctx, ck, c.reg, c.ship.tailFeed(read))
	c.log.Info("ingest stopped", "elapsed", time.Since(start).Round(time.Millisecond), "err", err)
	return err
}
