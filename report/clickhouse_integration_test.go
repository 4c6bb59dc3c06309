//go:build integration

package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/internal/testenv/chenv"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink/clickhousesink"
)

// openTestStore opens a store on a fresh, migrated database of the
// harness server (scripts/clickhouse.sh).
func openTestStore(t *testing.T) *clickhousesink.Store {
	t.Helper()
	env := chenv.Server(t)
	cfg := clickhousesink.DefaultConfig()
	cfg.Protocol, cfg.Addr = clickhousesink.ProtocolHTTP, []string{env.HTTPAddr}
	if env.NativeAddr != "" {
		cfg.Protocol, cfg.Addr = clickhousesink.ProtocolNative, []string{env.NativeAddr}
	}
	cfg.Username, cfg.Database = "default", env.TempDatabase(t, "rw_report")
	cfg.TLS.Enabled = false
	cfg.TTLDays = 0 // the test data is from 2025
	cfg.MaxRetries, cfg.RetryBackoff, cfg.RetryMaxBackoff = 2, 20*time.Millisecond, 100*time.Millisecond
	s, err := clickhousesink.Open(t.Context(), cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(t.Context(), false, discard{})
	require.NoError(t, err)
	return s
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var chBase = time.Date(2025, 6, 9, 12, 0, 0, 0, time.UTC)

// Findings written with WriteFindings come back exactly as written: the
// newest version of each, in the range by first_seen (both ends
// inclusive).
func TestClickHouseFindingsRoundTrip(t *testing.T) {
	s := openTestStore(t)
	src := &ClickHouseSource{Store: s}
	ctx := t.Context()

	_, ok, err := src.Newest(ctx)
	require.NoError(t, err)
	require.False(t, ok, "an empty store has no newest data")
	ss, err := src.Sessions(ctx, chBase.Add(-time.Hour), chBase)
	require.NoError(t, err)
	require.False(t, ss.Available, "no events: no session data")

	full := detectors.Finding{
		ID: "f-full", RuleID: "RW-TLS-001", Severity: detectors.SeverityHigh, Title: "SQL session without TLS",
		Summary:   "billing_app authenticated over hostnossl",
		Principal: detectors.Principal{User: "billing_app", ClientAddr: "10.20.4.21", Application: "billing"},
		SessionID: "17a3f", Cluster: "prod", Node: "n2",
		FirstSeen: chBase.Add(123456789), LastSeen: chBase.Add(time.Hour + 987654321), Count: 42,
		Evidence: []string{"e1", "e2", "e3"}, Fingerprint: "SELECT iban FROM accounts WHERE id = $1",
		FingerprintHash: 1<<63 + 12345, Tables: []string{"accounts", "cards"}, Columns: []string{"accounts.iban", "cards.pan"},
		Details: map[string]string{"transport": "hostnossl", "expected": "hostssl"},
		CWE:     []string{"CWE-319"}, OWASP: []string{"A02:2021"}, MITRE: []string{"T1040", "T1557"}, PCI: []string{"4.2.1"},
		Remediation: "Use sslmode=verify-full.", Query: "SELECT * FROM events WHERE session_id = '17a3f'",
	}
	v6 := detectors.Finding{
		ID: "f-v6", RuleID: "RW-AUTH-001", Severity: detectors.SeverityCritical, Title: "Brute force",
		Principal: detectors.Principal{User: "root", ClientAddr: "2001:db8::7"},
		FirstSeen: chBase.Add(-24 * time.Hour), LastSeen: chBase.Add(-23 * time.Hour), Count: 7,
		Evidence: []string{"x"}, CWE: []string{"CWE-307"}, OWASP: []string{"A07:2021"},
	}
	// Nothing optional: empty lists and maps come back nil.
	bare := detectors.Finding{
		ID: "f-bare", RuleID: "RW-ANOM-001", Severity: detectors.SeverityInfo, Title: "t",
		FirstSeen: chBase.Add(2 * time.Hour), LastSeen: chBase.Add(2 * time.Hour), Count: 1,
	}
	before := bare
	before.ID, before.FirstSeen, before.LastSeen = "f-before", chBase.Add(-48*time.Hour-1), chBase.Add(-48*time.Hour)
	require.NoError(t, s.WriteFindings(ctx, []detectors.Finding{full, v6, bare, before}))

	// A newer version of full (it grew): the newest wins.
	grown := full
	grown.Count, grown.LastSeen = 43, full.LastSeen.Add(time.Minute)
	grown.Evidence = append(slices.Clone(full.Evidence), "e4")
	require.NoError(t, s.WriteFindings(ctx, []detectors.Finding{grown}))

	got, err := src.Findings(ctx, chBase.Add(-48*time.Hour), chBase.Add(2*time.Hour))
	require.NoError(t, err)
	slices.SortFunc(got, func(a, b detectors.Finding) int { return cmp.Compare(a.ID, b.ID) })
	require.Equal(t, []detectors.Finding{bare, grown, v6}, got)
	// The same JSON as the findings JSONL would carry.
	for i, f := range []detectors.Finding{bare, grown, v6} {
		want, _ := json.Marshal(f)
		have, _ := json.Marshal(got[i])
		require.JSONEq(t, string(want), string(have))
	}

	got, err = src.Findings(ctx, chBase.Add(2*time.Hour), chBase.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []detectors.Finding{bare}, got, "both ends are inclusive")
	got, err = src.Findings(ctx, time.Time{}, time.Unix(1<<40, 0))
	require.NoError(t, err)
	require.Len(t, got, 4, "an unbounded range is clamped, not an error")
	got, err = src.Findings(ctx, chBase, chBase.Add(-time.Second))
	require.NoError(t, err)
	require.Empty(t, got)

	newest, ok, err := src.Newest(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, bare.LastSeen, newest, "the newest last_seen of all findings")

	// The report built over the store lists the same findings as over
	// the JSONL of the same findings.
	dir := t.TempDir()
	fpath := filepath.Join(dir, "findings.jsonl")
	writeJSONL(t, fpath, []detectors.Finding{grown, v6, bare, before}) // one line per finding, as a run writes
	jsrc := &JSONLSource{FindingsPath: fpath}
	requireSameReport(t, jsrc, src)
}

// ev is an authentication-less CockroachDB event at chBase + d.
func ev(id string, d time.Duration, edit func(*event.Event)) event.Event {
	e := event.Event{ID: id, V: 1, Time: chBase.Add(d).UnixNano(), Source: event.SourceCRDB, Channel: "SESSIONS", Node: "n1"}
	if edit != nil {
		edit(&e)
	}
	return e
}

func auth(id, session string, d time.Duration, transport, user, addr string, edit func(*event.Event)) event.Event {
	return ev(id, d, func(e *event.Event) {
		e.Type, e.SessionID, e.Transport, e.User, e.ClientAddr, e.AuthMethod = "client_authentication_ok", session, transport, user, addr, "password"
		if edit != nil {
			edit(e)
		}
	})
}

// The session statistics of the store are those of the JSONL source over
// the same events: grouping, application from later events of the
// session, networks, the non-TLS list and its cap, ended and short
// sessions, audited accesses, and what does not count.
func TestClickHouseSessionsMatchJSONL(t *testing.T) {
	s := openTestStore(t)
	src := &ClickHouseSource{Store: s}
	ctx := t.Context()
	evs := []event.Event{
		auth("a1", "s1", 0, event.TransportTLS, "web", "10.20.1.5", func(e *event.Event) { e.Application = "django"; e.AuthMethod = "cert" }),
		// s2 names its application only in a later statement, after the range.
		auth("a2", "s2", time.Second, event.TransportPlain, "billing_app", "10.20.4.21", nil),
		ev("q2", 30*time.Hour, func(e *event.Event) { e.Type, e.SessionID, e.Application = "query_execute", "s2", "billing" }),
		auth("a3", "s3", 2*time.Second, event.TransportPlain, "psql_user", "2001:db8:1:2:3::7", func(e *event.Event) {
			e.Type, e.AuthFailure = "client_authentication_failed", "CREDENTIALS_INVALID"
		}),
		auth("a4", "s4", 3*time.Second, event.TransportLocal, "root", "", func(e *event.Event) { e.AuthMethod = "trust" }),
		auth("a5", "", 4*time.Second, "", "web", "not-an-ip", nil),
		auth("a6", "s6", 25*time.Hour, event.TransportTLS, "web", "10.20.1.6", nil), // the next day
		// Not counted: internal, not CockroachDB, outside the range.
		auth("x1", "s7", 5*time.Second, event.TransportPlain, "node", "10.0.0.1", func(e *event.Event) { e.Internal = true }),
		auth("x2", "s8", 6*time.Second, event.TransportPlain, "web", "10.0.0.2", func(e *event.Event) { e.Source = event.SourceDjango }),
		auth("x3", "s9", -time.Hour-time.Nanosecond, event.TransportPlain, "web", "10.0.0.3", nil),
		// Session ends: two with a duration (one short), one without.
		ev("e1", 10*time.Second, func(e *event.Event) {
			e.Type, e.Attrs = "client_session_end", map[string]string{"Duration": "500000000"}
		}),
		ev("e2", 11*time.Second, func(e *event.Event) {
			e.Type, e.Attrs = "client_session_end", map[string]string{"Duration": "2000000000"}
		}),
		ev("e3", 12*time.Second, func(e *event.Event) { e.Type, e.Attrs = "client_session_end", map[string]string{"Duration": "x"} }),
		ev("e4", 13*time.Second, func(e *event.Event) { e.Type = "client_session_end" }),
		ev("t1", 14*time.Second, func(e *event.Event) { e.Type, e.Channel = "sensitive_table_access", "SENSITIVE_ACCESS" }),
		ev("t2", 15*time.Second, func(e *event.Event) {
			e.Type, e.Channel, e.Internal = "sensitive_table_access", "SENSITIVE_ACCESS", true
		}),
	}
	// More non-TLS sessions than the list keeps.
	for i := range MaxListedSessions + 10 {
		evs = append(evs, auth(fmt.Sprintf("p%03d", i), fmt.Sprintf("ps%03d", i), time.Minute+time.Duration(i)*time.Millisecond,
			event.TransportPlain, "batch", fmt.Sprintf("192.168.%d.%d", i%3, i), nil))
	}
	require.NoError(t, s.WriteEvents(ctx, evs))
	dir := t.TempDir()
	epath := filepath.Join(dir, "events.jsonl")
	writeJSONL(t, epath, evs)
	fpath := filepath.Join(dir, "findings.jsonl")
	writeJSONL(t, fpath, []detectors.Finding{})
	jsrc := &JSONLSource{FindingsPath: fpath, EventsPath: epath}

	from, to := chBase.Add(-time.Hour), chBase.Add(26*time.Hour)
	want, err := jsrc.Sessions(ctx, from, to)
	require.NoError(t, err)
	got, err := src.Sessions(ctx, from, to)
	require.NoError(t, err)
	sortGroups(want.Groups)
	sortGroups(got.Groups)
	require.Equal(t, want, got)

	// Spot checks, so the test does not pass on two equal mistakes.
	require.True(t, got.Available)
	require.EqualValues(t, MaxListedSessions+10+2, got.NonTLSTotal)
	require.Len(t, got.NonTLS, MaxListedSessions)
	require.Equal(t, "billing", got.NonTLS[0].Application, "named by a later statement of the session")
	require.Equal(t, "2001:db8:1:2:3::7", got.NonTLS[1].ClientAddr)
	require.True(t, got.NonTLS[1].Failed)
	require.EqualValues(t, 2, got.EndedSessions)
	require.EqualValues(t, 1, got.ShortSessions)
	require.EqualValues(t, 1, got.AuditedAccesses)
	nets := map[string]int64{}
	var total int64
	for _, g := range got.Groups {
		nets[g.Network] += g.Sessions
		total += g.Sessions
	}
	require.EqualValues(t, 6+MaxListedSessions+10, total)
	require.EqualValues(t, 1, nets["2001:db8:1:2::/64"])
	require.EqualValues(t, 2, nets[""], "local and unparseable addresses have no network")
	require.EqualValues(t, 70, nets["192.168.0.0/24"])

	// A range that holds only the next day.
	want, err = jsrc.Sessions(ctx, chBase.Add(24*time.Hour), to)
	require.NoError(t, err)
	got, err = src.Sessions(ctx, chBase.Add(24*time.Hour), to)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Len(t, got.Groups, 1)
	require.Equal(t, "2025-06-10", got.Groups[0].Day)

	// Without findings the newest data is the newest event.
	newest, ok, err := src.Newest(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	jnewest, _, err := jsrc.Newest(ctx)
	require.NoError(t, err)
	require.Equal(t, jnewest, newest)
	require.Equal(t, chBase.Add(30*time.Hour), newest)

	requireSameReport(t, jsrc, src)
}

func sortGroups(gs []SessionGroup) {
	slices.SortFunc(gs, func(a, b SessionGroup) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Transport, b.Transport), cmp.Compare(a.User, b.User),
			cmp.Compare(a.Application, b.Application), cmp.Compare(a.Network, b.Network), cmp.Compare(a.AuthMethod, b.AuthMethod),
			cmp.Compare(fmt.Sprint(a.Failed), fmt.Sprint(b.Failed)))
	})
}

// requireSameReport builds the report from both sources and compares
// their JSON, but for the name of the source.
func requireSameReport(t *testing.T, jsonl, ch Source) {
	t.Helper()
	render := func(src Source, name string) map[string]any {
		r, err := Build(context.Background(), src, Options{Since: 7 * 24 * time.Hour, SourceName: name,
			GeneratedAt: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		ds := m["data_sources"].(map[string]any)
		require.Equal(t, name, ds["findings"])
		delete(ds, "findings")
		return m
	}
	require.Equal(t, render(jsonl, "jsonl"), render(ch, "clickhouse"))
}

func writeJSONL[T any](t *testing.T, path string, vs []T) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	enc := json.NewEncoder(f)
	for i := range vs {
		require.NoError(t, enc.Encode(&vs[i]))
	}
	require.NoError(t, f.Close())
}
