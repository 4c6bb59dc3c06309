package config

import (
	"errors"
	"fmt"
	"time"
)

// IngestConfig is the ingest section: what `ingest run` tails, where its
// checkpoints live, and how it shuts down. Kafka itself is the kafka
// section.
type IngestConfig struct {
	Paths              []string      `mapstructure:"paths"`               // files, directories, globs (--input overrides)
	PollInterval       time.Duration `mapstructure:"poll_interval"`       // re-scan of paths, rotation and truncation checks
	MultilineWait      time.Duration `mapstructure:"multiline_wait"`      // flush a held multi-line entry after this long without data
	CheckpointFile     string        `mapstructure:"checkpoint_file"`     // acknowledged positions, written atomically
	CheckpointInterval time.Duration `mapstructure:"checkpoint_interval"` // how often the checkpoint file is written
	BatchEvents        int           `mapstructure:"batch_events"`        // events per hand-off from a reader to the producer
	MaxInFlight        int           `mapstructure:"max_in_flight"`       // hand-offs not yet acknowledged before reading pauses
	ShutdownGrace      time.Duration `mapstructure:"shutdown_grace"`      // on SIGINT/SIGTERM: wait this long for acks
	MetricsListen      string        `mapstructure:"metrics_listen"`      // /metrics and /healthz; "" disables
}

// DefaultIngestConfig returns the ingest defaults.
func DefaultIngestConfig() IngestConfig {
	return IngestConfig{
		Paths:              []string{},
		PollInterval:       time.Second,
		MultilineWait:      2 * time.Second,
		CheckpointFile:     "roachwatch-ingest.checkpoints.json",
		CheckpointInterval: time.Second,
		BatchEvents:        1000,
		MaxInFlight:        32,
		ShutdownGrace:      30 * time.Second,
		MetricsListen:      "127.0.0.1:9465",
	}
}

// Validate checks the ingest section; errors name ingest.<key>.
func (c IngestConfig) Validate() error {
	var errs []error
	for k, d := range map[string]time.Duration{"poll_interval": c.PollInterval, "multiline_wait": c.MultilineWait,
		"checkpoint_interval": c.CheckpointInterval, "shutdown_grace": c.ShutdownGrace} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("ingest.%s: must be positive, got %s", k, d))
		}
	}
	if c.CheckpointFile == "" {
		errs = append(errs, errors.New("ingest.checkpoint_file: must name a file (its directory must exist and be writable)"))
	}
	if c.BatchEvents < 1 {
		errs = append(errs, fmt.Errorf("ingest.batch_events: must be at least 1, got %d", c.BatchEvents))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("ingest.max_in_flight: must be at least 1, got %d", c.MaxInFlight))
	}
	return errors.Join(errs...)
}
