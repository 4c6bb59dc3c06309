// Package crdbparse decodes CockroachDB log files into events: the
// crdb-v2 text format (also crdb-v2-tty, after removing colour escapes)
// and the json family (json, json-compact, json-fluent,
// json-fluent-compact). The formats are described in
// docs/log-formats.md §2; this package is its executable form.
//
// # Model
//
// One log entry gives at most one event. Header entries ([config] tags,
// "header":1) give none and no error. Structured entries ("=" in crdb-v2,
// an "event" object in json) are mapped by field name, never by channel,
// since events move between channels across versions; an unknown
// EventType still gives an event with the common fields and Attrs.
// Unstructured entries give Type "log".
//
// # Reassembly (crdb-v2)
//
// An entry starts with a line whose continuation character is ' ' or '='.
// Lines with '+', '|' or '!' continue it when their prefix up to that
// character (time, goroutine, channel, file:line, tags, counter) equals
// the entry's first line: '+' joins with a newline, '|' (size split) joins
// with nothing and removes the "›‹" the writer puts around a split inside
// a sensitive span, '!' is a stack trace (kept after the message of an
// unstructured entry, ignored for structured ones). The JSON of a
// structured entry is parsed only once the entry is complete, that is when
// the next entry starts or Flush is called. A continuation without its
// entry is ReasonOrphan; a line without a prefix is ReasonNoPrefix and is
// never glued to the entry before it. An entry over Options.MaxEntryBytes
// or Options.MaxLines is dropped with ReasonTooLong, and its remaining
// lines are swallowed silently.
//
// # What is kept and what is hashed
//
// The decoder never stores sensitive text itself: statements, placeholder
// values, error texts, messages and setting values go to parse.Raw, and
// the Normalizer turns them into fingerprints, keyed hashes and redacted
// text. Principals and object names (User, Grantee, RoleName, Object,
// Roles, Members, Role, Owner, ...) and client addresses are kept with
// their ‹ › markers removed. Any other string that carries markers is
// stored in Attrs with each ‹…› span replaced by its keyed hash token. When
// an entry is not redactable (no ⋮ in crdb-v2, no "redactable":1 in json)
// CockroachDB's contract is that all of its text is potentially sensitive:
// free text (message, ErrorText, Detail) and the fields documented as
// sensitive are then wrapped whole in one span and hashed. Numbers keep
// their decimal text (Timestamp and uint64 fingerprint ids are never
// converted through float64).
//
// Attrs carries, besides unmapped payload fields under their CockroachDB
// names, the envelope values tenant_id, tenant_name, entry_counter (gaps on
// auditable sinks mean lost lines), instance_id and crdb_version (json
// envelope, or the crdb-v2 "binary:" header line of the same stream).
//
// Raw.Entry, from which the event id derives, is the exact entry: the
// json line, or the crdb-v2 physical lines joined with '\n' as read, so
// equal input gives equal ids.
//
// Decoders are not safe for concurrent use; run one per file or stream.
package crdbparse
