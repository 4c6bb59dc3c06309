package loggen

import (
	"errors"
	"fmt"
	"time"
)

// CockroachDB output formats accepted by Config.CRDBFormat.
const (
	FormatJSON   = "json"
	FormatCRDBV2 = "crdb-v2"
	FormatMixed  = "mixed"
)

// Config describes one generation run.
type Config struct {
	Out   string    // output directory; created if missing
	Seed  uint64    // seed of every random stream
	Days  int       // length of the generated range in days
	Start time.Time // start of the generated range (UTC midnight is typical)
	// Rate is the target number of CockroachDB entries per day (benign
	// traffic; planted incidents come on top).
	Rate  int
	Nodes int
	// CRDBFormat is json, crdb-v2, or mixed (odd nodes json, even nodes
	// crdb-v2, so both formats are always exercised).
	CRDBFormat string
	// MaxEvents stops starting new activities once about this many
	// CockroachDB entries were produced; 0 means no limit.
	MaxEvents int64
	// MaxFileSize rotates a log file once it holds this many bytes, like
	// CockroachDB's max-file-size.
	MaxFileSize int64
}

// DefaultConfig returns the defaults of the loggen command.
func DefaultConfig() Config {
	return Config{
		Out:         "loggen-out",
		Seed:        1,
		Days:        1,
		Start:       time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC),
		Rate:        20000,
		Nodes:       3,
		CRDBFormat:  FormatMixed,
		MaxFileSize: 10 << 20,
	}
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.Out == "" {
		errs = append(errs, errors.New("out: an output directory is required"))
	}
	if c.Days <= 0 || c.Days > 3660 {
		errs = append(errs, fmt.Errorf("days: must be in 1..3660, got %d", c.Days))
	}
	if c.Rate <= 0 {
		errs = append(errs, fmt.Errorf("rate: must be positive, got %d", c.Rate))
	}
	if c.Nodes < 1 || c.Nodes > 64 {
		errs = append(errs, fmt.Errorf("nodes: must be in 1..64, got %d", c.Nodes))
	}
	switch c.CRDBFormat {
	case FormatJSON, FormatCRDBV2, FormatMixed:
	default:
		errs = append(errs, fmt.Errorf("crdb-format: must be json, crdb-v2 or mixed, got %q", c.CRDBFormat))
	}
	if c.MaxEvents < 0 {
		errs = append(errs, fmt.Errorf("events: must not be negative, got %d", c.MaxEvents))
	}
	if c.MaxFileSize < 64<<10 {
		errs = append(errs, fmt.Errorf("max file size: must be at least 64 KiB, got %d", c.MaxFileSize))
	}
	if c.Start.IsZero() {
		errs = append(errs, errors.New("start: a start date is required"))
	}
	return errors.Join(errs...)
}

// nodeFormat is the envelope format of node i (1-based).
func (c Config) nodeFormat(i int) string {
	if c.CRDBFormat != FormatMixed {
		return c.CRDBFormat
	}
	if i%2 == 0 {
		return FormatCRDBV2
	}
	return FormatJSON
}

// rangeStart and rangeEnd bound the generated event times, ns since epoch.
func (c Config) rangeStart() int64 { return c.Start.UTC().UnixNano() }
func (c Config) rangeEnd() int64 {
	return c.Start.UTC().Add(time.Duration(c.Days) * 24 * time.Hour).UnixNano()
}
