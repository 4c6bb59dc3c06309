package sqlfp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// colStrings renders columns as "table.name/clause" (table may be empty).
func colStrings(cs []Column) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s.%s/%s", c.Table, c.Name, c.Clause))
	}
	return out
}

// bindStrings renders bindings as "table.col op kind value" or with $n.
func bindStrings(bs []Binding) []string {
	out := []string{}
	for _, b := range bs {
		v := fmt.Sprintf("%q", b.Value)
		if b.Kind == LitPlaceholder {
			v = fmt.Sprintf("$%d", b.Placeholder)
		}
		out = append(out, fmt.Sprintf("%s.%s %s %s %s", b.Table, b.Column, b.Op, b.Kind, v))
	}
	return out
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		verb     string
		tables   []string
		columns  []string
		bindings []string
		star     bool
	}{
		{
			name: "crdb partial redaction", verb: "SELECT",
			in:       `SELECT ‹name›, ‹email› FROM ‹""›.‹""›.‹users› WHERE ‹id› = ‹5›`,
			tables:   []string{"users"},
			columns:  []string{"users.name/select", "users.email/select", "users.id/where"},
			bindings: []string{`users.id compare number "5"`},
		},
		{
			name: "crdb v21 whole statement span", verb: "DELETE",
			in:       `‹DELETE FROM "".""."sessions" WHERE token = 'abc'›`,
			tables:   []string{"sessions"},
			columns:  []string{"sessions.token/where"},
			bindings: []string{`sessions.token compare string "abc"`},
		},
		{
			name: "crdb telemetry names unmarked", verb: "SELECT", star: true,
			in:       `SELECT * FROM ""."".orders WHERE id = ‹5› LIMIT ‹10›`,
			tables:   []string{"orders"},
			columns:  []string{"orders.id/where"},
			bindings: []string{`orders.id compare number "5"`},
		},
		{
			name: "crdb tautology", verb: "SELECT",
			in:       `SELECT id FROM ""."".accounts WHERE (name = ‹'x'›) OR (‹1› = ‹1›)`,
			tables:   []string{"accounts"},
			columns:  []string{"accounts.id/select", "accounts.name/where"},
			bindings: []string{`accounts.name compare string "x"`},
		},
		{
			name: "placeholder values statement", verb: "UPDATE",
			in:       `UPDATE ""."".accounts SET balance = balance - $1 WHERE id = $2`,
			tables:   []string{"accounts"},
			columns:  []string{"accounts.balance/set", "accounts.id/where"},
			bindings: []string{`accounts.balance write placeholder $1`, `accounts.id compare placeholder $2`},
		},
		{
			name: "django quoted identifiers", verb: "SELECT",
			in:     `SELECT "clinic_patient"."id", "clinic_patient"."full_name", "clinic_patient"."ssn" FROM "clinic_patient" WHERE "clinic_patient"."last_name" = 'Okafor' LIMIT 21`,
			tables: []string{"clinic_patient"},
			columns: []string{"clinic_patient.id/select", "clinic_patient.full_name/select",
				"clinic_patient.ssn/select", "clinic_patient.last_name/where"},
			bindings: []string{`clinic_patient.last_name compare string "Okafor"`},
		},
		{
			name: "django injection string", verb: "SELECT",
			in:       `SELECT "auth_user"."id" FROM "auth_user" WHERE "auth_user"."username" = 'admin'' OR 1=1 --' LIMIT 21`,
			tables:   []string{"auth_user"},
			columns:  []string{"auth_user.id/select", "auth_user.username/where"},
			bindings: []string{`auth_user.username compare string "admin' OR 1=1 --"`},
		},
		{
			name: "django executemany template", verb: "INSERT",
			in:       `INSERT INTO "shop_order" ("customer_id", "total") VALUES (%s, %s)`,
			tables:   []string{"shop_order"},
			columns:  []string{"shop_order.customer_id/insert", "shop_order.total/insert"},
			bindings: []string{`shop_order.customer_id write placeholder $0`, `shop_order.total write placeholder $0`},
		},
		{
			name: "aliases and join", verb: "SELECT",
			in:     `SELECT p.ssn, v.visited_at FROM patients AS p JOIN visits v ON v.patient_id = p.id WHERE p.email LIKE '%@x.com' AND 42 = v.doctor_id`,
			tables: []string{"patients", "visits"},
			columns: []string{"patients.ssn/select", "visits.visited_at/select", "visits.patient_id/join",
				"patients.id/join", "patients.email/where", "visits.doctor_id/where"},
			bindings: []string{`patients.email compare string "%@x.com"`, `visits.doctor_id compare number "42"`},
		},
		{
			name: "unqualified with two tables", verb: "SELECT",
			in:      `SELECT ssn FROM a, b WHERE a.id = b.id`,
			tables:  []string{"a", "b"},
			columns: []string{".ssn/select", "a.id/where", "b.id/where"},
		},
		{
			name: "qualified table", verb: "SELECT",
			in:       `SELECT patients.ssn FROM clinic.public.patients WHERE public.patients.id = -3`,
			tables:   []string{"clinic.public.patients"},
			columns:  []string{"clinic.public.patients.ssn/select", "clinic.public.patients.id/where"},
			bindings: []string{`clinic.public.patients.id compare number "-3"`},
		},
		{
			name: "multi-row insert", verb: "INSERT",
			in:      `INSERT INTO ""."".cards (holder, card_number) VALUES (‹'Ann'›, ‹'4111111111111111'›), ('Bo', e'4000\'0002') RETURNING id`,
			tables:  []string{"cards"},
			columns: []string{"cards.holder/insert", "cards.card_number/insert", "cards.id/returning"},
			bindings: []string{`cards.holder write string "Ann"`, `cards.card_number write string "4111111111111111"`,
				`cards.holder write string "Bo"`, `cards.card_number write string "4000'0002"`},
		},
		{
			name: "upsert placeholders and redacted", verb: "UPSERT",
			in:       `UPSERT INTO t (a, b, c) VALUES ($1, ‹×›, DEFAULT)`,
			tables:   []string{"t"},
			columns:  []string{"t.a/insert", "t.b/insert", "t.c/insert"},
			bindings: []string{`t.a write placeholder $1`, `t.b write redacted ""`},
		},
		{
			name: "on conflict do update", verb: "INSERT",
			in:     `INSERT INTO users (email, name) VALUES ('a@b.c', 'A') ON CONFLICT (email) DO UPDATE SET name = excluded.name, active = true, note = NULL`,
			tables: []string{"users"},
			columns: []string{"users.email/insert", "users.name/insert", "users.email/other", "users.name/set",
				"users.active/set", "users.note/set"},
			bindings: []string{`users.email write string "a@b.c"`, `users.name write string "A"`,
				`users.active write bool "true"`, `users.note write null ""`},
		},
		{
			name: "in list and between", verb: "SELECT",
			in:      `SELECT id FROM t WHERE ssn IN ('1', '2') AND age BETWEEN 18 AND 65 AND code NOT IN ($3, $4)`,
			tables:  []string{"t"},
			columns: []string{"t.id/select", "t.ssn/where", "t.age/where", "t.code/where"},
			bindings: []string{`t.ssn compare string "1"`, `t.ssn compare string "2"`, `t.age compare number "18"`,
				`t.age compare number "65"`, `t.code compare placeholder $3`, `t.code compare placeholder $4`},
		},
		{
			name: "function operand and casts", verb: "SELECT",
			in:       `SELECT id FROM u WHERE lower(email) = 'a@b.c' AND token = '\x00ff'::BYTES AND key = b'k' AND h = x'aa' AND d > DATE '2024-01-01'`,
			tables:   []string{"u"},
			columns:  []string{"u.id/select", "u.email/where", "u.token/where", "u.key/where", "u.h/where", "u.d/where"},
			bindings: []string{`u.email compare string "a@b.c"`, `u.token compare bytes "\\x00ff"`, `u.key compare bytes "k"`, `u.h compare bytes "aa"`, `u.d compare string "2024-01-01"`},
		},
		{
			name: "functions and keywords are not columns", verb: "SELECT",
			in:      `SELECT count(*), now(), lower(email), NULL, true, current_timestamp, interval '1 day', extract(year FROM created_at), x::INT8 AS y FROM t WHERE deleted IS NOT DISTINCT FROM false`,
			tables:  []string{"t"},
			columns: []string{"t.email/select", "t.created_at/select", "t.x/select", "t.deleted/where"},
		},
		{
			name: "star forms", verb: "SELECT", star: true,
			in:      `SELECT p.*, v.id FROM patients p, visits v`,
			tables:  []string{"patients", "visits"},
			columns: []string{"visits.id/select"},
		},
		{
			name: "subquery and cte", verb: "WITH",
			in:     `WITH recent AS (SELECT patient_id FROM visits WHERE at > $1) SELECT name FROM patients WHERE id IN (SELECT patient_id FROM recent) AND ssn = '1'`,
			tables: []string{"visits", "patients"},
			// Two tables and no qualifiers: best effort leaves Table empty.
			columns:  []string{".patient_id/select", ".at/where", ".name/select", ".id/where", ".ssn/where"},
			bindings: []string{`.at compare placeholder $1`, `.ssn compare string "1"`},
		},
		{
			name: "grant on table", verb: "GRANT",
			in:     `GRANT SELECT, UPDATE ON TABLE ""."".patients, billing TO analyst`,
			tables: []string{"patients", "billing"},
		},
		{
			name: "revoke on database", verb: "REVOKE",
			in: `REVOKE ALL ON DATABASE clinic FROM public`,
		},
		{
			name: "truncate and ddl", verb: "TRUNCATE",
			in:     `TRUNCATE TABLE audit_log, sessions CASCADE`,
			tables: []string{"audit_log", "sessions"},
		},
		{
			name: "alter table", verb: "ALTER",
			in:     `ALTER TABLE IF EXISTS ""."".patients ADD COLUMN ssn STRING`,
			tables: []string{"patients"},
		},
		{
			name: "create index", verb: "CREATE",
			in:     `CREATE INDEX idx ON patients (ssn)`,
			tables: []string{"patients"},
		},
		{
			name: "as of system time", verb: "SELECT",
			in:      `SELECT id FROM t AS OF SYSTEM TIME '-10s' WHERE x = 1`,
			tables:  []string{"t"},
			columns: []string{"t.id/select", "t.x/where"}, bindings: []string{`t.x compare number "1"`},
		},
		{
			name: "update from join", verb: "UPDATE",
			in:       `UPDATE accounts AS a SET email = lower('X@Y.Z') FROM owners o WHERE o.id = a.owner_id`,
			tables:   []string{"accounts", "owners"},
			columns:  []string{"accounts.email/set", "owners.id/where", "accounts.owner_id/where"},
			bindings: []string{`accounts.email write string "X@Y.Z"`},
		},
		{name: "begin", verb: "BEGIN", in: `BEGIN TRANSACTION`},
		{name: "set var", verb: "SET", in: `SET application_name = 'x'`},
		{name: "unknown verb", verb: "FROBNICATE", in: `frobnicate the thing`},
		{name: "no verb", verb: "", in: `'just a string'`},
		{name: "parenthesized select", verb: "SELECT", in: `(SELECT 1)`},
	}
	a := NewAnalyzer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Analyze([]byte(tt.in))
			require.Equal(t, tt.verb, r.Verb)
			require.Equal(t, nilToEmpty(tt.tables), nilToEmpty(r.Tables), "tables")
			require.Equal(t, nilToEmpty(tt.columns), colStrings(r.Columns), "columns")
			require.Equal(t, nilToEmpty(tt.bindings), bindStrings(r.Bindings), "bindings")
			require.Equal(t, tt.star, r.Star, "star")
			require.False(t, r.Truncated)
		})
	}
}

func nilToEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestAnalyzeComments(t *testing.T) {
	a := NewAnalyzer()
	r := a.Analyze([]byte("SELECT 1 -- one\n/* two /* nested */ */ FROM t /*controller='a%%3Ab'*/"))
	got := []string{}
	for _, c := range r.Comments {
		got = append(got, string(c))
	}
	require.Equal(t, []string{" one", " two /* nested */ ", "controller='a%%3Ab'"}, got)
	require.Equal(t, map[string]string{"controller": "a:b"}, ParseSQLCommenter(r.Comments[2]))

	r = a.Analyze([]byte(strings.Repeat("/*c*/ ", 10) + "SELECT 1"))
	require.Len(t, r.Comments, MaxComments)
	require.True(t, r.Truncated)
}

func TestAnalyzeCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString("SELECT * FROM t WHERE ssn IN (")
	for i := range 100 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "'%03d'", i)
	}
	b.WriteString(")")
	a := NewAnalyzer()
	r := a.Analyze([]byte(b.String()))
	require.Len(t, r.Bindings, MaxBindings)
	require.True(t, r.Truncated)
	require.Equal(t, "select * from t where ssn in (?)", string(r.Fingerprint))
	require.Equal(t, 100, r.Literals)

	b.Reset()
	b.WriteString("SELECT 1 FROM ")
	for i := range 70 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "t%d", i)
	}
	r = a.Analyze([]byte(b.String()))
	require.Len(t, r.Tables, MaxTables)
	require.True(t, r.Truncated)

	b.Reset()
	b.WriteString("SELECT ")
	for i := range 300 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "c%d", i)
	}
	r = a.Analyze([]byte(b.String() + " FROM t"))
	require.Len(t, r.Columns, MaxColumns)
	require.True(t, r.Truncated)

	// The next call starts clean.
	r = a.Analyze([]byte("SELECT a FROM t"))
	require.False(t, r.Truncated)
	require.Equal(t, []string{"t.a/select"}, colStrings(r.Columns))
}
