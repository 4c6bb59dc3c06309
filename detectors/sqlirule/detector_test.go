package sqlirule

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

const t0 = int64(1_749_465_743_000_000_000)

// ev builds a CockroachDB statement event through the Normalizer.
func ev(t testing.TB, user, client, stmt string, at time.Duration) event.Event {
	t.Helper()
	e := corpusEvent(newTestNormalizer(), event.SourceCRDB, stmt, false)
	e.User, e.ClientAddr, e.Time = user, client, t0+int64(at)
	e.ID = "ev-" + strconv.FormatInt(e.Time, 10) + "-" + user + "-" + client
	return e
}

func errEv(t testing.TB, user, client, stmt, state string, at time.Duration) event.Event {
	e := ev(t, user, client, stmt, at)
	e.SQLState = state
	return e
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, stmt, class string
	}{
		{"crdb tautology", `SELECT * FROM "".""."users" WHERE (username = ‹''›) OR (‹1› = ‹1›)`, ClassTautology},
		{"django tautology", `SELECT "auth_user"."id" FROM "auth_user" WHERE "auth_user"."username" = '' OR 1=1 --' LIMIT 21`, ClassTautology},
		{"or literal", `SELECT id FROM t WHERE a = '' OR 1`, ClassTautology},
		{"or true", `SELECT id FROM t WHERE a = ‹''› OR true`, ClassTautology},
		{"or like", `SELECT id FROM t WHERE (a = ‹''›) OR (‹'x'› LIKE ‹'x'›)`, ClassTautology},
		{"or is not null", `SELECT id FROM t WHERE a = '' OR 1 IS NOT NULL`, ClassTautology},
		{"where constant", `SELECT id FROM t WHERE 1 = 1`, ClassTautology},
		{"and constant", `SELECT id FROM t WHERE a = '' AND 1=2`, ClassTautology},
		{"typed crdb", `SELECT id FROM t WHERE a = ‹1›:::INT8 OR ‹'a'›:::STRING = ‹'a'›:::STRING`, ClassTautology},
		{"union nulls", `SELECT id, username, email FROM auth_user WHERE username = ‹''› UNION SELECT NULL, NULL`, ClassUnion},
		{"union all literals", `SELECT a FROM t WHERE a = '' UNION ALL SELECT 1,2,3`, ClassUnion},
		{"union unqualified", `SELECT id, username, email FROM auth_user WHERE username = '' UNION SELECT id, username, password FROM auth_user`, ClassUnion},
		{"order by position", `SELECT id FROM t WHERE a = ‹''› ORDER BY ‹9›`, ClassUnion},
		{"stacked", `SELECT id FROM t WHERE a = '1'; DROP TABLE users --'`, ClassStacked},
		{"pg_sleep", `SELECT id FROM t WHERE (a = ‹'x'›) OR (pg_sleep(‹5›) IS NULL)`, ClassTime},
		{"series cross join", `SELECT id FROM t WHERE a = '' AND (SELECT count(*) FROM generate_series(1,1e7) a, generate_series(1,9) b) > 0`, ClassTime},
		{"cast version", `SELECT id FROM t WHERE a = '' AND CAST(version() AS INT) = 1`, ClassErrorBased},
		{"subquery cast", `SELECT id FROM t WHERE a = '' AND (SELECT password FROM auth_user LIMIT 1)::INT = 1`, ClassErrorBased},
		{"concat subquery", `SELECT id FROM t WHERE a = '' || (SELECT password FROM auth_user LIMIT 1) || ''`, ClassErrorBased},
		{"catalog", `SELECT table_name FROM information_schema.tables`, ClassCatalog},
		{"pg_shadow", `SELECT usename, passwd FROM pg_shadow`, ClassCatalog},
		{"system users", `SELECT username FROM system.users`, ClassCatalog},
		{"quote break", `SELECT id, username FROM auth_user WHERE username = ''' /*controller='a%%3Ab'*/`, ClassQuoteBreak},
		// Look-alikes: quiet.
		{"union in literal", `SELECT "p"."id" FROM "p" WHERE "p"."name"::text ILIKE '%union jack mug%'`, ""},
		{"or in literal", `SELECT "p"."id" FROM "p" WHERE "p"."name" = 'rock '' or '' roll poster'`, ""},
		{"in list", `SELECT "t"."id" FROM "t" WHERE "t"."id" IN (1, 2, 3, 4)`, ""},
		{"or columns", `SELECT "t"."id" FROM "t" WHERE ("t"."a" = 1 OR "t"."b" = 2)`, ""},
		{"crdb or columns", `SELECT id FROM t WHERE (a = ‹1›) OR (b = ‹2›)`, ""},
		{"coalesce", `SELECT COALESCE(SUM("t"."x"), 0) AS "s" FROM "t" WHERE "t"."y" = 3`, ""},
		{"case when", `SELECT CASE WHEN "t"."a" = 'x' THEN 1 ELSE 0 END AS "f" FROM "t"`, ""},
		{"django and", `SELECT "t"."id" FROM "t" WHERE ("t"."a" = 'x' AND "t"."b" = 'y') LIMIT 21`, ""},
		{"limit offset", `SELECT "t"."id" FROM "t" ORDER BY "t"."id" ASC LIMIT 20 OFFSET 40`, ""},
		{"between", `SELECT "t"."id" FROM "t" WHERE "t"."x" BETWEEN 1 AND 5 AND "t"."y" = 2`, ""},
		{"having count", `SELECT "t"."a", COUNT(*) AS "n" FROM "t" GROUP BY "t"."a" HAVING COUNT(*) > 1`, ""},
		{"django union", `SELECT "a"."id" FROM "a" WHERE "a"."x" = 1 UNION SELECT "b"."id" FROM "b"`, ""},
		{"json key", `SELECT "t"."id" FROM "t" WHERE "t"."attrs" ? 'size'`, ""},
		{"group by position", `SELECT "t"."a", SUM("t"."b") FROM "t" GROUP BY 1 ORDER BY 1`, ""},
	}
	n := newTestNormalizer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := corpusEvent(n, event.SourceDjango, tt.stmt, false)
			class, ok := Match(e.Fingerprint, e.Tables)
			require.Equal(t, tt.class, class, "fingerprint %q", e.Fingerprint)
			require.Equal(t, tt.class != "", ok)
		})
	}
}

func TestObserve(t *testing.T) {
	const lookup = `SELECT id, username FROM auth_user WHERE username = `
	taut := func(user, client string, at time.Duration) event.Event {
		return ev(t, user, client, lookup+`(‹''›) OR (‹1› = ‹1›)`, at)
	}
	probe := func(user, client string, i int, at time.Duration) event.Event {
		return errEv(t, user, client, `SELECT "t"."c`+strconv.Itoa(i)+`" FROM "t"`, "42703", at)
	}
	tests := []struct {
		name     string
		events   []event.Event
		findings int
		severity detectors.Severity
		classes  string
	}{
		{name: "tautology", events: []event.Event{taut("web", "10.0.0.1", 0)}, findings: 1, severity: detectors.SeverityHigh, classes: ClassTautology},
		{name: "migrator reads catalog", events: []event.Event{ev(t, "migrator", "10.0.0.9", `SELECT table_name FROM information_schema.tables WHERE table_schema = ‹'public'›`, 0)}},
		{name: "app reads catalog", events: []event.Event{ev(t, "web", "10.0.0.1", `SELECT table_name FROM information_schema.tables WHERE table_schema = ‹'public'›`, 0)}, findings: 1, severity: detectors.SeverityHigh, classes: ClassCatalog},
		{name: "allowed catalog fingerprint", events: []event.Event{ev(t, "web", "10.0.0.1", `SELECT oid, typarray FROM pg_type WHERE typname = ‹'hstore'›`, 0)}},
		{name: "errors below threshold", events: func() []event.Event {
			var es []event.Event
			for i := 0; i < 4; i++ {
				es = append(es, probe("web", "10.0.0.1", i, time.Duration(i)*time.Second))
			}
			return es
		}()},
		{name: "error burst per user", events: func() []event.Event {
			var es []event.Event
			for i := 0; i < 5; i++ {
				es = append(es, probe("web", "10.0.0."+strconv.Itoa(i), i, time.Duration(i)*time.Second))
			}
			return es
		}(), findings: 1, severity: detectors.SeverityHigh, classes: ClassErrorBurst},
		{name: "error burst per client address", events: func() []event.Event {
			var es []event.Event
			for i := 0; i < 5; i++ {
				es = append(es, probe("u"+strconv.Itoa(i), "10.0.0.1", i, time.Duration(i)*time.Second))
			}
			return es
		}(), findings: 1, classes: ClassErrorBurst, severity: detectors.SeverityHigh},
		{name: "errors spread beyond error window", events: func() []event.Event {
			var es []event.Event
			for i := 0; i < 6; i++ {
				es = append(es, probe("web", "10.0.0.1", i, time.Duration(i)*20*time.Second))
			}
			return es
		}()},
		{name: "one broken statement repeated", events: func() []event.Event {
			var es []event.Event
			for i := 0; i < 8; i++ {
				es = append(es, errEv(t, "web", "10.0.0.1", `SELECT "t"."gone" FROM "t"`, "42703", time.Duration(i)*time.Second))
			}
			return es
		}()},
		{name: "grouped per principal and window", events: []event.Event{
			taut("web", "10.0.0.1", 0), taut("web", "10.0.0.1", time.Minute), taut("web", "10.0.0.2", 2*time.Minute),
			taut("web", "10.0.0.1", 3*time.Hour),
		}, findings: 3, severity: detectors.SeverityHigh, classes: ClassTautology},
		{name: "sensitive read after signature", events: []event.Event{
			taut("web", "10.0.0.1", 0),
			ev(t, "web", "10.0.0.1", `SELECT id, ssn FROM "".""."patients" WHERE id = ‹3›`, time.Minute),
		}, findings: 1, severity: detectors.SeverityCritical, classes: ClassTautology},
		{name: "union reads sensitive column", events: []event.Event{
			ev(t, "web", "10.0.0.1", lookup+`‹''› UNION SELECT id, password FROM "".""."auth_user"`, 0),
		}, findings: 1, severity: detectors.SeverityCritical, classes: ClassUnion},
		{name: "admin tool quiet", events: []event.Event{func() event.Event {
			e := taut("root", "10.0.0.5", 0)
			e.Application = "$ cockroach sql"
			return e
		}()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := detectors.NewEngine([]detectors.Detector{New(DefaultConfig())}, nil)
			require.NoError(t, err)
			for i := range tt.events {
				eng.Observe(&tt.events[i])
			}
			fs := eng.Findings()
			require.Len(t, fs, tt.findings)
			for _, f := range fs {
				require.Equal(t, tt.severity, f.Severity, f.Summary)
				require.Contains(t, f.Details["classes"], tt.classes)
				require.Contains(t, f.Query, "FROM roachwatch.events WHERE")
				require.NotEmpty(t, f.Summary)
			}
		})
	}
}

func TestSessionScopesEscalation(t *testing.T) {
	d := New(DefaultConfig())
	sig := ev(t, "web", "10.0.0.1", `SELECT id FROM t WHERE (a = ‹''›) OR (‹1› = ‹1›)`, 0)
	sig.SessionID = "s1"
	read := ev(t, "web", "10.0.0.1", `SELECT id, ssn FROM "".""."patients" WHERE id = ‹3›`, time.Minute)
	read.SessionID = "s2"
	require.Len(t, d.Observe(&sig, nil), 1)
	require.Empty(t, d.Observe(&read, nil), "another session of the principal does not escalate")
	read.SessionID = "s1"
	out := d.Observe(&read, nil)
	require.Len(t, out, 1)
	require.Equal(t, detectors.SeverityCritical, out[0].Severity)
	require.Empty(t, d.Observe(&read, nil), "escalation is reported once")
}

func TestDjangoRequestErrorsAndCommentFlag(t *testing.T) {
	e := event.Event{Source: event.SourceDjango, Type: "django.request",
		Message: "Internal Server Error: /x\nTraceback ...\npsycopg2.errors.UndefinedColumn: column \"passwd\" does not exist"}
	require.Equal(t, "42703", sqlState(&e))
	d := New(DefaultConfig())
	c := corpusEvent(newTestNormalizer(), event.SourceDjango, `SELECT id FROM auth_user WHERE username = 'admin'--' AND password = 'x'`, true)
	require.Equal(t, CommentAfterLiteral, c.Attrs[AttrSQLComment])
	out := d.Observe(&c, nil)
	require.Len(t, out, 1)
	require.Equal(t, ClassComment, out[0].Details["classes"])
	mgmt := corpusEvent(newTestNormalizer(), event.SourceDjango, `SELECT c.relname FROM pg_catalog.pg_class c`, false)
	require.Empty(t, d.Observe(&mgmt, nil), "catalog-only Django SQL outside a request is a management command")
}

func TestDeterministic(t *testing.T) {
	run := func() []byte {
		eng, err := detectors.NewEngine([]detectors.Detector{New(DefaultConfig())}, nil)
		require.NoError(t, err)
		for i := 0; i < 40; i++ {
			e := errEv(t, "web", "10.0.0.1", `SELECT id FROM t WHERE a = ‹''› UNION SELECT `+strconv.Itoa(i%7)+`x`, "42601", time.Duration(i)*time.Second)
			eng.Observe(&e)
		}
		b, err := json.Marshal(eng.Findings())
		require.NoError(t, err)
		return b
	}
	require.Equal(t, string(run()), string(run()))
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"window", func(c *Config) { c.Window = 0 }, "detectors.sqli.window"},
		{"burst", func(c *Config) { c.ErrorBurst = 1 }, "detectors.sqli.error_burst"},
		{"error window", func(c *Config) { c.ErrorWindow = -1 }, "detectors.sqli.error_window"},
		{"shapes", func(c *Config) { c.ErrorDistinctShapes = 9 }, "detectors.sqli.error_distinct_shapes"},
		{"sqlstate", func(c *Config) { c.ErrorSQLStates = []string{"4260"} }, "detectors.sqli.error_sqlstates"},
		{"max keys", func(c *Config) { c.MaxKeys = 0 }, "detectors.sqli.max_keys"},
		{"empty entry", func(c *Config) { c.AdminUsers = []string{""} }, "detectors.sqli.admin_users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mod(&c)
			require.ErrorContains(t, c.Validate(), tt.want)
		})
	}
}

func TestStateIsBounded(t *testing.T) {
	c := DefaultConfig()
	c.MaxKeys = 50
	d := New(c)
	for i := 0; i < 1000; i++ {
		e := errEv(t, "u"+strconv.Itoa(i), "10.1."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250), `SELECT id FROM t WHERE (a = ‹''›) OR (‹1› = ‹1›)`, "42601", time.Duration(i)*time.Millisecond)
		d.Observe(&e, nil)
	}
	require.Equal(t, 50, d.incidents.Len())
	require.Equal(t, 50, d.bursts.Len())
	require.LessOrEqual(t, len(d.incidents.nodes), 50)
}
