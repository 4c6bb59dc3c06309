// Package secret holds the string type used for passwords and keys in
// config structs: it never prints, so a secret cannot reach a log line, an
// error message or a config dump by accident.
package secret

import "log/slog"

// String is a secret string. slog, fmt and JSON/YAML see "[redacted]";
// Reveal returns the value for the one place that needs it.
type String string

// LogValue keeps the secret out of structured logs.
func (String) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps the secret out of fmt output.
func (String) String() string { return "[redacted]" }

// GoString keeps the secret out of %#v output.
func (String) GoString() string { return "[redacted]" }

// MarshalText keeps the secret out of JSON/YAML dumps.
func (String) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret itself.
func (s String) Reveal() string { return string(s) }
