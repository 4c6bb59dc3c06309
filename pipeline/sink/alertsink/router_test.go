package alertsink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/schemas"
)

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func validateAlert(t *testing.T, b []byte) {
	t.Helper()
	s, err := schemas.Compile(schemas.Alert)
	require.NoError(t, err)
	require.NoError(t, schemas.Validate(s, b), string(b))
}

func stdoutRoute() RouteConfig { return RouteConfig{Name: "out", Kind: KindStdout} }

func TestDedup(t *testing.T) {
	h, c := detectors.SeverityHigh, detectors.SeverityCritical
	tests := []struct {
		name    string
		realert []string
		in      []detectors.Finding
		want    []string // reasons, in order
	}{
		{name: "first version alerts", in: []detectors.Finding{fnd("RW-TLS-001", "app", "", h, 1, t0)}, want: []string{ReasonNew}},
		{name: "same version twice", in: []detectors.Finding{fnd("RW-TLS-001", "app", "", h, 1, t0), fnd("RW-TLS-001", "app", "", h, 1, t0)},
			want: []string{ReasonNew}},
		{name: "growth without realert", in: []detectors.Finding{fnd("RW-TLS-001", "app", "", h, 1, t0), fnd("RW-TLS-001", "app", "", h, 9, t0.Add(59*time.Minute))},
			want: []string{ReasonNew}},
		{name: "growth past the window", in: []detectors.Finding{fnd("RW-TLS-001", "app", "", h, 1, t0), fnd("RW-TLS-001", "app", "", h, 9, t0.Add(61*time.Minute))},
			want: []string{ReasonNew, ReasonWindowExpired}},
		{name: "growth with realert count", realert: []string{RealertCount},
			in:   []detectors.Finding{fnd("RW-TLS-001", "app", "", h, 1, t0), fnd("RW-TLS-001", "app", "", h, 2, t0.Add(time.Minute))},
			want: []string{ReasonNew, ReasonCountGrew}},
		{name: "next window inside suppression", in: []detectors.Finding{fnd("RW-TLS-001", "app", "w1", h, 1, t0), fnd("RW-TLS-001", "app", "w2", h, 1, t0.Add(30*time.Minute))},
			want: []string{ReasonNew}},
		{name: "next window after suppression", in: []detectors.Finding{fnd("RW-TLS-001", "app", "w1", h, 1, t0), fnd("RW-TLS-001", "app", "w2", h, 1, t0.Add(2*time.Hour))},
			want: []string{ReasonNew, ReasonNew}},
		{name: "next window worse, realert severity", realert: []string{RealertSeverity},
			in:   []detectors.Finding{fnd("RW-TLS-001", "app", "w1", h, 1, t0), fnd("RW-TLS-001", "app", "w2", c, 1, t0.Add(30*time.Minute))},
			want: []string{ReasonNew, ReasonSeverityRose}},
		{name: "other principal", in: []detectors.Finding{fnd("RW-TLS-001", "app", "", h, 1, t0), fnd("RW-TLS-001", "etl", "", h, 1, t0)},
			want: []string{ReasonNew, ReasonNew}},
		{name: "other rule", in: []detectors.Finding{fnd("RW-TLS-001", "app", "", h, 1, t0), fnd("RW-SQLI-001", "app", "", h, 1, t0)},
			want: []string{ReasonNew, ReasonNew}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			cfg := testConfig(stdoutRoute())
			cfg.RealertOn = tt.realert
			r := newTestRouter(t, cfg, nil, &out)
			for _, f := range tt.in {
				write(t, r, f)
			}
			var got []string
			for _, a := range stdoutAlerts(t, &out) {
				got = append(got, a.Reason)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestAlertLinksBackAndMatchesSchema(t *testing.T) {
	var out bytes.Buffer
	cfg := testConfig(stdoutRoute())
	cfg.LinkTemplate = "https://grafana.example/d/rw?var-finding={finding_id}"
	r := newTestRouter(t, cfg, nil, &out)
	f := fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 3, t0.Add(10*time.Minute))
	write(t, r, f)
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		validateAlert(t, line)
	}
	a := stdoutAlerts(t, &out)[0]
	require.Equal(t, f.ID, a.FindingID)
	require.Equal(t, f.Query, a.Query)
	require.Equal(t, f.FirstSeen, a.FirstSeen)
	require.Equal(t, f.LastSeen, a.LastSeen)
	require.Equal(t, int64(3), a.Count)
	require.Equal(t, testRules["RW-TLS-001"].Explanation, a.Explanation)
	require.Equal(t, "accounts/login", a.Route)
	require.Equal(t, "https://grafana.example/d/rw?var-finding="+f.ID, a.Link)
	require.Equal(t, IncidentKey(&f), a.IncidentKey)
}

func TestRouting(t *testing.T) {
	var crit, tls, everything bytes.Buffer
	routes := []RouteConfig{
		{Name: "crit", Kind: KindStdout, MinSeverity: "critical"},
		{Name: "tls", Kind: KindStdout, Families: []string{"tls"}, Users: []string{"app*"}},
		{Name: "all", Kind: KindStdout},
	}
	r, err := New(testConfig(routes...), Options{Rules: testRules})
	require.NoError(t, err)
	// Swap each route's writer for its own buffer.
	for i, b := range []*bytes.Buffer{&crit, &tls, &everything} {
		r.routes[i].r = newWriterRoute(b, r.m)
	}
	write(t, r,
		fnd("RW-TLS-001", "app_web", "", detectors.SeverityHigh, 1, t0),
		fnd("RW-TLS-001", "etl", "", detectors.SeverityCritical, 1, t0),
		fnd("RW-SQLI-001", "app_web", "", detectors.SeverityHigh, 1, t0))
	require.NoError(t, r.Close())
	users := func(b *bytes.Buffer) (out []string) {
		for _, a := range stdoutAlerts(t, b) {
			out = append(out, a.RuleID+"/"+a.Principal.User)
		}
		return out
	}
	require.Equal(t, []string{"RW-TLS-001/etl"}, users(&crit))
	require.Equal(t, []string{"RW-TLS-001/app_web"}, users(&tls))
	require.Len(t, users(&everything), 3)
}

func TestSilences(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	future := t0.Add(24 * time.Hour).Format(time.RFC3339)
	f := fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0)
	f.Fingerprint, f.FingerprintHash = "SELECT * FROM users WHERE id = $1", 12345
	f.Details["application_grantees"] = "app, reporting"
	tests := []struct {
		name  string
		s     Silence
		muted bool
	}{
		{"rule glob", Silence{Rule: "RW-TLS-*", Expires: future}, true},
		{"other rule", Silence{Rule: "RW-SQLI-*", Expires: future}, false},
		{"user", Silence{User: "app", Expires: future}, true},
		{"other user", Silence{User: "etl", Expires: future}, false},
		{"role grantee", Silence{Role: "reporting", Expires: future}, true},
		{"client network", Silence{ClientNetwork: "10.0.0.0/16", Expires: future}, true},
		{"other network", Silence{ClientNetwork: "192.168.0.0/16", Expires: future}, false},
		{"fingerprint hash", Silence{Fingerprint: "12345", Expires: future}, true},
		{"fingerprint text", Silence{Fingerprint: f.Fingerprint, Expires: future}, true},
		{"django route", Silence{Route: "accounts/login", Expires: future}, true},
		{"all fields must match", Silence{Rule: "RW-TLS-001", User: "etl", Expires: future}, false},
		{"expired", Silence{Rule: "RW-TLS-001", Expires: t0.Add(-time.Second).Format(time.RFC3339)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			cfg := testConfig(stdoutRoute())
			cfg.Silences = []Silence{tt.s}
			r, err := New(cfg, Options{Rules: testRules, Stdout: &out, Now: clock})
			require.NoError(t, err)
			write(t, r, f)
			require.NoError(t, r.Close())
			require.Equal(t, !tt.muted, len(stdoutAlerts(t, &out)) == 1)
			require.Equal(t, tt.muted, val(r.m.Silenced.WithLabelValues("high")) == 1)
		})
	}

	// A silence mutes until it expires (wall clock), then the next version
	// alerts; other principals are never muted.
	var out bytes.Buffer
	cfg := testConfig(stdoutRoute())
	cfg.Silences = []Silence{{User: "app", Expires: t0.Add(time.Hour).Format(time.RFC3339), Comment: "maintenance"}}
	r, err := New(cfg, Options{Rules: testRules, Stdout: &out, Now: clock})
	require.NoError(t, err)
	write(t, r, f, fnd("RW-TLS-001", "etl", "", detectors.SeverityHigh, 1, t0))
	now = t0.Add(time.Hour)
	g := f
	g.Count = 2
	write(t, r, g)
	require.NoError(t, r.Close())
	var got []string
	for _, a := range stdoutAlerts(t, &out) {
		got = append(got, a.Principal.User)
	}
	require.Equal(t, []string{"etl", "app"}, got)
}

func TestDedupStateIsBounded(t *testing.T) {
	var out bytes.Buffer
	cfg := testConfig(stdoutRoute())
	cfg.MaxKeys = 10
	r := newTestRouter(t, cfg, nil, &out)
	for i := range 100 {
		write(t, r, fnd("RW-TLS-001", "user"+string(rune('a'+i%26))+string(rune('a'+i/26)), "", detectors.SeverityHigh, 1, t0))
	}
	require.LessOrEqual(t, r.dd.state.len(), 10)
	require.Equal(t, float64(190), val(r.m.Evictions))
	require.Len(t, stdoutAlerts(t, &out), 100)
}

type failWriter struct{ fail bool }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.fail {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// A failed write forgets its decisions: the caller's retry alerts again.
func TestFailedWriteIsRetriedNotDeduplicated(t *testing.T) {
	w := &failWriter{fail: true}
	r := newTestRouter(t, testConfig(stdoutRoute()), nil, w)
	f := fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0)
	require.ErrorContains(t, r.WriteFindings(context.Background(), []detectors.Finding{f}), "disk full")
	w.fail = false
	r.routes[0].r.(*writerRoute).bw.Reset(w)
	write(t, r, f)
	require.Equal(t, float64(1), val(r.m.Sent.WithLabelValues(KindStdout, "high")))
	require.Zero(t, val(r.m.Deduplicated.WithLabelValues("high")))
}

func TestClosedRouter(t *testing.T) {
	r := newTestRouter(t, testConfig(stdoutRoute()), nil, &bytes.Buffer{})
	require.NoError(t, r.Close())
	require.Error(t, r.WriteFindings(context.Background(), []detectors.Finding{fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0)}))
	require.NoError(t, r.Close(), "closing twice is harmless")
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	require.NoError(t, c.Validate())
	c.Enabled = true
	require.ErrorContains(t, c.Validate(), "alerts.routes: alerts.enabled needs at least one route")
	c.Routes = []RouteConfig{{Name: "x", Kind: KindWebhook, URL: "ftp://x"}, {Name: "x", Kind: KindSlack, URL: "https://hooks.example"}}
	c.Silences = []Silence{{Rule: "RW-TLS-001", Expires: "tomorrow"}, {Expires: "2026-01-01T00:00:00Z"}}
	c.RealertOn = []string{"sometimes"}
	err := c.Validate()
	for _, want := range []string{`alerts.routes[0].url: must be an http(s) URL`, `alerts.routes[0].secret_env: a webhook is signed`,
		`alerts.routes[1].name: "x" is used twice`, `alerts.silences[0].expires: "tomorrow"`, `alerts.silences[1]: name at least one`,
		`alerts.realert_on: "sometimes"`} {
		require.ErrorContains(t, err, want)
	}
	b, _ := json.Marshal(c) // the config holds no secret values, only their names
	require.NotContains(t, string(b), testSecret)
}
