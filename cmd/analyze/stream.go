package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/sink"
	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/pipeline/sink/filesink"
	"roachwatch/pipeline/stream"
	"roachwatch/pipeline/transport/kafkatransport"
)

// runStreaming is `analyze run` without --input: consume the events topic
// in the consumer group, run the detectors per partition and write to the
// file sink (and the alerts topic) until SIGINT/SIGTERM, or until drained
// with stream.exit_when_idle. Exit 0 after a clean drain.
func runStreaming(cmd *cobra.Command, cfg config.Config) error {
	log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
	if cfg.Kafka.TLS.InsecureSkipVerify {
		log.Warn("kafka.tls.insecure_skip_verify is on: the broker certificate is not verified")
	}
	cfg.Detectors.Catalog = catalog.New(cfg.Catalog) // shared, read-only: safe across partitions
	if _, err := detectors.NewEngine(all.Detectors(cfg.Detectors), cfg.Detectors.Rules); err != nil {
		return cli.Usage(err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	fs, err := filesink.New(filesink.Config{FindingsPath: cfg.Stream.FindingsPath, EventsPath: cfg.Stream.EventsPath})
	if err != nil {
		return err
	}
	sinks := []sink.Sink{fs}
	if cfg.Stream.Alerts {
		as, err := kafkatransport.NewAlertSink(cfg.Kafka)
		if err != nil {
			_ = fs.Close()
			return err
		}
		sinks = append(sinks, as)
	}
	closeSinks := func() error {
		var errs []error
		for _, s := range sinks {
			errs = append(errs, s.Close())
		}
		return errors.Join(errs...)
	}
	if cfg.ClickHouse.Enabled {
		ch, err := clickhousesink.Open(ctx, cfg.ClickHouse, log)
		if err != nil {
			_ = closeSinks()
			return cli.Usage(err)
		}
		sinks = append(sinks, ch) // blocks while retrying: that is the backpressure
	}
	if as, err := newAlertSink(cfg, log, reg); err != nil {
		_ = closeSinks()
		return err
	} else if as != nil {
		sinks = append(sinks, as) // the router: routes, dedup, silences (alerts.enabled)
	}
	st, err := stream.New(stream.Options{
		Config:       cfg.Stream,
		Kafka:        cfg.Kafka,
		NewDetectors: func() []detectors.Detector { return all.Detectors(cfg.Detectors) },
		Rules:        cfg.Detectors.Rules,
		Sinks:        sinks,
		Log:          log,
		Registerer:   reg,
	})
	if err != nil {
		_ = closeSinks()
		return cli.Usage(fmt.Errorf("stream: %w", err))
	}

	g, gctx := errgroup.WithContext(ctx)
	// The metrics server lives as long as the stream: it stops when Run
	// has returned (srvCtx) or when it fails itself.
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrv()
	if cfg.Stream.MetricsListen != "" {
		g.Go(func() error {
			if err := stream.Serve(srvCtx, cfg.Stream.MetricsListen, reg, st.Healthy); err != nil {
				return fmt.Errorf("metrics on %s: %w", cfg.Stream.MetricsListen, err)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer stopSrv()
		return st.Run(gctx)
	})
	err = g.Wait()
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("streaming from Kafka %v (analyze run without --input; pass --input to analyze log files instead): %w",
			cfg.Kafka.Brokers, err)
	}
	return errors.Join(err, closeSinks())
}
