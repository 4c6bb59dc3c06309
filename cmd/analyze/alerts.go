package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/sink/alertsink"
)

// newAlertRouter builds the alert router of cfg.Alerts, or returns nil
// when alerts.enabled is off. Kafka routes use the kafka section's
// brokers and security; stdout routes write to stdout. The caller closes
// the router after its last write (Close flushes queued webhooks within
// alerts.close_timeout).
func newAlertRouter(cfg config.Config, log *slog.Logger, reg prometheus.Registerer, stdout io.Writer) (*alertsink.Router, error) {
	if !cfg.Alerts.Enabled {
		return nil, nil
	}
	rules := map[string]detectors.Rule{}
	for _, r := range all.Rules() {
		rules[r.ID] = r
	}
	r, err := alertsink.New(cfg.Alerts, alertsink.Options{Rules: rules, Kafka: cfg.Kafka, Log: log, Registerer: reg, Stdout: stdout})
	if err != nil {
		// Bad routes and missing secrets are configuration errors (exit 2).
		return nil, cli.Usage(fmt.Errorf("alerts: %w", err))
	}
	return r, nil
}

// alertFindings sends the findings of an embedded run through the alert
// router, when alerts.enabled is on, and flushes it. Findings go in event
// order (first seen), as the streaming mode would have seen them, so the
// suppression window across detector windows decides the same way. The
// run's own output is unchanged; stdout routes append one JSON line per
// alert to stdout after it.
//
// The lead's one-line wiring, in runEmbedded after the findings are
// printed (before the --fail-on check):
//
//	if err := alertFindings(cmd, cfg, findings); err != nil { return err }
func alertFindings(cmd *cobra.Command, cfg config.Config, findings []detectors.Finding) error {
	if !cfg.Alerts.Enabled || len(findings) == 0 {
		return nil
	}
	log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
	r, err := newAlertRouter(cfg, log, nil, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	ordered := slices.Clone(findings)
	slices.SortStableFunc(ordered, func(a, b detectors.Finding) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), a.LastSeen.Compare(b.LastSeen), cmp.Compare(a.ID, b.ID))
	})
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	werr := r.WriteFindings(ctx, ordered)
	if werr != nil {
		werr = fmt.Errorf("sending alerts: %w", werr)
	}
	return errors.Join(werr, r.Close())
}

// newAlertSink is newAlertRouter for the streaming mode's sink list: nil
// (and no error) when alerts are off. The stream writes every changed
// finding version through it; offsets are committed only after it has
// acknowledged (see pipeline/sink/alertsink's delivery contract).
//
// The lead's wiring in runStreaming (the registry must exist first, so
// create reg before the sinks):
//
//	if as, err := newAlertSink(cfg, log, reg); err != nil { _ = closeSinks(); return err } else if as != nil { sinks = append(sinks, as) }
func newAlertSink(cfg config.Config, log *slog.Logger, reg prometheus.Registerer) (*alertsink.Router, error) {
	return newAlertRouter(cfg, log, reg, nil)
}
