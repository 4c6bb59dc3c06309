package report

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink/clickhousesink"
)

// ClickHouseSource reads a report's data from the ClickHouse store that
// `analyze run` (clickhouse.enabled) and the streaming sink write: the
// findings table (newest version of each finding) and the events table,
// both read FINAL so replayed rows never count twice. It gives the same
// answers as JSONLSource over the files of the same run, with these
// limits of the store's column types:
//
//   - client addresses are IPv6 columns, so they come back in Go's
//     canonical text form (IPv4 without the ::ffff: prefix), and an
//     unparseable or empty address comes back as "" (its network too);
//   - empty lists and maps of a finding come back nil (the table cannot
//     tell nil from empty), and a severity outside info..critical was
//     stored as info;
//   - a session's application, when its authentication did not name one,
//     is the one of the newest event of that session id that does (the
//     JSONL source takes the last one in file order: the same in practice).
//
// The store holds every run written to it, not one run's files; a
// report from it covers all of them. Safe for concurrent use.
type ClickHouseSource struct {
	Store *clickhousesink.Store
}

var _ Source = (*ClickHouseSource)(nil)
var _ Newester = (*ClickHouseSource)(nil)

// authTypes are the event types that start (or fail to start) a session.
const authTypes = "('client_authentication_ok', 'client_authentication_failed')"

// chMinTime is the oldest instant a DateTime64(9) holds; the newest is
// math.MaxInt64 ns. Ranges are clamped to them: nothing outside can be
// stored.
var chMinTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// rangeParams renders [from, to] as the query parameters from and to (ns
// since the epoch), clamped to what DateTime64(9) holds. ok is false when
// the range is empty.
func rangeParams(from, to time.Time) (map[string]string, bool) {
	maxT := time.Unix(0, math.MaxInt64)
	if from.Before(chMinTime) {
		from = chMinTime
	}
	if to.After(maxT) {
		to = maxT
	}
	if to.Before(from) {
		return nil, false
	}
	return map[string]string{
		"from": strconv.FormatInt(from.UnixNano(), 10),
		"to":   strconv.FormatInt(to.UnixNano(), 10),
	}, true
}

// inRangeSQL restricts column col to the range of rangeParams.
func inRangeSQL(col string) string {
	return col + " BETWEEN fromUnixTimestamp64Nano({from:Int64}, 'UTC') AND fromUnixTimestamp64Nano({to:Int64}, 'UTC')"
}

const findingsSQL = `SELECT id, rule_id, toString(severity), title, summary, user, client_addr, application,
       session_id, cluster, node, first_seen, last_seen, count, evidence, fingerprint, fingerprint_hash,
       tables, columns, details, cwe, owasp, mitre, pci, remediation, query
FROM {{db}}.findings FINAL
WHERE `

// Findings returns the newest version of every finding whose FirstSeen
// lies in [from, to], as detectors.Finding.
func (s *ClickHouseSource) Findings(ctx context.Context, from, to time.Time) ([]detectors.Finding, error) {
	params, ok := rangeParams(from, to)
	if !ok {
		return nil, nil
	}
	var out []detectors.Finding
	err := s.Store.Select(ctx, "reading findings", findingsSQL+inRangeSQL("first_seen")+" ORDER BY id", params, func(rows driver.Rows) error {
		out = out[:0]
		for rows.Next() {
			f, err := scanFinding(rows)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanFinding reads one row of findingsSQL.
func scanFinding(rows driver.Rows) (detectors.Finding, error) {
	var (
		f        detectors.Finding
		severity string
		addr     netip.Addr
		count    uint64
		evidence []string
		tables   []string
		columns  []string
		details  map[string]string
		cwe      []string
		owasp    []string
		mitre    []string
		pci      []string
	)
	err := rows.Scan(&f.ID, &f.RuleID, &severity, &f.Title, &f.Summary, &f.Principal.User, &addr, &f.Principal.Application,
		&f.SessionID, &f.Cluster, &f.Node, &f.FirstSeen, &f.LastSeen, &count, &evidence, &f.Fingerprint, &f.FingerprintHash,
		&tables, &columns, &details, &cwe, &owasp, &mitre, &pci, &f.Remediation, &f.Query)
	if err != nil {
		return f, fmt.Errorf("scanning a finding: %w", err)
	}
	sev, ok := detectors.ParseSeverity(severity)
	if !ok {
		return f, fmt.Errorf("finding %s: unknown severity %q", f.ID, severity)
	}
	f.Severity = sev
	f.Principal.ClientAddr = addrText(addr)
	f.FirstSeen, f.LastSeen = f.FirstSeen.UTC(), f.LastSeen.UTC()
	f.Count = int64(min(count, math.MaxInt64))
	f.Evidence, f.Tables, f.Columns = orNil(evidence), orNil(tables), orNil(columns)
	f.CWE, f.OWASP, f.MITRE, f.PCI = orNil(cwe), orNil(owasp), orNil(mitre), orNil(pci)
	if len(details) > 0 {
		f.Details = details
	}
	return f, nil
}

func orNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// addrText renders an IPv6 column value the way addresses are logged: ""
// for :: (unknown), a.b.c.d for IPv4-mapped addresses.
func addrText(a netip.Addr) string {
	if !a.IsValid() || a.IsUnspecified() {
		return ""
	}
	return a.Unmap().String()
}

// networkText is Network for an IPv6 column value already cut to its
// network (the /24 of an IPv4-mapped address, else the /64).
func networkText(net netip.Addr, unknown bool) string {
	if unknown || !net.IsValid() {
		return ""
	}
	return Network(net.Unmap().String())
}

// Newest returns the newest last_seen of the findings or, with no
// findings, the newest event time.
func (s *ClickHouseSource) Newest(ctx context.Context) (time.Time, bool, error) {
	for _, q := range []struct{ what, sql string }{
		{"reading the newest finding", "SELECT max(last_seen), count() FROM {{db}}.findings FINAL"},
		{"reading the newest event", "SELECT max(time), count() FROM {{db}}.events"},
	} {
		var newest time.Time
		var n uint64
		err := s.Store.Select(ctx, q.what, q.sql, nil, func(rows driver.Rows) error {
			newest, n = time.Time{}, 0
			if rows.Next() {
				return rows.Scan(&newest, &n)
			}
			return nil
		})
		if err != nil {
			return time.Time{}, false, err
		}
		if n > 0 {
			return newest.UTC(), true, nil
		}
	}
	return time.Time{}, false, nil
}

// sessionFilter selects the events the session statistics count: in the
// range, of non-internal clients, from CockroachDB.
var sessionFilter = inRangeSQL("time") + " AND NOT internal AND source IN ('', {crdb:String})"

// sessionCTE names the authentications of the range (auths) and, for
// those whose event did not name an application, the application the
// newest event of the same session id names (apps).
var sessionCTE = `WITH auths AS (
    SELECT time, id, session_id, node, user, application, client_addr, transport, auth_method,
           type = 'client_authentication_failed' AS failed
    FROM {{db}}.events FINAL
    WHERE ` + sessionFilter + ` AND type IN ` + authTypes + `
), apps AS (
    SELECT session_id, argMax(application, (time, id)) AS named
    FROM {{db}}.events FINAL
    WHERE session_id != '' AND application != ''
      AND session_id IN (SELECT session_id FROM auths WHERE application = '' AND session_id != '')
    GROUP BY session_id
)
`

// sessionApp is the application of a row of auths joined with apps.
const sessionApp = "if(a.application != '', a.application, apps.named)"

var sessionGroupsSQL = sessionCTE + `SELECT toString(toDate(a.time)) AS day, a.transport AS transport, a.user AS user,
       ` + sessionApp + ` AS app,
       a.client_addr = toIPv6('::') AS unknown,
       IPv6CIDRToRange(a.client_addr,
           if(a.client_addr BETWEEN toIPv6('::ffff:0.0.0.0') AND toIPv6('::ffff:255.255.255.255'), 120, 64)).1 AS net,
       a.auth_method AS method, a.failed AS failed, count() AS sessions
FROM auths AS a LEFT JOIN apps ON a.session_id = apps.session_id
GROUP BY day, transport, user, app, unknown, net, method, failed
SETTINGS join_use_nulls = 0`

var nonTLSSQL = sessionCTE + `SELECT a.time, a.session_id, a.node, a.user, ` + sessionApp + ` AS app, a.client_addr,
       a.transport, a.auth_method, a.failed
FROM auths AS a LEFT JOIN apps ON a.session_id = apps.session_id
WHERE a.transport = {plain:String}
ORDER BY a.time, a.session_id, a.node, a.id
LIMIT {limit:UInt32}
SETTINGS join_use_nulls = 0`

var sessionTotalsSQL = `SELECT
    countIf(type IN ` + authTypes + ` AND transport = {plain:String}),
    countIf(type = 'client_session_end' AND toInt64OrNull(attrs['Duration']) IS NOT NULL),
    countIf(type = 'client_session_end' AND toInt64OrNull(attrs['Duration']) < {short:Int64}),
    countIf(type = 'sensitive_table_access')
FROM {{db}}.events FINAL
WHERE ` + sessionFilter

// Sessions aggregates the sessions whose authentication lies in
// [from, to] with GROUP BY queries over the events table. Available is
// false only when the events table is empty.
func (s *ClickHouseSource) Sessions(ctx context.Context, from, to time.Time) (SessionStats, error) {
	var st SessionStats
	err := s.Store.Select(ctx, "checking for session data", "SELECT 1 FROM {{db}}.events LIMIT 1", nil, func(rows driver.Rows) error {
		st.Available = rows.Next()
		return nil
	})
	if err != nil || !st.Available {
		return st, err
	}
	params, ok := rangeParams(from, to)
	if !ok {
		return st, nil
	}
	params["crdb"] = event.SourceCRDB
	params["plain"] = event.TransportPlain
	params["short"] = strconv.FormatInt(int64(ShortSession), 10)
	params["limit"] = strconv.Itoa(MaxListedSessions)

	err = s.Store.Select(ctx, "counting sessions", sessionTotalsSQL, params, func(rows driver.Rows) error {
		var nonTLS, ended, short, audited uint64
		if rows.Next() {
			if err := rows.Scan(&nonTLS, &ended, &short, &audited); err != nil {
				return err
			}
		}
		st.NonTLSTotal, st.EndedSessions, st.ShortSessions = int64(nonTLS), int64(ended), int64(short)
		st.AuditedAccesses = int64(audited)
		return nil
	})
	if err != nil {
		return SessionStats{}, err
	}
	err = s.Store.Select(ctx, "grouping sessions", sessionGroupsSQL, params, func(rows driver.Rows) error {
		st.Groups = st.Groups[:0]
		cube := map[SessionGroup]int64{}
		for rows.Next() {
			var g SessionGroup
			var net netip.Addr
			var unknown bool
			var n uint64
			if err := rows.Scan(&g.Day, &g.Transport, &g.User, &g.Application, &unknown, &net, &g.AuthMethod, &g.Failed, &n); err != nil {
				return err
			}
			g.Network = networkText(net, unknown)
			cube[g] += int64(n)
		}
		for g, n := range cube {
			g.Sessions = n
			st.Groups = append(st.Groups, g)
		}
		return nil
	})
	if err != nil {
		return SessionStats{}, err
	}
	err = s.Store.Select(ctx, "listing sessions without TLS", nonTLSSQL, params, func(rows driver.Rows) error {
		st.NonTLS = st.NonTLS[:0]
		for rows.Next() {
			var ss Session
			var addr netip.Addr
			if err := rows.Scan(&ss.Time, &ss.SessionID, &ss.Node, &ss.User, &ss.Application, &addr,
				&ss.Transport, &ss.AuthMethod, &ss.Failed); err != nil {
				return err
			}
			ss.Time = ss.Time.UTC()
			ss.ClientAddr = addrText(addr)
			st.NonTLS = append(st.NonTLS, ss)
		}
		return nil
	})
	if err != nil {
		return SessionStats{}, err
	}
	return st, nil
}
