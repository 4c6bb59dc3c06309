// Package cli holds the wiring shared by the roachwatch binaries: config
// loading, the logger, exit codes and the decoder set-up.
package cli

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"roachwatch/internal/config"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
)

// Exit codes scripts can rely on.
const (
	ExitOK       = 0 // done, nothing at or above --fail-on
	ExitFailure  = 1 // the run failed (I/O, a service down, ...)
	ExitUsage    = 2 // bad flags or config: nothing was done
	ExitFindings = 3 // done, and a finding at or above --fail-on exists
)

// ExitError carries an exit code through cobra.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Usage wraps a config or flag error so main exits with ExitUsage.
func Usage(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// Code returns the exit code for err.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}

// NewLogger builds the slog logger of the config, writing to w.
func NewLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	o := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// Decoding is what every binary needs to decode input: the key, the
// catalog and decoder options.
type Decoding struct {
	Key       []byte
	Generated bool // no key was configured: a random one was generated for this run
	Catalog   *catalog.Catalog
	Formats   formats.Options
	KeepRaw   bool
}

// NewDecoding derives the decoding set-up from the config.
func NewDecoding(c config.Config, log *slog.Logger) (*Decoding, error) {
	key, ok, err := c.HMACKey()
	if err != nil {
		return nil, Usage(err)
	}
	d := &Decoding{Key: key, Catalog: catalog.New(c.Catalog), KeepRaw: c.Redaction.KeepRaw}
	if !ok {
		d.Key = make([]byte, 32)
		if _, err := rand.Read(d.Key); err != nil {
			return nil, fmt.Errorf("generating a redaction key: %w", err)
		}
		d.Generated = true
		log.Warn("no redaction key configured: generated a random one for this run; value hashes will not match other runs (set ROACHWATCH_REDACTION_KEY or redaction.key_file)")
	}
	if c.Redaction.KeepRaw {
		log.Warn("redaction.keep_raw is on: raw entries with values in the clear are kept in events")
	}
	loc, err := time.LoadLocation(c.Input.DjangoTimezone)
	if err != nil {
		return nil, Usage(fmt.Errorf("input.django_timezone: %w", err))
	}
	d.Formats = formats.Options{
		MaxEntryBytes:  c.Input.MaxEntryBytes,
		DjangoFormat:   c.Input.DjangoFormat,
		DjangoLocation: loc,
	}
	return d, nil
}

// Normalizer returns a new normalizer (one per decoder).
func (d *Decoding) Normalizer() *parse.Normalizer {
	return parse.NewNormalizer(parse.NormalizerConfig{Key: d.Key, KeepRaw: d.KeepRaw, Catalog: d.Catalog})
}
