// Package config defines roachwatch's configuration, its defaults and its
// validation, and loads it with viper (YAML file + ROACHWATCH_* env
// overrides). Only this package and cmd/ import viper; components receive
// the plain structs.
package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/secret"
	"roachwatch/pipeline/sink/alertsink"
	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/pipeline/stream"
	"roachwatch/pipeline/transport/kafkatransport"
	"roachwatch/posture"
)

// Secret is a string that never prints (see pipeline/secret).
type Secret = secret.String

// Config is the whole configuration.
type Config struct {
	Log       LogConfig             `mapstructure:"log"`
	Input     InputConfig           `mapstructure:"input"`
	Redaction RedactionConfig       `mapstructure:"redaction"`
	Catalog   catalog.Config        `mapstructure:"catalog"`
	Detectors all.Config            `mapstructure:"detectors"`
	Run       RunConfig             `mapstructure:"run"`
	Kafka     kafkatransport.Config `mapstructure:"kafka"`
	Stream    StreamConfig          `mapstructure:"stream"`
	Ingest    IngestConfig          `mapstructure:"ingest"`
	// ClickHouse is the analysts' store; off by default so the embedded run
	// needs no server.
	ClickHouse clickhousesink.Config `mapstructure:"clickhouse"`
	// Alerts routes findings to people (Kafka, webhooks, Slack, stdout);
	// off by default. Routes and silences come from the file only.
	Alerts alertsink.Config `mapstructure:"alerts"`
	// Probe configures `analyze probe`: TLS, schema and grant posture of
	// CockroachDB/PostgreSQL endpoints over pgwire (see posture).
	Probe posture.Config `mapstructure:"probe"`
}

// StreamConfig is the stream section: `analyze run` without --input
// (sinks, state hand-over, metrics, shutdown). See pipeline/stream.
type StreamConfig = stream.Config

// LogConfig configures roachwatch's own logs (stderr).
type LogConfig struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // text or json
}

// InputConfig configures how log files are read and decoded.
type InputConfig struct {
	Format         string `mapstructure:"format"`          // auto, crdb-json, crdb-v2, django-text, django-json
	DjangoFormat   string `mapstructure:"django_format"`   // Python logging format of Django text logs; "" = auto-detect
	DjangoTimezone string `mapstructure:"django_timezone"` // IANA zone of Django's asctime (local time without zone)
	MaxLineBytes   int    `mapstructure:"max_line_bytes"`  // longer physical lines are cut and reported
	MaxEntryBytes  int    `mapstructure:"max_entry_bytes"` // reassembled multi-line entries
}

// RedactionConfig configures how sensitive values are hashed.
type RedactionConfig struct {
	Key     Secret `mapstructure:"key"`      // HMAC-SHA256 key for value hashes (prefer the env var)
	KeyFile string `mapstructure:"key_file"` // file holding the key; used when key is empty
	KeepRaw bool   `mapstructure:"keep_raw"` // store raw entries (with values in the clear) in events
}

// RunConfig holds defaults of `analyze run`.
type RunConfig struct {
	FailOn   string `mapstructure:"fail_on"`  // exit non-zero when a finding at or above this severity exists ("" = never)
	Progress string `mapstructure:"progress"` // auto (on a terminal), always, never
	Workers  int    `mapstructure:"workers"`  // files decoded in parallel; 0 = number of CPUs
}

// Default returns the built-in defaults (also written out in
// configs/local.yaml).
func Default() Config {
	det := all.DefaultConfig()
	return Config{
		Log: LogConfig{Level: "info", Format: "text"},
		Input: InputConfig{
			Format:         parse.FormatAuto,
			DjangoTimezone: "UTC",
			MaxLineBytes:   16 << 20,
			MaxEntryBytes:  16 << 20,
		},
		Catalog: catalog.Config{
			Patterns: slices.Clone(catalog.DefaultPatterns),
			Columns:  []string{}, MustEncrypt: []string{}, Plaintext: []string{},
		},
		Detectors:  det,
		Run:        RunConfig{Progress: "auto"},
		Kafka:      kafkatransport.DefaultConfig(),
		Stream:     stream.DefaultConfig(),
		Ingest:     DefaultIngestConfig(),
		ClickHouse: clickhousesink.DefaultConfig(),
		Alerts:     alertsink.DefaultConfig(),
		Probe:      posture.DefaultConfig(),
	}
}

// Validate checks every section and names the key and the fix.
func (c Config) Validate() error {
	var errs []error
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Log.Format))
	}
	if !slices.Contains(parse.Formats, c.Input.Format) {
		errs = append(errs, fmt.Errorf("input.format: %q is not one of %s", c.Input.Format, strings.Join(parse.Formats, ", ")))
	}
	if _, err := time.LoadLocation(c.Input.DjangoTimezone); err != nil {
		errs = append(errs, fmt.Errorf("input.django_timezone: %q is not an IANA time zone such as UTC or Europe/Berlin", c.Input.DjangoTimezone))
	}
	if c.Input.MaxLineBytes < 1024 {
		errs = append(errs, fmt.Errorf("input.max_line_bytes: must be at least 1024, got %d", c.Input.MaxLineBytes))
	}
	if c.Input.MaxEntryBytes < c.Input.MaxLineBytes {
		errs = append(errs, fmt.Errorf("input.max_entry_bytes: must be at least input.max_line_bytes (%d), got %d", c.Input.MaxLineBytes, c.Input.MaxEntryBytes))
	}
	if c.Redaction.Key != "" && len(c.Redaction.Key) < 16 {
		errs = append(errs, errors.New("redaction.key: must be at least 16 bytes; generate one with `openssl rand -hex 32`"))
	}
	if c.Redaction.Key != "" && c.Redaction.KeyFile != "" {
		errs = append(errs, errors.New("redaction.key_file: set either redaction.key or redaction.key_file, not both"))
	}
	if err := c.Catalog.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Detectors.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Run.FailOn != "" {
		if _, ok := detectors.ParseSeverity(c.Run.FailOn); !ok {
			errs = append(errs, fmt.Errorf("run.fail_on: %q is not one of info, low, medium, high, critical", c.Run.FailOn))
		}
	}
	switch c.Run.Progress {
	case "auto", "always", "never":
	default:
		errs = append(errs, fmt.Errorf("run.progress: %q is not auto, always or never", c.Run.Progress))
	}
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Stream.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Ingest.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.ClickHouse.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Probe.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Alerts.Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, r := range c.Alerts.Routes {
		if c.Alerts.Enabled && c.Stream.Alerts && r.Kind == alertsink.KindKafka && alertsink.DefaultRoute(r).Topic == c.Kafka.Topics.Alerts {
			errs = append(errs, fmt.Errorf("alerts.routes[%d].topic: %s is kafka.topics.alerts, where stream.alerts already writes raw findings; set stream.alerts: false or use another topic", i, c.Kafka.Topics.Alerts))
		}
	}
	if c.Run.Workers < 0 {
		errs = append(errs, fmt.Errorf("run.workers: must be 0 (all CPUs) or positive, got %d", c.Run.Workers))
	}
	return errors.Join(errs...)
}

// HMACKey returns the configured key, reading key_file when needed. ok is
// false when no key is configured (the caller then generates one and says
// so).
func (c Config) HMACKey() (key []byte, ok bool, err error) {
	if c.Redaction.Key != "" {
		return []byte(c.Redaction.Key.Reveal()), true, nil
	}
	if c.Redaction.KeyFile != "" {
		b, err := os.ReadFile(c.Redaction.KeyFile)
		if err != nil {
			return nil, false, fmt.Errorf("redaction.key_file: %w", err)
		}
		k := strings.TrimSpace(string(b))
		if len(k) < 16 {
			return nil, false, fmt.Errorf("redaction.key_file: %s holds fewer than 16 bytes", c.Redaction.KeyFile)
		}
		return []byte(k), true, nil
	}
	return nil, false, nil
}
