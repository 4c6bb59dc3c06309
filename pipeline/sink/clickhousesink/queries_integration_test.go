//go:build integration

package clickhousesink_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/sink/clickhousesink"
)

func truthRange(t *testing.T, tr *loggen.Truth) (time.Time, time.Time) {
	t.Helper()
	since, err := time.Parse(time.RFC3339Nano, tr.Start)
	require.NoError(t, err)
	until, err := time.Parse(time.RFC3339Nano, tr.End)
	require.NoError(t, err)
	return since, until.Add(time.Hour) // incidents may end just after the range
}

func incidents(tr *loggen.Truth, category string) []*loggen.Incident {
	var out []*loggen.Incident
	for _, inc := range tr.Incidents {
		if inc.Category == category && !inc.Lookalike {
			out = append(out, inc)
		}
	}
	return out
}

// checkQueries runs every query of the pack and compares its rows with
// what the events and findings say, computed independently in Go.
func checkQueries(t *testing.T, s *clickhousesink.Store, c corpus) {
	t.Helper()
	ctx := context.Background()
	since, until := truthRange(t, c.truth)
	run := func(name string, params map[string]string) *clickhousesink.Table {
		t.Helper()
		tb, err := s.Query(ctx, name, since, until, params)
		require.NoError(t, err, name)
		require.NotEmpty(t, tb.Rows, name)
		return tb
	}
	users := sessionUsers(c.events)
	ran := map[string]bool{}

	// sensitive_column_readers: every (column, user, client, route) seen.
	want := map[string]bool{}
	var accesses int64
	for i := range c.events {
		ev := &c.events[i]
		for _, col := range ev.SensitiveColumns {
			want[fmt.Sprintf("%s|%s|%s|%s", col, ev.User, ev.ClientAddr, ev.Route)] = true
			accesses++
		}
	}
	tb := run("sensitive_column_readers", nil)
	ran["sensitive_column_readers"] = true
	require.Equal(t, sortedKeys(want), keys(t, tb, "column", "user", "client", "route"))
	require.Equal(t, accesses, sum(num(t, tb, "accesses")))
	require.Contains(t, col(t, tb, "column"), "patients.ssn")
	tb, err := s.Query(ctx, "sensitive_column_readers", since, until, map[string]string{"column": "patients.ssn"})
	require.NoError(t, err)
	require.NotEmpty(t, tb.Rows)
	for _, cname := range col(t, tb, "column") {
		require.Equal(t, "patients.ssn", cname)
	}

	// non_tls_sessions: exactly the users of hostnossl sessions, which
	// include every planted plaintext principal.
	want = map[string]bool{}
	for i := range c.events {
		ev := &c.events[i]
		if ev.Transport == event.TransportPlain && !ev.Internal {
			u := users[ev.Cluster+"/"+ev.SessionID]
			if ev.SessionID == "" {
				u = ev.User
			}
			want[ev.ClientAddr+"|"+u] = true
		}
	}
	tb = run("non_tls_sessions", nil)
	ran["non_tls_sessions"] = true
	require.Equal(t, sortedKeys(want), keys(t, tb, "client", "user"))
	gotUsers := col(t, tb, "user")
	for _, cat := range []string{"tls_plaintext", "tls_plaintext_sensitive"} {
		for _, inc := range incidents(c.truth, cat) {
			require.Contains(t, gotUsers, inc.Principal.User, inc.ID)
		}
	}

	// new_fingerprints: principals' fingerprints first seen in the second
	// half of the day.
	half := since.Add(12 * time.Hour)
	first := map[string]int64{}
	for i := range c.events {
		ev := &c.events[i]
		if ev.FingerprintHash == 0 || ev.User == "" {
			continue
		}
		k := fmt.Sprintf("%s|%s|%d", ev.User, ev.Application, ev.FingerprintHash)
		if f, ok := first[k]; !ok || ev.Time < f {
			first[k] = ev.Time
		}
	}
	want = map[string]bool{}
	for k, f := range first {
		if f >= half.UnixNano() && f < until.UnixNano() {
			want[k] = true
		}
	}
	tb, err = s.Query(ctx, "new_fingerprints", half, until, nil)
	require.NoError(t, err)
	ran["new_fingerprints"] = true
	require.NotEmpty(t, want)
	require.Equal(t, sortedKeys(want), keys(t, tb, "user", "application", "fingerprint_hash"))
	require.Contains(t, col(t, tb, "user"), "etl_tmp", "the never-seen principal's statements are new")

	// findings_by_rule_day: the findings written, per day, rule, severity.
	perKey := map[string]int64{}
	for _, f := range c.findings {
		perKey[fmt.Sprintf("%s|%s|%s", f.FirstSeen.UTC().Format("2006-01-02"), f.RuleID, f.Severity)]++
	}
	tb = run("findings_by_rule_day", nil)
	ran["findings_by_rule_day"] = true
	got := map[string]int64{}
	days, rules, sevs, ns := col(t, tb, "day"), col(t, tb, "rule_id"), col(t, tb, "severity"), num(t, tb, "findings")
	for i := range days {
		got[fmt.Sprintf("%s|%s|%s", days[i][:10], rules[i], sevs[i])] = ns[i]
	}
	require.Equal(t, perKey, got)
	require.EqualValues(t, len(c.findings), sum(num(t, tb, "open")))

	// session_timeline: the exfiltration session, every event in order.
	exfil := incidents(c.truth, "exfiltration")
	require.Len(t, exfil, 1)
	var sessEvents []*event.Event
	for i := range c.events {
		if c.events[i].SessionID == exfil[0].SessionID {
			sessEvents = append(sessEvents, &c.events[i])
		}
	}
	require.NotEmpty(t, sessEvents)
	tb = run("session_timeline", map[string]string{"session_id": exfil[0].SessionID})
	ran["session_timeline"] = true
	require.Len(t, tb.Rows, len(sessEvents))
	times := col(t, tb, "time")
	require.True(t, sort.StringsAreSorted(times), "timeline is ordered by time")
	gotIDs, wantIDs := col(t, tb, "id"), make([]string, len(sessEvents))
	for i, ev := range sessEvents {
		wantIDs[i] = ev.ID
	}
	require.ElementsMatch(t, wantIDs, gotIDs)
	_, err = s.Query(ctx, "session_timeline", since, until, nil)
	require.ErrorContains(t, err, "parameter session_id (String) is required")

	// exfiltration_candidates: the planted bulk read, at its hour.
	tb = run("exfiltration_candidates", nil)
	ran["exfiltration_candidates"] = true
	decisive, err := time.Parse(time.RFC3339Nano, exfil[0].DecisiveTime)
	require.NoError(t, err)
	require.Contains(t, keys(t, tb, "user", "hour"),
		exfil[0].Principal.User+"|"+decisive.Truncate(time.Hour).UTC().Format("2006-01-02 15:04:05 -0700 UTC"))
	require.Equal(t, exfil[0].Principal.User, col(t, tb, "user")[0], "the planted read is the largest candidate")

	// failed_auth_heatmap: every failure, the brute force among them.
	var failures int64
	for i := range c.events {
		if c.events[i].AuthFailure != "" {
			failures++
		}
	}
	tb = run("failed_auth_heatmap", nil)
	ran["failed_auth_heatmap"] = true
	require.Equal(t, failures, sum(num(t, tb, "failures")))
	for _, inc := range incidents(c.truth, "brute_force") {
		require.Contains(t, keys(t, tb, "user", "client"), inc.Principal.User+"|"+inc.Principal.ClientAddr, inc.ID)
	}

	// route_sensitive_columns: every (route, column) pair.
	want = map[string]bool{}
	for i := range c.events {
		ev := &c.events[i]
		for _, col := range ev.SensitiveColumns {
			if ev.Route != "" {
				want[ev.Route+"|"+col] = true
			}
		}
	}
	tb = run("route_sensitive_columns", nil)
	ran["route_sensitive_columns"] = true
	require.Equal(t, sortedKeys(want), keys(t, tb, "route", "column"))

	// principal_activity: the rollup accounts for every event.
	var inRange int64
	for i := range c.events {
		if c.events[i].Time >= since.Truncate(time.Hour).UnixNano() && c.events[i].Time < until.UnixNano() {
			inRange++
		}
	}
	tb = run("principal_activity", nil)
	ran["principal_activity"] = true
	require.Equal(t, inRange, sum(num(t, tb, "events")))

	// plaintext_columns: the probe's catalog, not the events (more in
	// TestWriteCatalog).
	require.NoError(t, s.WriteCatalog(ctx, catalogProbe(since.Add(time.Hour), "encrypted")))
	tb = run("plaintext_columns", nil)
	ran["plaintext_columns"] = true
	require.Equal(t, []string{"app.customers.ssn"}, col(t, tb, "column"))

	qs, err := clickhousesink.Queries()
	require.NoError(t, err)
	for _, q := range qs {
		require.True(t, ran[q.Name], "query %s has no content check", q.Name)
	}
	_, err = s.Query(ctx, "nope", since, until, nil)
	require.ErrorIs(t, err, clickhousesink.ErrUnknownQuery)
	_, err = s.Query(ctx, "non_tls_sessions", since, until, map[string]string{"bogus": "1"})
	require.ErrorContains(t, err, `unknown parameter "bogus"`)
}

// checkTriage sets a finding's status and checks that a replayed detector
// write keeps it and adds no finding.
func checkTriage(t *testing.T, s *clickhousesink.Store, conn driver.Conn, c corpus) {
	t.Helper()
	ctx := context.Background()
	id := c.findings[0].ID
	require.NoError(t, s.SetStatus(ctx, id, clickhousesink.StatusAcknowledged, "known test client", "alice"))
	require.NoError(t, s.WriteFindings(ctx, c.findings))
	grown := slices.Clone(c.findings[:1])
	grown[0].Count++
	grown[0].LastSeen = grown[0].LastSeen.Add(time.Second)
	require.NoError(t, s.WriteFindings(ctx, grown))
	var status, by string
	var n uint64
	require.NoError(t, conn.QueryRow(ctx, "SELECT toString(status), updated_by, count FROM v_findings WHERE id = ?", id).Scan(&status, &by, &n))
	require.Equal(t, "acknowledged", status)
	require.Equal(t, "alice", by)
	require.EqualValues(t, c.findings[0].Count+1, n)
	require.EqualValues(t, len(c.findings), count(t, conn, "SELECT count() FROM v_findings"))
	require.EqualValues(t, len(c.findings)-1, count(t, conn, "SELECT count() FROM v_open_findings"))
	require.Error(t, s.SetStatus(ctx, id, "closed", "", "alice"))
	require.False(t, strings.Contains(fmt.Sprint(s.Config()), "hunter"))
}
