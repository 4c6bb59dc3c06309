package cryptorule

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/event"
)

var t0 = time.Date(2025, 6, 11, 14, 0, 0, 0, time.UTC).UnixNano()

const day = 24 * time.Hour

// crdbEv is a CockroachDB query_execute event of user web at t0+dt.
func crdbEv(id string, dt time.Duration, mod func(*event.Event)) *event.Event {
	e := &event.Event{ID: id, Time: t0 + int64(dt), Source: event.SourceCRDB, Type: "query_execute", Channel: "SQL_EXEC",
		Cluster: "c1", Node: "3", User: "web", ClientAddr: "10.20.3.14", ClientPort: 5000, Application: "django",
		SessionID: "s1", Fingerprint: "update patients set ssn = ? where patients.id = ?", FingerprintHash: 42,
		StatementTag: "UPDATE", Tables: []string{"patients"}, Columns: []string{"patients.ssn", "patients.id"},
		SensitiveColumns: []string{"patients.ssn"}}
	if mod != nil {
		mod(e)
	}
	return e
}

// djangoEv is a Django django.sql event at t0+dt.
func djangoEv(id string, dt time.Duration, mod func(*event.Event)) *event.Event {
	e := &event.Event{ID: id, Time: t0 + int64(dt), Source: event.SourceDjango, Type: djangoSQLType, Logger: "django.db.backends",
		Origin: event.Origin{File: "/var/log/django/app.log"}, Fingerprint: "update patients set ssn = ? where patients.id = ?",
		FingerprintHash: 42, StatementTag: "UPDATE", Tables: []string{"patients"}, Columns: []string{"patients.ssn", "patients.id"},
		SensitiveColumns: []string{"patients.ssn"}, Route: "api/patients/<int:pk>/identity/", View: "clinic:patient-identity"}
	if mod != nil {
		mod(e)
	}
	return e
}

func val(table, column, op, class, hash string) func(*event.Event) {
	return func(e *event.Event) {
		e.Values = append(e.Values, event.Value{Table: table, Column: column, Op: op, Class: class, Hash: hash})
	}
}

func with(mods ...func(*event.Event)) func(*event.Event) {
	return func(e *event.Event) {
		for _, m := range mods {
			m(e)
		}
	}
}

// want describes one expected finding; zero fields are not checked.
type want struct {
	rule     string
	sev      detectors.Severity
	count    int64
	user     string
	first    time.Duration
	last     time.Duration
	evidence int
	details  map[string]string
}

// run feeds evs through an engine holding only the detector and returns
// the findings of rules (all when empty), most severe first.
func run(t *testing.T, cfg Config, cat *catalog.Catalog, evs []*event.Event, rules ...string) []detectors.Finding {
	t.Helper()
	require.NoError(t, cfg.Validate())
	e, err := detectors.NewEngine([]detectors.Detector{New(cfg, cat)}, nil)
	require.NoError(t, err)
	for _, ev := range evs {
		e.Observe(ev)
	}
	e.Finish()
	// No finding ever carries a value hash (or anything else of a value).
	b, err := json.Marshal(e.Findings())
	require.NoError(t, err)
	for _, ev := range evs {
		for _, v := range ev.Values {
			require.NotContains(t, string(b), `"`+v.Hash+`"`)
		}
		for _, s := range ev.Secrets {
			require.NotContains(t, string(b), `"`+s.Hash+`"`)
		}
	}
	var out []detectors.Finding
	for _, f := range e.Findings() {
		if len(rules) == 0 || containsStr(rules, f.RuleID) {
			out = append(out, f)
		}
	}
	return out
}

func check(t *testing.T, got []detectors.Finding, wants []want) {
	t.Helper()
	require.Len(t, got, len(wants), "findings: %+v", got)
	for i, w := range wants {
		f := got[i]
		require.Equal(t, w.rule, f.RuleID, "finding %d", i)
		require.Equal(t, w.sev, f.Severity, "finding %d: %s", i, f.Summary)
		require.Equal(t, w.count, f.Count, "finding %d", i)
		require.Equal(t, w.user, f.Principal.User, "finding %d", i)
		if w.first != 0 || w.last != 0 {
			require.Equal(t, time.Unix(0, t0+int64(w.first)).UTC(), f.FirstSeen, "finding %d first seen", i)
			require.Equal(t, time.Unix(0, t0+int64(w.last)).UTC(), f.LastSeen, "finding %d last seen", i)
		}
		if w.evidence != 0 {
			require.Len(t, f.Evidence, w.evidence, "finding %d evidence", i)
		}
		for k, v := range w.details {
			require.Equal(t, v, f.Details[k], "finding %d details[%s]", i, k)
		}
		require.NotEmpty(t, f.Summary)
		require.NotEmpty(t, f.Query)
		require.NotEmpty(t, f.Remediation)
	}
}

func TestRule001(t *testing.T) {
	ssnWrite := val("patients", "ssn", event.OpWrite, "ssn", "1111111111111111")
	cardCols := func(e *event.Event) {
		e.Tables, e.Columns = []string{"customers"}, []string{"customers.card_number", "customers.email"}
		e.SensitiveColumns = []string{"customers.card_number"}
		e.StatementTag = "INSERT"
	}
	emailCat := catalog.New(catalog.Config{Columns: []string{"customers.email"}})
	mustCat := catalog.New(catalog.Config{MustEncrypt: []string{"patients.notes"}})
	cases := []struct {
		name  string
		cat   *catalog.Catalog
		evs   []*event.Event
		wants []want
	}{
		{name: "crdb plaintext ssn write is critical", evs: []*event.Event{crdbEv("e1", 0, ssnWrite)},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web",
				details: map[string]string{"class": "ssn", "op": "write", "column": "patients.ssn", "distinct_values": "1"}}}},
		{name: "crdb plaintext card number is critical", evs: []*event.Event{
			crdbEv("e1", 0, with(cardCols, val("customers", "card_number", event.OpWrite, "pan", "2222222222222222")))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web",
				details: map[string]string{"class": "pan", "column": "customers.card_number"}}}},
		{name: "plaintext email on a catalog column is high", cat: emailCat, evs: []*event.Event{
			crdbEv("e1", 0, with(cardCols, val("customers", "email", event.OpWrite, "email", "3333333333333333")))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityHigh, count: 1, user: "web",
				details: map[string]string{"class": "email", "column": "customers.email"}}}},
		{name: "plain text on a sensitive column is high", evs: []*event.Event{
			crdbEv("e1", 0, val("patients", "passport_no", event.OpWrite, "text", "4444444444444444"))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityHigh, count: 1, user: "web",
				details: map[string]string{"class": "text", "column": "patients.passport_no"}}}},
		{name: "compare against plaintext ssn", evs: []*event.Event{
			crdbEv("e1", 0, with(func(e *event.Event) { e.StatementTag = "SELECT" }, val("patients", "ssn", event.OpCompare, "ssn", "5555555555555555")))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web",
				details: map[string]string{"op": "compare"}}}},
		{name: "django sql log with plaintext ssn", evs: []*event.Event{djangoEv("d1", 0, ssnWrite)},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1,
				details: map[string]string{"source": "django", "route": "api/patients/<int:pk>/identity/"}}}},
		{name: "crdb and django views of the same write are two findings", evs: []*event.Event{crdbEv("e1", 0, ssnWrite), djangoEv("d1", time.Millisecond, ssnWrite)},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web"},
				{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1}}},
		{name: "fernet writes stay quiet", evs: []*event.Event{
			crdbEv("e1", 0, val("patients", "ssn", event.OpWrite, "fernet", "6666666666666666")),
			djangoEv("d1", 0, val("patients", "ssn", event.OpWrite, "fernet", "6666666666666666")),
			crdbEv("e2", time.Second, with(cardCols, val("customers", "card_number", event.OpWrite, "fernet", "7777777777777777")))}},
		{name: "ciphertext, armor, bytes, redacted and empty stay quiet", evs: []*event.Event{
			crdbEv("e1", 0, val("patients", "ssn", event.OpWrite, "ciphertext", "8")),
			crdbEv("e2", 1, val("patients", "ssn", event.OpWrite, "pgp_armor", "9")),
			crdbEv("e3", 2, val("patients", "ssn", event.OpWrite, "bytes", "a")),
			crdbEv("e4", 3, val("patients", "ssn", event.OpWrite, "redacted", "b")),
			crdbEv("e5", 4, val("patients", "ssn", event.OpWrite, "empty", "c"))}},
		{name: "personal value on a non-sensitive column stays quiet", evs: []*event.Event{
			crdbEv("e1", 0, val("notes", "body", event.OpWrite, "ssn", "d")),
			crdbEv("e2", 1, val("", "", event.OpLiteral, "ssn", "e"))}},
		{name: "internal activity stays quiet", evs: []*event.Event{crdbEv("e1", 0, with(ssnWrite, func(e *event.Event) { e.Internal = true }))}},
		{name: "must_encrypt column with plain text is critical", cat: mustCat, evs: []*event.Event{
			crdbEv("e1", 0, val("patients", "notes", event.OpWrite, "text", "f"))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web",
				details: map[string]string{"must_encrypt": "true", "class": "text"}}}},
		{name: "password hash in auth_user.password stays quiet, an ssn there does not", evs: []*event.Event{
			crdbEv("e1", 0, val("auth_user", "password", event.OpWrite, "text", "10")),
			crdbEv("e2", time.Second, val("auth_user", "password", event.OpWrite, "ssn", "11"))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web", details: map[string]string{"class": "ssn"}}}},
		{name: "bare column resolved from the only table", evs: []*event.Event{crdbEv("e1", 0, val("", "ssn", event.OpWrite, "ssn", "12"))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web", details: map[string]string{"column": "patients.ssn"}}}},
		{name: "occurrences group per day with count, first and last seen", evs: []*event.Event{
			crdbEv("e1", time.Minute, val("patients", "ssn", event.OpWrite, "ssn", "13")),
			crdbEv("e2", time.Hour, val("patients", "ssn", event.OpWrite, "text", "14")),
			crdbEv("e3", 2*time.Hour, val("patients", "ssn", event.OpWrite, "ssn", "13")),
			crdbEv("e4", day, val("patients", "ssn", event.OpWrite, "ssn", "15"))},
			wants: []want{
				{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 3, user: "web", first: time.Minute, last: 2 * time.Hour,
					details: map[string]string{"class": "ssn,text", "distinct_values": "2"}},
				{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web", first: day, last: day}}},
		{name: "copies of one execution in several channels count once", evs: []*event.Event{
			crdbEv("e1", 0, ssnWrite),
			crdbEv("e2", 0, with(ssnWrite, func(e *event.Event) { e.Type, e.Channel = "sensitive_table_access", "SENSITIVE_ACCESS" })),
			crdbEv("e3", 0, with(ssnWrite, func(e *event.Event) { e.Type, e.Channel = "sampled_query", "TELEMETRY" }))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web", evidence: 3}}},
		{name: "different users are different incidents", evs: []*event.Event{
			crdbEv("e1", 0, ssnWrite), crdbEv("e2", time.Second, with(ssnWrite, func(e *event.Event) { e.User = "etl" }))},
			wants: []want{{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "web"},
				{rule: Rule001.ID, sev: detectors.SeverityCritical, count: 1, user: "etl"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check(t, run(t, DefaultConfig(), tc.cat, tc.evs, Rule001.ID), tc.wants)
		})
	}
}

func TestRule002(t *testing.T) {
	cat := catalog.New(catalog.Config{Plaintext: []string{"patients.ssn", "customers.card_number"}})
	read := func(rows int64, cols ...string) func(*event.Event) {
		return func(e *event.Event) {
			e.StatementTag, e.Rows, e.Columns = "SELECT", rows, cols
			e.SensitiveColumns = nil
			e.Fingerprint, e.FingerprintHash = "select ... from patients", 7
		}
	}
	cases := []struct {
		name  string
		cfg   func(*Config)
		cat   *catalog.Catalog // nil: patients.ssn and customers.card_number are plaintext
		evs   []*event.Event
		wants []want
	}{
		{name: "qualified plaintext column read", evs: []*event.Event{crdbEv("e1", 0, read(3, "patients.id", "patients.ssn"))},
			wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web",
				details: map[string]string{"column": "patients.ssn", "rows": "3"}}}},
		{name: "select star lists the catalog columns", evs: []*event.Event{crdbEv("e1", 0, with(read(2), func(e *event.Event) {
			e.SensitiveColumns = []string{"patients.ssn", "patients.dob"}
		}))}, wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web", details: map[string]string{"column": "patients.ssn"}}}},
		{name: "bare column with one qualified table", evs: []*event.Event{crdbEv("e1", 0, with(read(1, "ssn"), func(e *event.Event) {
			e.Tables = []string{"clinic.public.patients"}
		}))}, wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web", details: map[string]string{"column": "patients.ssn"}}}},
		{name: "bare column in a join resolved to the only plaintext table", evs: []*event.Event{crdbEv("e1", 0, with(read(1, "card_number"), func(e *event.Event) {
			e.Tables = []string{"orders", "customers"}
		}))}, wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web", details: map[string]string{"column": "customers.card_number"}}}},
		{name: "audited read access mode r", evs: []*event.Event{crdbEv("e1", 0, func(e *event.Event) {
			e.Type, e.StatementTag, e.AccessMode, e.Rows = "sensitive_table_access", "", "r", 4
		})}, wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web"}}},
		{name: "rows above the threshold make it high", evs: []*event.Event{
			crdbEv("e1", 0, read(600, "patients.ssn")), crdbEv("e2", time.Hour, read(600, "patients.ssn"))},
			wants: []want{{rule: Rule002.ID, sev: detectors.SeverityHigh, count: 2, user: "web", first: 0, last: time.Hour,
				details: map[string]string{"rows": "1200"}}}},
		{name: "threshold is configurable", cfg: func(c *Config) { c.RowsThreshold = 5000 }, evs: []*event.Event{
			crdbEv("e1", 0, read(600, "patients.ssn")), crdbEv("e2", time.Hour, read(600, "patients.ssn"))},
			wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 2, user: "web"}}},
		{name: "channel copies count once, rows from the largest copy", evs: []*event.Event{
			crdbEv("e1", 0, read(0, "patients.ssn")),
			crdbEv("e2", 0, with(read(7, "patients.ssn"), func(e *event.Event) { e.Type = "sampled_query" }))},
			wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web", evidence: 2,
				details: map[string]string{"rows": "7"}}}},
		{name: "second day is a second finding", evs: []*event.Event{
			crdbEv("e1", 0, read(1, "patients.ssn")), crdbEv("e2", day, read(1, "patients.ssn"))},
			wants: []want{{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web", first: 0, last: 0},
				{rule: Rule002.ID, sev: detectors.SeverityMedium, count: 1, user: "web", first: day, last: day}}},
		{name: "sensitive column not stored in plaintext stays quiet", evs: []*event.Event{crdbEv("e1", 0, read(9, "patients.dob", "dob"))}},
		{name: "writes are not reads", evs: []*event.Event{crdbEv("e1", 0, nil)}},
		{name: "ambiguous bare column stays quiet", cat: catalog.New(catalog.Config{Plaintext: []string{"patients.ssn", "old_patients.ssn"}}), evs: []*event.Event{crdbEv("e1", 0, with(read(1, "ssn"), func(e *event.Event) {
			e.Tables = []string{"patients", "clinic.old_patients"}
		}))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c := cat
			if tc.cat != nil {
				c = tc.cat
			}
			check(t, run(t, cfg, c, tc.evs, Rule002.ID), tc.wants)
		})
	}
}
