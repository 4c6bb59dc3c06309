package alertsink

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
)

const testSecret = "whsec-0b7c1e9d-never-in-logs"

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// testRules is a small rule catalog.
var testRules = map[string]detectors.Rule{
	"RW-TLS-001": {ID: "RW-TLS-001", Title: "SQL session without TLS", Severity: detectors.SeverityHigh,
		Explanation: "Credentials and query results cross the network in the clear; anyone on the path can read or alter them (MITM).",
		Remediation: "Connect with sslmode=verify-full and sslrootcert; reject hostnossl in the HBA config."},
	"RW-SQLI-001": {ID: "RW-SQLI-001", Title: "SQL injection attempt", Severity: detectors.SeverityHigh,
		Explanation: "Injection lets an attacker read or change data the application never meant to expose.",
		Remediation: "Use parameterized queries (the Django ORM); never build SQL from request data."},
}

// fnd builds a finding version of rule for user; key varies the incident
// within the rule and principal.
func fnd(rule, user, key string, sev detectors.Severity, count int64, last time.Time) detectors.Finding {
	id := detectors.IncidentID(rule, 0, user, key)
	return detectors.Finding{
		ID: id, RuleID: rule, Severity: sev, Title: testRules[rule].Title,
		Summary:   user + " opened a session without TLS from 10.0.3.7",
		Principal: detectors.Principal{User: user, ClientAddr: "10.0.3.7:52144", Application: "django"},
		Cluster:   "prod-eu", FirstSeen: t0, LastSeen: last, Count: count,
		Evidence: []string{detectors.IncidentID("ev", 0, id)},
		CWE:      []string{"CWE-319"}, OWASP: []string{"A02:2021"},
		Remediation: testRules[rule].Remediation,
		Query:       "SELECT * FROM roachwatch.events WHERE user = 'app' AND transport = 'hostnossl' AND time BETWEEN '2026-03-01 10:00:00' AND '2026-03-01 11:00:00'",
		Details:     map[string]string{"route": "accounts/login"},
	}
}

// receiver is a real HTTP server on loopback that records deliveries.
// handle, when set, decides the response of attempt n (0-based, over all
// requests).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	hdrs   []http.Header
	times  []time.Time
	handle func(n int, w http.ResponseWriter, r *http.Request) bool // true: handled (not recorded as accepted)
	n      int
	ok     [][]byte // bodies answered 2xx
}

func newReceiver(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request) bool) *receiver {
	t.Helper()
	rc := &receiver{handle: handle}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := rc.n
		rc.n++
		rc.bodies = append(rc.bodies, b)
		rc.hdrs = append(rc.hdrs, r.Header.Clone())
		rc.times = append(rc.times, time.Now())
		rc.mu.Unlock()
		if rc.handle != nil && rc.handle(n, w, r) {
			return
		}
		rc.mu.Lock()
		rc.ok = append(rc.ok, b)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) attempts() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// accepted returns the alerts answered 2xx, decoded.
func (rc *receiver) accepted(t *testing.T) []Alert {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]Alert, 0, len(rc.ok))
	for _, b := range rc.ok {
		var a Alert
		require.NoError(t, json.Unmarshal(b, &a))
		out = append(out, a)
	}
	return out
}

// webhookRoute is a fast-retrying webhook route to url, signed with
// testSecret (from the env var RW_TEST_ALERT_SECRET).
func webhookRoute(t *testing.T, url string) RouteConfig {
	t.Setenv("RW_TEST_ALERT_SECRET", testSecret)
	return RouteConfig{Name: "hook", Kind: KindWebhook, URL: url, SecretEnv: "RW_TEST_ALERT_SECRET",
		Timeout: 300 * time.Millisecond, MaxRetries: 3, BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
		QueueSize: 100, Workers: 4}
}

// newTestRouter builds a router over routes with the given config changes
// and closes it at the end of the test.
func newTestRouter(t *testing.T, cfg Config, logTo io.Writer, stdout io.Writer) *Router {
	t.Helper()
	if logTo == nil {
		logTo = io.Discard
	}
	r, err := New(cfg, Options{Rules: testRules, Log: slog.New(slog.NewJSONHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout: stdout})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func testConfig(routes ...RouteConfig) Config {
	c := DefaultConfig()
	c.Enabled = true
	c.Routes = routes
	c.CloseTimeout = 5 * time.Second
	return c
}

// write writes fs and fails the test on error.
func write(t *testing.T, r *Router, fs ...detectors.Finding) {
	t.Helper()
	require.NoError(t, r.WriteFindings(context.Background(), fs))
}

// stdoutAlerts decodes the JSON lines of a stdout route.
func stdoutAlerts(t *testing.T, b *bytes.Buffer) []Alert {
	t.Helper()
	var out []Alert
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	for dec.More() {
		var a Alert
		require.NoError(t, dec.Decode(&a))
		out = append(out, a)
	}
	return out
}

// val reads one counter or gauge series.
func val(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }
