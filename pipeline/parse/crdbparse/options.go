package crdbparse

import "strconv"

// Default limits of Options.
const (
	DefaultMaxEntryBytes = 16 << 20
	DefaultMaxLines      = 10000
)

// Options bound the memory a decoder may hold for one entry.
type Options struct {
	// MaxEntryBytes limits a reassembled entry (all physical lines, or one
	// JSON line). An entry over it is dropped with a ReasonTooLong
	// LineError and the decoder goes on. Zero or less means
	// DefaultMaxEntryBytes.
	MaxEntryBytes int
	// MaxLines limits the physical lines of one crdb-v2 entry. Zero or
	// less means DefaultMaxLines.
	MaxLines int
}

func (o Options) withDefaults() Options {
	if o.MaxEntryBytes <= 0 {
		o.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if o.MaxLines <= 0 {
		o.MaxLines = DefaultMaxLines
	}
	return o
}

// channelNames maps CockroachDB's numeric channel ids (logpb.Channel) to
// their names; log-formats.md §1.1. Ids 14 and 15 are not verified and
// therefore absent: they map to UNKNOWN_<n> like any other unknown id.
var channelNames = [...]string{
	0:  "DEV",
	1:  "OPS",
	2:  "HEALTH",
	3:  "STORAGE",
	4:  "SESSIONS",
	5:  "SQL_SCHEMA",
	6:  "USER_ADMIN",
	7:  "PRIVILEGES",
	8:  "SENSITIVE_ACCESS",
	9:  "SQL_EXEC",
	10: "SQL_PERF",
	11: "SQL_INTERNAL_PERF",
	12: "TELEMETRY",
	13: "KV_DISTRIBUTION",
}

// channelName returns the name of channel id n.
func channelName(n int64) string {
	if n >= 0 && n < int64(len(channelNames)) {
		return channelNames[n]
	}
	return "UNKNOWN_" + strconv.FormatInt(n, 10)
}

// authFailReasons maps AuthFailReason numbers to names; §3.3.
var authFailReasons = [...]string{
	0: "UNKNOWN",
	1: "USER_RETRIEVAL_ERROR",
	2: "USER_NOT_FOUND",
	3: "LOGIN_DISABLED",
	4: "METHOD_NOT_FOUND",
	5: "PRE_HOOK_ERROR",
	6: "CREDENTIALS_INVALID",
	7: "CREDENTIALS_EXPIRED",
	8: "NO_REPLICATION_ROLEOPTION",
	9: "AUTHORIZATION_ERROR",
}

// authFailReason returns the name of AuthFailReason n; numbers added in
// later versions become REASON_<n>.
func authFailReason(n int64) string {
	if n >= 0 && n < int64(len(authFailReasons)) {
		return authFailReasons[n]
	}
	return "REASON_" + strconv.FormatInt(n, 10)
}

// severityLetter maps a severity letter (crdb-v2 prefix, compact "sev")
// to the event's severity; "" for anything else.
func severityLetter(c byte) string {
	switch c {
	case 'I':
		return "INFO"
	case 'W':
		return "WARNING"
	case 'E':
		return "ERROR"
	case 'F':
		return "FATAL"
	}
	return ""
}

// severityNumber maps severity_numeric (json "s") to the event's severity.
func severityNumber(n int64) string {
	switch n {
	case 1:
		return "INFO"
	case 2:
		return "WARNING"
	case 3:
		return "ERROR"
	case 4:
		return "FATAL"
	}
	return ""
}
