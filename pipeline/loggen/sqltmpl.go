package loggen

import (
	"strconv"
	"strings"
)

// stmt is one SQL statement with everything every log needs about it.
type stmt struct {
	tag    string // statement tag: SELECT, INSERT, ...
	crdb   string // CockroachDB's re-rendered Statement, markers included
	django string // SQL as Django logs it; "" when the client is not Django
	params []val  // Django args; nil logs args=None
	ph     []string
	db     string // database (and Django alias: clinic is "default")
	rows   int64
	latMS  float64
	full   bool // full table scan
	state  string
	errTxt string
	force  bool // telemetry always samples it (DDL, DCL, incidents)
	fpKey  string
	access []tableAccess
}

// tableAccess is one audited table a statement touches.
type tableAccess struct {
	table string
	mode  string // r or rw
}

// tableInfo describes a table of the simulated schema.
type tableInfo struct {
	db      string
	id      uint32
	audited bool // EXPERIMENTAL_AUDIT SET READ WRITE at bootstrap
}

var tables = map[string]tableInfo{
	"patients":       {db: "clinic", id: 112, audited: true},
	"notes":          {db: "clinic", id: 113},
	"auth_user":      {db: "clinic", id: 108},
	"django_session": {db: "clinic", id: 110},
	"customers":      {db: "shop", id: 118, audited: true},
	"orders":         {db: "shop", id: 119},
	"accounts":       {db: "shop", id: 120},
	"products":       {db: "shop", id: 121},
}

// alias is the Django DATABASES key of a database.
func alias(db string) string {
	if db == "clinic" {
		return "default"
	}
	return db
}

// tmpl renders a statement template in both dialects. Tokens:
//
//	@t      table: Django "t", CockroachDB "".""".t
//	#t.c    column: Django "t"."c", CockroachDB t.c
//	%c      bare column: Django "c", CockroachDB c
//	?       value: psycopg2 literal / ‹literal› (or $n with placeholders)
//	(~ ~)   parentheses only CockroachDB adds around boolean terms
//	(^ ^)   parentheses only Django writes
//	^(      column list paren: Django " (", CockroachDB "("
//	{a|b}   Django text a, CockroachDB text b
type tmpl string

// render returns the Django and CockroachDB forms. With placeholders the
// CockroachDB form uses $n and the values go to PlaceholderValues.
func (t tmpl) render(vals []val, placeholders bool) (django, crdb string, ph []string) {
	var d, c strings.Builder
	s := string(t)
	vi := 0
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == '@' || ch == '#' || ch == '%':
			j := i + 1
			for j < len(s) && isIdent(s[j], ch == '#') {
				j++
			}
			name := s[i+1 : j]
			switch ch {
			case '@':
				d.WriteString(`"` + name + `"`)
				c.WriteString(`"".""` + `.` + name)
			case '#':
				tbl, col, _ := strings.Cut(name, ".")
				d.WriteString(`"` + tbl + `"."` + col + `"`)
				c.WriteString(name)
			default:
				d.WriteString(`"` + name + `"`)
				c.WriteString(name)
			}
			i = j
		case ch == '?':
			v := vals[vi]
			vi++
			d.WriteString(v.djangoSQL())
			if placeholders {
				c.WriteString("$" + strconv.Itoa(vi))
				ph = append(ph, v.crdbSQL())
			} else {
				c.WriteString(v.crdbSQL())
			}
			i++
		case strings.HasPrefix(s[i:], "(~"):
			c.WriteByte('(')
			i += 2
		case strings.HasPrefix(s[i:], "~)"):
			c.WriteByte(')')
			i += 2
		case strings.HasPrefix(s[i:], "(^"):
			d.WriteByte('(')
			i += 2
		case strings.HasPrefix(s[i:], "^)"):
			d.WriteByte(')')
			i += 2
		case strings.HasPrefix(s[i:], "^("):
			d.WriteString(" (")
			c.WriteByte('(')
			i += 2
		case ch == '{':
			end := strings.IndexByte(s[i:], '}') + i
			a, b, _ := strings.Cut(s[i+1:end], "|")
			d.WriteString(a)
			c.WriteString(b)
			i = end + 1
		default:
			d.WriteByte(ch)
			c.WriteByte(ch)
			i++
		}
	}
	return d.String(), c.String(), ph
}

func isIdent(b byte, dot bool) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || (dot && b == '.')
}

// djangoStmt builds a statement issued by the Django ORM (interpolated by
// psycopg2, logged by django.db.backends).
func djangoStmt(tag string, t tmpl, vals []val, db string, access ...tableAccess) *stmt {
	d, c, _ := t.render(vals, false)
	return &stmt{tag: tag, crdb: c, django: d, params: vals, db: db, fpKey: string(t), access: access}
}

// driverStmt builds a statement of a non-Django client; with placeholders
// the values are bound ($n) as the pgx extended protocol does.
func driverStmt(tag string, t tmpl, vals []val, placeholders bool, db string, access ...tableAccess) *stmt {
	_, c, ph := t.render(vals, placeholders)
	return &stmt{tag: tag, crdb: c, ph: ph, db: db, fpKey: string(t), access: access}
}

// rawStmt builds a statement whose two forms are written by hand (SQL
// injection payloads, DDL).
func rawStmt(tag, crdb, django, db string, access ...tableAccess) *stmt {
	return &stmt{tag: tag, crdb: crdb, django: django, db: db, access: access}
}

// fingerprintID is a stable uint64 for the statement's shape, like
// StatementFingerprintID (about half of them are above 2^63).
func (st *stmt) fingerprintID() uint64 {
	if st.fpKey != "" {
		return hash64(st.tag + st.fpKey)
	}
	return hash64(st.tag + stripMarked(st.crdb))
}

// stripMarked replaces every ‹…› span by "_".
func stripMarked(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "‹")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "›")
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteByte('_')
		s = s[i+j+len("›"):]
	}
}

var (
	readPatients  = tableAccess{"patients", "r"}
	writePatients = tableAccess{"patients", "rw"}
	readCustomers = tableAccess{"customers", "r"}
	writeCustomer = tableAccess{"customers", "rw"}
)
