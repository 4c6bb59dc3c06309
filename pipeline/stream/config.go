package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roachwatch/detectors"
	"roachwatch/pipeline/sink"
	"roachwatch/pipeline/transport/kafkatransport"
)

// State stores.
const (
	StateKafka = "kafka" // the compacted topic kafka.topics.state
	StateNone  = "none"  // no hand-over: a partition's state starts empty
)

// Config is the stream section of the config (analyze in streaming mode).
type Config struct {
	FindingsPath     string        `mapstructure:"findings_path"`      // file sink: findings as JSON lines (one line per version)
	EventsPath       string        `mapstructure:"events_path"`        // file sink: events as JSON lines; "" writes none
	Alerts           bool          `mapstructure:"alerts"`             // also write findings to kafka.topics.alerts
	StateStore       string        `mapstructure:"state_store"`        // kafka (kafka.topics.state) or none
	SnapshotInterval time.Duration `mapstructure:"snapshot_interval"`  // periodic state snapshots; bounds the replay after a crash
	CommitInterval   time.Duration `mapstructure:"commit_interval"`    // how often acknowledged offsets are committed
	ReorderLateness  time.Duration `mapstructure:"reorder_lateness"`   // watermark = max event time - lateness
	ReorderMaxEvents int           `mapstructure:"reorder_max_events"` // per partition; the oldest leave early past it
	FindingsHorizon  time.Duration `mapstructure:"findings_horizon"`   // findings idle longer (event time) leave the snapshot
	MetricsListen    string        `mapstructure:"metrics_listen"`     // /metrics and /healthz; "" serves none
	ShutdownGrace    time.Duration `mapstructure:"shutdown_grace"`     // finish in-flight batches, snapshot and commit within this
	ExitWhenIdle     time.Duration `mapstructure:"exit_when_idle"`     // 0: run forever; else stop (and Finish) once caught up and idle this long
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		FindingsPath:     "roachwatch-findings.jsonl",
		Alerts:           true,
		StateStore:       StateKafka,
		SnapshotInterval: time.Minute,
		CommitInterval:   time.Second,
		ReorderLateness:  2 * time.Second,
		ReorderMaxEvents: 50000,
		FindingsHorizon:  7 * 24 * time.Hour,
		MetricsListen:    "127.0.0.1:9466",
		ShutdownGrace:    30 * time.Second,
	}
}

// Validate checks the section; errors name stream.<key>.
func (c Config) Validate() error {
	var errs []error
	if c.FindingsPath == "" {
		errs = append(errs, errors.New("stream.findings_path: required (the storage sink until ClickHouse is wired)"))
	}
	if c.StateStore != StateKafka && c.StateStore != StateNone {
		errs = append(errs, fmt.Errorf("stream.state_store: %q is not kafka or none", c.StateStore))
	}
	for k, d := range map[string]time.Duration{"snapshot_interval": c.SnapshotInterval, "commit_interval": c.CommitInterval, "shutdown_grace": c.ShutdownGrace} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("stream.%s: must be positive, got %s", k, d))
		}
	}
	if c.ReorderLateness < 0 || c.FindingsHorizon < 0 || c.ExitWhenIdle < 0 {
		errs = append(errs, errors.New("stream.reorder_lateness, findings_horizon and exit_when_idle: must not be negative"))
	}
	if c.ReorderMaxEvents < 1 {
		errs = append(errs, fmt.Errorf("stream.reorder_max_events: must be positive, got %d", c.ReorderMaxEvents))
	}
	return errors.Join(errs...)
}

// Options is what a Stream needs besides its config: code, not user
// settings.
type Options struct {
	Config Config
	Kafka  kafkatransport.Config
	Topic  string // events topic; "" means Kafka.Topics.Events

	// NewDetectors builds a fresh detector set; called once per assigned
	// partition (detectors are not shared between partitions).
	NewDetectors func() []detectors.Detector
	Rules        map[string]detectors.RuleConfig

	// Sinks receive every batch; offsets are committed only after all of
	// them acknowledged it. The caller closes them after Run returns.
	Sinks []sink.Sink

	Log        *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
}
