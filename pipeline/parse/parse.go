// Package parse holds the decoder contract shared by every input format,
// format detection, and the Normalizer that turns the sensitive parts of an
// entry (statements, values, free text) into safe event fields.
//
// Implementations live in subpackages (crdbparse, djangoparse) that import
// this package, never the reverse.
package parse

import (
	"errors"
	"fmt"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/source"
)

// Decoder turns physical lines into events.
//
// Feed appends the events completed by line to out and returns the
// extended slice. Formats with continuation lines (crdb-v2 '+', '|' and
// '!', Django tracebacks and multi-line SQL) hold the last entry until a
// following line, or Flush, proves it complete, so the events Feed returns
// may belong to earlier lines. Feed copies what it keeps: line.Text may be
// reused by the caller after Feed returns.
//
// A line that cannot be parsed yields a *LineError (errors.Is ErrMalformed)
// together with any events completed before it; the decoder stays usable
// and the caller counts the error and goes on.
//
// Flush appends the held entry, if any, and resets the decoder. Decoders
// are not safe for concurrent use.
type Decoder interface {
	Feed(line source.Line, out []event.Event) ([]event.Event, error)
	Flush(out []event.Event) ([]event.Event, error)
}

// ErrMalformed is the sentinel of every per-line parse error.
var ErrMalformed = errors.New("parse: malformed entry")

// Reasons are the bounded set of labels a LineError carries; they are used
// as metric labels and in the run summary.
const (
	ReasonInvalidJSON   = "invalid_json" // not a JSON object, or truncated
	ReasonNoPrefix      = "no_prefix"    // crdb-v2 line without a valid prefix
	ReasonOrphan        = "orphan_continuation"
	ReasonBadTimestamp  = "bad_timestamp"
	ReasonMissingFields = "missing_fields" // required envelope fields absent
	ReasonTooLong       = "too_long"       // line or reassembled entry over the limit
	ReasonBinary        = "binary"         // control bytes / not text
	ReasonUnknownFormat = "unknown_format"
)

// LineError reports one input line (or entry) that could not be parsed.
type LineError struct {
	Reason string // one of the Reason* constants
	File   string
	Offset int64
	Detail string // human-readable; never contains the line's content
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s at offset %d: %s: %s", e.File, e.Offset, e.Reason, e.Detail)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *LineError) Unwrap() error { return ErrMalformed }

// Malformed builds a LineError for line.
func Malformed(line source.Line, reason, detail string) *LineError {
	return &LineError{Reason: reason, File: line.File, Offset: line.Offset, Detail: detail}
}

// Formats a decoder can be built for.
const (
	FormatAuto            = "auto"
	FormatCRDBJSON        = "crdb-json" // json, json-compact, json-fluent, json-fluent-compact
	FormatCRDBV2          = "crdb-v2"
	FormatDjangoText      = "django-text"
	FormatDjangoJSON      = "django-json"
	FormatCRDBJSONCompact = "crdb-json-compact" // reported in Event.Format; decoded by the crdb-json decoder
)

// Formats lists the formats a user can name in config.
var Formats = []string{FormatAuto, FormatCRDBJSON, FormatCRDBV2, FormatDjangoText, FormatDjangoJSON}
