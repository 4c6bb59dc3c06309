package cryptorule

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/classify"
	"roachwatch/pipeline/event"
)

// logEv is a Django application log line carrying secrets.
func logEv(id string, dt time.Duration, secrets ...event.Secret) *event.Event {
	return &event.Event{ID: id, Time: t0 + int64(dt), Source: event.SourceDjango, Type: "django.log", Logger: "clinic.tasks",
		Origin: event.Origin{File: "/var/log/django/app.json.log"}, Secrets: secrets,
		Message: "could not connect to postgresql://etl_sync:‹#9ec9ea609cb8cb9d›@warehouse:26257/analytics"}
}

func TestRule003SeverityPerFamily(t *testing.T) {
	cases := []struct {
		typ   string
		sev   detectors.Severity
		title string
	}{
		{classify.SecretDSNPassword, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretPrivateKey, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretAWSAccessKey, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretAWSSecretKey, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretGCPAPIKey, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretGitHubToken, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretSlackToken, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretStripeKey, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretDjangoKey, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretPassword, detectors.SeverityCritical, "Credential in the clear in a log line"},
		{"aws_session_token", detectors.SeverityCritical, "Credential in the clear in a log line"},
		{classify.SecretJWT, detectors.SeverityHigh, "Credential in the clear in a log line"},
		{classify.SecretSSN, detectors.SeverityHigh, "Personal data in the clear in a log line"},
		{classify.SecretPAN, detectors.SeverityHigh, "Personal data in the clear in a log line"},
		{classify.SecretIBAN, detectors.SeverityHigh, "Personal data in the clear in a log line"},
		{"some_future_type", detectors.SeverityHigh, "Credential in the clear in a log line"},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			const hash = "9ec9ea609cb8cb9d"
			got := run(t, DefaultConfig(), nil, []*event.Event{logEv("l1", 0, event.Secret{Type: tc.typ, Field: "message", Hash: hash})})
			check(t, got, []want{{rule: Rule003.ID, sev: tc.sev, count: 1,
				details: map[string]string{"type": tc.typ, "field": "message", "distinct_hashes": "1"}}})
			require.Equal(t, tc.title, got[0].Title)
			require.Equal(t, "django/app.json.log", got[0].Node)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			require.NotContains(t, string(b), hash, "a finding never carries a value hash")
			require.NotContains(t, string(b), "etl_sync", "nor any part of the log line")
			require.NotContains(t, string(b), "warehouse")
		})
	}
}

func TestRule003(t *testing.T) {
	dsn := func(h string) event.Secret {
		return event.Secret{Type: classify.SecretDSNPassword, Field: "message", Hash: h}
	}
	sqlEv := func(id string, dt time.Duration, host string) *event.Event {
		return djangoEv(id, dt, func(e *event.Event) { e.Origin.File = "/logs/" + host + "/app.log" })
	}
	debugOff := func(c *Config) { c.DjangoDebugSQLAllowed = true }
	cases := []struct {
		name  string
		cfg   func(*Config)
		evs   []*event.Event
		wants []want
	}{
		{name: "lines with the same secret type and field group, distinct hashes counted", evs: []*event.Event{
			logEv("l1", 0, dsn("a1")), logEv("l2", time.Minute, dsn("a1")), logEv("l3", time.Hour, dsn("a2"))},
			wants: []want{{rule: Rule003.ID, sev: detectors.SeverityCritical, count: 3, first: 0, last: time.Hour,
				details: map[string]string{"distinct_hashes": "2"}}}},
		{name: "types and fields are separate incidents", evs: []*event.Event{
			logEv("l1", 0, dsn("a1"), event.Secret{Type: classify.SecretJWT, Field: "message", Hash: "b1"}),
			logEv("l2", time.Second, event.Secret{Type: classify.SecretDSNPassword, Field: "error_text", Hash: "a1"})},
			wants: []want{
				{rule: Rule003.ID, sev: detectors.SeverityCritical, count: 1, details: map[string]string{"field": "message"}},
				{rule: Rule003.ID, sev: detectors.SeverityCritical, count: 1, details: map[string]string{"field": "error_text"}},
				{rule: Rule003.ID, sev: detectors.SeverityHigh, count: 1, details: map[string]string{"type": "jwt"}}}},
		{name: "ssn in a cockroachdb statement, every channel's line counts", evs: []*event.Event{
			crdbEv("e1", 0, func(e *event.Event) {
				e.Secrets = []event.Secret{{Type: "ssn", Field: "statement", Hash: "c1c1c1c1c1c1c1c1"}}
			}),
			crdbEv("e2", 0, func(e *event.Event) {
				e.Type, e.Secrets = "sensitive_table_access", []event.Secret{{Type: "ssn", Field: "statement", Hash: "c1c1c1c1c1c1c1c1"}}
			})},
			wants: []want{{rule: Rule003.ID, sev: detectors.SeverityHigh, count: 2, user: "web", details: map[string]string{"distinct_hashes": "1"}}}},
		{name: "second day is a second finding", evs: []*event.Event{logEv("l1", 0, dsn("a1")), logEv("l2", day, dsn("a1"))},
			wants: []want{{rule: Rule003.ID, sev: detectors.SeverityCritical, count: 1, first: 0, last: 0},
				{rule: Rule003.ID, sev: detectors.SeverityCritical, count: 1, first: day, last: day}}},
		{name: "django debug sql logging: one finding per host with every line counted", evs: func() []*event.Event {
			var evs []*event.Event
			for i := range 11 {
				evs = append(evs, sqlEv("a"+strconv.Itoa(i), time.Duration(i)*time.Minute, "web-1"))
			}
			return append(evs, sqlEv("b0", 30*time.Second, "web-2"))
		}(), wants: []want{
			{rule: Rule003.ID, sev: detectors.SeverityMedium, count: 11, first: 0, last: 10 * time.Minute,
				details: map[string]string{"type": "django_debug_sql", "host": "web-1/app.log"}},
			{rule: Rule003.ID, sev: detectors.SeverityMedium, count: 1, details: map[string]string{"host": "web-2/app.log"}}}},
		{name: "django debug sql per window", evs: []*event.Event{sqlEv("a", 0, "web-1"), sqlEv("b", time.Hour, "web-1"),
			sqlEv("c", day, "web-1"), sqlEv("d", day+time.Hour, "web-1"), sqlEv("e", day+2*time.Hour, "web-1")},
			wants: []want{{rule: Rule003.ID, sev: detectors.SeverityMedium, count: 2, first: 0, last: time.Hour},
				{rule: Rule003.ID, sev: detectors.SeverityMedium, count: 3, first: day, last: day + 2*time.Hour}}},
		{name: "django debug sql allowed by config", cfg: debugOff, evs: []*event.Event{sqlEv("a", 0, "web-1"), sqlEv("b", 1, "web-1")}},
		{name: "allowed debug sql still reports secrets in it", cfg: debugOff, evs: []*event.Event{
			djangoEv("a", 0, func(e *event.Event) { e.Secrets = []event.Secret{{Type: "pan", Field: "params", Hash: "d1"}} })},
			wants: []want{{rule: Rule003.ID, sev: detectors.SeverityHigh, count: 1, details: map[string]string{"field": "params"}}}},
		{name: "django host from the event when the parser knows it", evs: []*event.Event{
			djangoEv("a", 0, func(e *event.Event) { e.Node = "web-7" })},
			wants: []want{{rule: Rule003.ID, sev: detectors.SeverityMedium, count: 1, details: map[string]string{"host": "web-7"}}}},
		{name: "no secrets, no debug sql: quiet", evs: []*event.Event{crdbEv("e1", 0, nil), logEv("l1", 0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			check(t, run(t, cfg, nil, tc.evs, Rule003.ID), tc.wants)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		errs []string
	}{
		{name: "default is valid", mod: func(*Config) {}},
		{name: "window", mod: func(c *Config) { c.Window = 0 }, errs: []string{"detectors.crypto.window: must be positive"}},
		{name: "rows threshold", mod: func(c *Config) { c.RowsThreshold = -1 }, errs: []string{"detectors.crypto.rows_threshold: must be positive"}},
		{name: "hashed columns", mod: func(c *Config) { c.HashedColumns = []string{"password", "auth_user."} },
			errs: []string{`detectors.crypto.hashed_columns: "password" must be table.column`, `"auth_user." must be table.column`}},
		{name: "max incidents", mod: func(c *Config) { c.MaxIncidents = 0 }, errs: []string{"detectors.crypto.max_incidents: must be at least 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, e := range tc.errs {
				require.ErrorContains(t, err, e)
			}
		})
	}
}

func TestStateIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxIncidents = 5
	d := New(cfg, nil)
	var out []detectors.Finding
	for i := range 50 {
		ev := crdbEv("e"+strconv.Itoa(i), time.Duration(i)*time.Second, with(
			val("patients", "ssn", event.OpWrite, "ssn", strconv.Itoa(i)),
			func(e *event.Event) {
				e.User, e.Secrets = "u"+strconv.Itoa(i), []event.Secret{{Type: "ssn", Field: "statement", Hash: strconv.Itoa(i)}}
			}))
		out = d.Observe(ev, out[:0])
		require.Len(t, out, 2, "full incident table still reports")
	}
	require.LessOrEqual(t, len(d.open.m), 5)
	// A new window frees the old incidents.
	d.Observe(crdbEv("late", 2*day, val("patients", "ssn", event.OpWrite, "ssn", "x")), nil)
	require.Len(t, d.open.m, 1)

	in := &incident{}
	for i := range 2 * maxDistinct {
		in.addHash(strconv.Itoa(i))
	}
	require.Len(t, in.hashes, maxDistinct)
	require.Equal(t, "1000+", in.addHash("y"))

	dd := newDedup(3)
	for i := range 10 {
		first, _ := dd.see(crdbEv("e", time.Duration(i), nil))
		require.True(t, first)
	}
	require.Len(t, dd.m, 3)
	require.Len(t, dd.ring, 3)
	first, _ := dd.see(crdbEv("e", 9, nil))
	require.False(t, first, "recent executions are remembered")
	first, _ = dd.see(crdbEv("e", 0, nil))
	require.True(t, first, "old ones are forgotten")

	d = New(DefaultConfig(), nil)
	for i := range maxDebugHosts + 10 {
		d.Observe(djangoEv("d", 0, func(e *event.Event) { e.Node = "h" + strconv.Itoa(i) }), nil)
	}
	require.LessOrEqual(t, len(d.debug), maxDebugHosts)
}
