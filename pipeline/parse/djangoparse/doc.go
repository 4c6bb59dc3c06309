// Package djangoparse decodes Django logs, text and JSON, into events.
//
// # Text model
//
// A Python logging format ("{levelname} {asctime} {module} {process:d}
// {thread:d} {message}", `{`- or `%`-style, or a preset name) is compiled
// once per distinct format into two matchers: the prefix (fields before
// {message}, anchored at the line start) and the suffix (fields after it,
// anchored at the end of the line where the message ends). A line matching
// the prefix starts a record; every other line continues the held record
// (django.request 500 tracebacks, multi-line raw SQL). The record is
// emitted when the next start, a new file, or Flush proves it complete.
// Assembly is bounded by Options.MaxLines and MaxEntryBytes: a record over
// either limit is dropped with ReasonTooLong and its remaining lines are
// swallowed until the next start.
//
// A format without a prefix (Django's default console handler prints the
// bare message) cannot mark starts, so they are recognized by shape: SQL
// "(0.004) ...", "<reason phrase>: /path", "Forbidden (...)", "Invalid
// HTTP_HOST header", runserver's "[11/Jun/2025 16:05:44] " prefix, known
// security exception texts and manage.py console lines. "Traceback" and
// indented lines continue, and so does any other line once a record is
// held: an application's own multi-line message is glued to the record
// before it, bounded by the limits.
//
// With Options.Format "", the decoder starts every file reading bare
// messages and switches for good to the first preset (detectOrder) whose
// prefix matches a line within the first 64 non-empty lines.
//
// # Time
//
// asctime and server_time are local times without zone, read in
// Options.Location. A record of a time-less format takes the time of the
// decoder's previous record, or Options.FallbackTime before any; with
// neither it is a LineError (ReasonMissingFields), never a zero time. A time
// field that does not parse as a real date is ReasonBadTimestamp. In JSON
// the first key of FieldMap.Time that parses wins, python-json-logger's
// ISO-8601 UTC `timestamp` first.
//
// # Classification
//
// The logger name comes from {name} (or the JSON name key); without it,
// it is inferred from the message shape. django.db.backends and
// django.db.backends.schema records become "django.sql" events whose
// statement and params go only to parse.Raw: the Normalizer fingerprints the
// statement and hashes its values, so no SQL text reaches the event in the
// clear. django.request, django.security.*, django.server and other loggers
// become "django.request", "django.security", "django.server" and
// "django.log". Runserver's report of a TLS handshake on its plain-HTTP
// socket sets Attrs["tls_on_plain_http"]. Query strings of runserver
// request lines and of JSON `request` reprs are kept only as a keyed hash
// (Attrs["query_hash"]).
//
// # Errors
//
// Every per-line problem is a *parse.LineError with one of the parse
// Reason* constants and a Detail that never quotes the input. A Feed call
// returns at most one error, together with the events completed before it;
// the decoder always stays usable.
//
// Decoders are not safe for concurrent use; each owns its Normalizer's
// hasher.
package djangoparse
