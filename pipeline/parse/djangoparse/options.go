package djangoparse

import (
	"fmt"
	"strings"
	"time"
)

// Default limits of multi-line record assembly.
const (
	DefaultMaxEntryBytes = 16 << 20 // bytes of one reassembled record
	DefaultMaxLines      = 10000    // physical lines of one record
)

// Options configures a Django decoder. The zero value is usable for the
// JSON decoder and for the text decoder with auto-detection, provided
// FallbackTime is set whenever the logs may contain time-less records.
type Options struct {
	// Format is the Python logging format of the text logs, in `{`-style
	// ("{levelname} {asctime} {message}") or `%`-style
	// ("%(levelname)s %(asctime)s %(message)s"), or the name of one of the
	// Presets. "" auto-detects among the presets per file: the first lines
	// that match a preset with a prefix decide, otherwise the file is read
	// as bare messages (Django's default console handler).
	Format string
	// Location is the zone of asctime and server_time, which Django writes
	// as local time without a zone. nil means UTC.
	Location *time.Location
	// Host is Event.Node of every event: the Django host.
	Host string
	// Fields names the keys of JSON records. Empty lists take the
	// defaults (see FieldMap).
	Fields FieldMap
	// FallbackTime (ns since the Unix epoch) is the time of a time-less
	// record that has no earlier record in this decoder to inherit a time
	// from. A time-less Format requires it; with auto-detection and JSON a
	// time-less record without it is a LineError (ReasonMissingFields).
	FallbackTime int64
	// MaxEntryBytes bounds one reassembled record (default 16 MiB) and one
	// JSON line.
	MaxEntryBytes int
	// MaxLines bounds the physical lines of one record (default 10000).
	MaxLines int
}

// FieldMap names the keys of a JSON record by role, for python-json-logger
// rename_fields, structlog and ECS setups. Each list is tried in order; the
// first key present wins (for Time: the first that parses). A key with dots
// ("log.level") is looked up as a literal key first, then as a path into
// nested objects.
type FieldMap struct {
	Time    []string // default timestamp, @timestamp, asctime, time, created, server_time
	Level   []string // default levelname, level, log.level, severity
	Logger  []string // default name, logger, logger_name, log.logger
	Message []string // default message, msg, event
}

// DefaultFields is the FieldMap used for empty lists. The python-json-logger
// `timestamp` (ISO-8601 UTC) comes first so that it wins over the local,
// zone-less asctime.
var DefaultFields = FieldMap{
	Time:    []string{"timestamp", "@timestamp", "asctime", "time", "created", "server_time"},
	Level:   []string{"levelname", "level", "log.level", "severity"},
	Logger:  []string{"name", "logger", "logger_name", "log.logger"},
	Message: []string{"message", "msg", "event"},
}

// Presets are the common shapes of Django text logs, by name. Options.Format
// may name one. Auto-detection tries every preset that has a prefix before
// {message}; "server" and "message" are covered by the bare-message reader,
// which recognizes runserver's "[server_time] " prefix on its own.
var Presets = map[string]string{
	// The Django docs' example formatters, found in countless projects.
	"verbose":      "{levelname} {asctime} {module} {process:d} {thread:d} {message}",
	"verbose_name": "{name} {levelname} {asctime} {module} {process:d} {thread:d} {message}",
	"simple":       "{levelname} {message}",
	// Other frequent project shapes.
	"timestamped": "{asctime} {levelname} {name} {message}",
	"bracketed":   "[{asctime}] {levelname} [{name}:{lineno}] {message}",
	// Python's logging.BASIC_FORMAT (logging.basicConfig).
	"basic": "{levelname}:{name}:{message}",
	// django.server's ServerFormatter.
	"server": "[{server_time}] {message}",
	// Django's default console handler has no formatter: the bare message.
	"message": "{message}",
}

// detectOrder is the order in which auto-detection tries the presets: most
// specific first, because every verbose line also matches "simple".
var detectOrder = []string{"verbose_name", "verbose", "bracketed", "timestamped", "basic", "simple"}

// detectWindow is how many non-empty lines of a file auto-detection looks
// at before it settles on bare messages.
const detectWindow = 64

// withDefaults returns o with zero limits and empty field lists replaced by
// the defaults.
func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxEntryBytes <= 0 {
		o.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if o.MaxLines <= 0 {
		o.MaxLines = DefaultMaxLines
	}
	if len(o.Fields.Time) == 0 {
		o.Fields.Time = DefaultFields.Time
	}
	if len(o.Fields.Level) == 0 {
		o.Fields.Level = DefaultFields.Level
	}
	if len(o.Fields.Logger) == 0 {
		o.Fields.Logger = DefaultFields.Logger
	}
	if len(o.Fields.Message) == 0 {
		o.Fields.Message = DefaultFields.Message
	}
	return o
}

// resolveFormat maps a preset name to its format string.
func resolveFormat(f string) string {
	if p, ok := Presets[strings.TrimSpace(f)]; ok {
		return p
	}
	return f
}

// validate reports options that can never work.
func (o Options) validate(l *layout) error {
	if o.FallbackTime < 0 {
		return fmt.Errorf("djangoparse: FallbackTime must not be negative, got %d", o.FallbackTime)
	}
	if l != nil && l.timeGroup < 0 && l.serverGroup < 0 && l.createdGroup < 0 && o.FallbackTime == 0 {
		return fmt.Errorf("djangoparse: format %q has no time field (asctime, created, server_time): set Options.FallbackTime", l.src)
	}
	return nil
}
