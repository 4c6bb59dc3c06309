package report

import (
	"context"
	"time"

	"roachwatch/detectors"
)

// Source is where a report reads its data: the findings JSONL of the
// embedded mode (JSONLSource) or the ClickHouse store (ClickHouseSource). Both must
// give the same answers for the same data so the report is the same in
// both modes.
//
// Time ranges are closed: [from, to], both inclusive, in UTC. A finding
// belongs to the range when its FirstSeen does; a session when its
// authentication event does. Implementations may return findings in any
// order (the report sorts); the caller owns the returned slices. Errors
// are I/O or query failures: the report is not written. Sessions returns a
// zero SessionStats (Available false) when the source has no session data,
// which is not an error. Calls block until done or ctx ends.
type Source interface {
	Findings(ctx context.Context, from, to time.Time) ([]detectors.Finding, error)
	Sessions(ctx context.Context, from, to time.Time) (SessionStats, error)
}

// Newester is implemented by sources that can say cheaply when their
// newest data is (max(last_seen) of the findings). The report's default
// --until is that instant; without it the report scans all findings.
type Newester interface {
	Newest(ctx context.Context) (time.Time, bool, error)
}

// MaxListedSessions caps the non-TLS sessions a SessionStats lists (and
// the report shows); NonTLSTotal still counts all of them.
const MaxListedSessions = 200

// ShortSession is the duration under which an ended session counts as
// short: Django with CONN_MAX_AGE = 0 opens one connection per request.
const ShortSession = time.Second

// SessionStats aggregates the SQL sessions of a time range. A session is
// one client authentication (CockroachDB SESSIONS channel events
// client_authentication_ok and client_authentication_failed) of a
// non-internal client. The shape maps onto one GROUP BY query in
// ClickHouse.
type SessionStats struct {
	// Available is false when the source holds no session data at all
	// (only findings were given).
	Available bool
	// Groups counts sessions by day and attributes, in any order.
	Groups []SessionGroup
	// NonTLS lists up to MaxListedSessions sessions over hostnossl (TCP
	// without TLS), oldest first. Unix-socket (local) sessions never cross
	// the network and are not listed.
	NonTLS []Session
	// NonTLSTotal counts every non-TLS session of the range.
	NonTLSTotal int64
	// EndedSessions counts client_session_end events that carry a
	// duration; ShortSessions those that lasted less than ShortSession.
	EndedSessions, ShortSessions int64
	// AuditedAccesses counts sensitive_table_access events (CockroachDB's
	// SENSITIVE_ACCESS channel), which exist only for tables with
	// EXPERIMENTAL_AUDIT enabled.
	AuditedAccesses int64
}

// SessionGroup is one row of the session cube.
type SessionGroup struct {
	Day         string // YYYY-MM-DD (UTC) of the authentication
	Transport   string // hostssl, hostnossl, local or "" when not logged
	User        string
	Application string // "" when no event of the session named it
	Network     string // client network: IPv4 /24, IPv6 /64, "" when unknown
	AuthMethod  string // cert, cert-password, password, ...
	Failed      bool   // the authentication failed
	Sessions    int64
}

// Session is one non-TLS session.
type Session struct {
	Time        time.Time
	SessionID   string
	Node        string
	User        string
	Application string
	ClientAddr  string
	Transport   string
	AuthMethod  string
	Failed      bool
}

// Network returns the client network of addr: a.b.c.0/24 for IPv4, the
// /64 for IPv6, "" when addr is not an IP address.
func Network(addr string) string {
	ip, err := parseAddr(addr)
	if err != nil {
		return ""
	}
	bits := 24
	if !ip.Is4() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// inRange reports whether t lies in [from, to].
func inRange(t, from, to time.Time) bool {
	return !t.Before(from) && !t.After(to)
}

// newestFinding returns the newest LastSeen of fs.
func newestFinding(fs []detectors.Finding) (time.Time, bool) {
	var newest time.Time
	for i := range fs {
		if fs[i].LastSeen.After(newest) {
			newest = fs[i].LastSeen
		}
	}
	return newest, !newest.IsZero()
}

// Newest returns when src's newest data is: Newester when src implements
// it, else the newest LastSeen of all its findings.
func Newest(ctx context.Context, src Source) (time.Time, bool, error) {
	if n, ok := src.(Newester); ok {
		return n.Newest(ctx)
	}
	fs, err := src.Findings(ctx, time.Time{}, time.Unix(1<<40, 0))
	if err != nil {
		return time.Time{}, false, err
	}
	t, ok := newestFinding(fs)
	return t, ok, nil
}
