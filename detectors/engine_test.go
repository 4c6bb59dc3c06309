package detectors_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/detectors/tlsrule"
	"roachwatch/pipeline/event"
)

var t0 = time.Date(2025, 6, 11, 14, 0, 0, 0, time.UTC).UnixNano()

func ev(id string, dt time.Duration, mod func(*event.Event)) *event.Event {
	e := &event.Event{ID: id, Time: t0 + int64(dt), Source: event.SourceCRDB, Type: "client_authentication_ok",
		User: "web", ClientAddr: "10.20.3.14", Application: "django", Transport: event.TransportPlain, SessionID: "s1"}
	if mod != nil {
		mod(e)
	}
	return e
}

func newEngine(t *testing.T, tc tlsrule.Config, rc map[string]detectors.RuleConfig) *detectors.Engine {
	t.Helper()
	e, err := detectors.NewEngine([]detectors.Detector{tlsrule.New(tc)}, rc)
	require.NoError(t, err)
	return e
}

func TestTLS001(t *testing.T) {
	tls := func(e *event.Event) { e.Transport = event.TransportTLS }
	sensitive := func(e *event.Event) {
		e.Type = "query_execute"
		e.SensitiveColumns = []string{"patients.ssn"}
	}
	cases := []struct {
		name     string
		cfg      tlsrule.Config
		rules    map[string]detectors.RuleConfig
		events   []*event.Event
		want     int // findings
		severity detectors.Severity
		count    int64
	}{
		{name: "tls session is quiet", events: []*event.Event{ev("a", 0, tls), ev("b", time.Second, func(e *event.Event) { tls(e); sensitive(e) })}},
		{name: "plaintext auth is high", events: []*event.Event{ev("a", 0, nil)}, want: 1, severity: detectors.SeverityHigh, count: 1},
		{name: "plaintext session reading ssn is critical, one incident",
			events: []*event.Event{ev("a", 0, nil), ev("b", time.Second, sensitive), ev("c", 2*time.Second, func(e *event.Event) { e.Type = "client_session_end" })},
			want:   1, severity: detectors.SeverityCritical, count: 3},
		{name: "audited table access counts as sensitive",
			events: []*event.Event{ev("a", 0, func(e *event.Event) { e.Type = "sensitive_table_access"; e.Object = "clinic.public.patients" })},
			want:   1, severity: detectors.SeverityCritical, count: 1},
		{name: "failed auth over plaintext still exposes the password", events: []*event.Event{ev("a", 0, func(e *event.Event) { e.Type = "client_authentication_failed"; e.AuthFailure = "CREDENTIALS_INVALID" })},
			want: 1, severity: detectors.SeverityHigh, count: 1},
		{name: "connection end without user tag adds nothing to the session's incident",
			events: []*event.Event{ev("a", 0, nil), ev("b", time.Minute, func(e *event.Event) { e.User, e.Application, e.Type = "", "", "client_connection_end" })},
			want:   1, severity: detectors.SeverityHigh, count: 1},
		{name: "connection event of an unknown session adds nothing",
			events: []*event.Event{ev("a", 0, func(e *event.Event) { e.User, e.SessionID, e.Type = "", "s9", "client_connection_end" })}},
		{name: "local is quiet by default", events: []*event.Event{ev("a", 0, func(e *event.Event) { e.Transport = event.TransportLocal })}},
		{name: "local flagged when configured", cfg: tlsrule.Config{Window: 24 * time.Hour, FlagLocal: true},
			events: []*event.Event{ev("a", 0, func(e *event.Event) { e.Transport = event.TransportLocal })}, want: 1, severity: detectors.SeverityHigh, count: 1},
		{name: "internal activity is quiet", events: []*event.Event{ev("a", 0, func(e *event.Event) { e.Internal = true })}},
		{name: "two days are two incidents", events: []*event.Event{ev("a", 0, nil), ev("b", 25*time.Hour, nil)}, want: 2, severity: detectors.SeverityHigh, count: 1},
		{name: "two principals are two incidents", events: []*event.Event{ev("a", 0, nil), ev("b", time.Second, func(e *event.Event) { e.User = "billing_app" })}, want: 2, severity: detectors.SeverityHigh, count: 1},
		{name: "allowlisted network is suppressed, others are not",
			rules:  map[string]detectors.RuleConfig{"rw_tls_001": {Enabled: true, Allow: detectors.Allowlist{ClientNetworks: []string{"10.20.0.0/16"}}}},
			events: []*event.Event{ev("a", 0, nil), ev("b", time.Second, func(e *event.Event) { e.ClientAddr = "203.0.113.7" })},
			want:   1, severity: detectors.SeverityHigh, count: 1},
		{name: "allowlisted user is suppressed",
			rules:  map[string]detectors.RuleConfig{"rw_tls_001": {Enabled: true, Allow: detectors.Allowlist{Users: []string{"web"}}}},
			events: []*event.Event{ev("a", 0, nil)}},
		{name: "severity override", rules: map[string]detectors.RuleConfig{"rw_tls_001": {Enabled: true, Severity: "medium"}},
			events: []*event.Event{ev("a", 0, nil)}, want: 1, severity: detectors.SeverityMedium, count: 1},
		{name: "disabled rule is quiet", rules: map[string]detectors.RuleConfig{"rw_tls_001": {Enabled: false}},
			events: []*event.Event{ev("a", 0, nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Window == 0 {
				cfg = tlsrule.DefaultConfig()
			}
			e := newEngine(t, cfg, tc.rules)
			for _, x := range tc.events {
				e.Observe(x)
			}
			e.Finish()
			got := e.Findings()
			require.Len(t, got, tc.want)
			if tc.want == 0 {
				return
			}
			f := got[0]
			require.Equal(t, "RW-TLS-001", f.RuleID)
			require.Equal(t, tc.severity, f.Severity)
			require.Equal(t, tc.count, f.Count)
			require.Len(t, f.Evidence, int(tc.count))
			require.NotEmpty(t, f.Query)
			require.Contains(t, f.Query, "transport = '"+tc.events[0].Transport+"'")
			require.Equal(t, []string{"CWE-319"}, f.CWE)
			require.NotEmpty(t, f.Remediation)
		})
	}
}

func TestFindingsAreDeterministic(t *testing.T) {
	run := func() []detectors.Finding {
		e := newEngine(t, tlsrule.DefaultConfig(), nil)
		for i, u := range []string{"web", "billing_app", "web", "reporting"} {
			e.Observe(ev(string(rune('a'+i)), time.Duration(i)*time.Minute, func(x *event.Event) { x.User = u }))
		}
		return e.Findings()
	}
	a, b := run(), run()
	require.Equal(t, a, b)
	require.Len(t, a, 3)
	require.Equal(t, int64(2), a[0].Count+a[1].Count+a[2].Count-2) // web twice, others once
}

func TestEvidenceIsCapped(t *testing.T) {
	e := newEngine(t, tlsrule.DefaultConfig(), nil)
	for i := 0; i < 3*detectors.MaxEvidence; i++ {
		e.Observe(ev(string(rune(0x100+i)), time.Duration(i)*time.Second, nil))
	}
	f := e.Findings()
	require.Len(t, f, 1)
	require.Equal(t, int64(3*detectors.MaxEvidence), f[0].Count)
	require.Len(t, f[0].Evidence, detectors.MaxEvidence)
	require.Equal(t, time.Unix(0, t0).UTC(), f[0].FirstSeen)
	require.Equal(t, time.Unix(0, t0+int64(time.Duration(3*detectors.MaxEvidence-1)*time.Second)).UTC(), f[0].LastSeen)
}

func TestUnknownRuleConfigRejected(t *testing.T) {
	_, err := detectors.NewEngine([]detectors.Detector{tlsrule.New(tlsrule.DefaultConfig())},
		map[string]detectors.RuleConfig{"rw_xyz_001": {Enabled: true}})
	require.ErrorContains(t, err, "detectors.rules.rw_xyz_001: no such rule")
}

func TestWindowStart(t *testing.T) {
	require.Equal(t, int64(0), detectors.WindowStart(5, 10))
	require.Equal(t, int64(10), detectors.WindowStart(10, 10))
	require.Equal(t, int64(-10), detectors.WindowStart(-5, 10))
}
