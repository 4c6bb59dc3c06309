package sqlfp

import (
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
)

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		lits int
	}{
		// Strings.
		{"string", `SELECT 'abc'`, `select ?`, 1},
		{"string doubled quote", `SELECT 'it''s', 'x'`, `select ?, ?`, 2},
		{"e string backslash quote", `SELECT e'it\'s \\ ok', 1`, `select ?, ?`, 2},
		{"E string upper", `SELECT E'a\nb'`, `select ?`, 1},
		{"bytes literal", `SELECT b'\x00ab'`, `select ?`, 1},
		{"hex bytes", `SELECT x'deadBEEF', X'00'`, `select ?, ?`, 2},
		{"bit string", `SELECT B'0101'`, `select ?`, 1},
		{"dollar quote", `SELECT $$it's $1 'x'$$`, `select ?`, 1},
		{"dollar tag", `SELECT $fn$ a $$ b $fn$ || 'c'`, `select ? || ?`, 2},
		{"unterminated string", `SELECT 'abc`, `select ?`, 1},
		{"unterminated dollar", `SELECT $x$abc`, `select ?`, 1},
		{"password placeholder", `ALTER ROLE web WITH PASSWORD '*****'`, `alter role web with password ?`, 1},
		{"v21 password stars", `CREATE USER web WITH PASSWORD *****`, `create user web with password ?`, 1},
		// Numbers.
		{"int", `SELECT 1`, `select ?`, 1},
		{"decimal exponent", `SELECT 1.5e-3, .5, 2.`, `select ?, ?, ?`, 3},
		{"hex number", `SELECT 0x1F`, `select ?`, 1},
		{"glued identifier", `SELECT t1.c2 FROM t1`, `select t1.c2 from t1`, 0},
		{"unary minus after op", `SELECT a FROM t WHERE a = -1 AND b > -2.5`, `select a from t where a = ? and b > ?`, 2},
		{"unary minus after paren comma", `SELECT f(-1, -2)`, `select f(?, ?)`, 2},
		{"unary minus after keyword", `SELECT -1 LIMIT -5`, `select ? limit ?`, 2},
		{"binary minus", `SELECT a-1, (b)-2, 3-4`, `select a-?, (b)-?, ?-?`, 4},
		{"binary minus spaced", `UPDATE t SET balance = balance - $1 WHERE id = $2`, `update t set balance = balance - ? where id = ?`, 2},
		// Placeholders and casts.
		{"placeholders", `SELECT * FROM t WHERE a = $1 AND b = $12`, `select * from t where a = ? and b = ?`, 2},
		{"django template", `INSERT INTO "t" ("a", "b") VALUES (%s, %s)`, `insert into t (a, b) values (?, ?)`, 2},
		{"cast keeps type", `SELECT '1'::STRING, $1::INT8, 'x'::BYTES`, `select ?::string, ?::int8, ?::bytes`, 3},
		{"array cast", `SELECT ARRAY['a','b']::STRING[]`, `select array[?]::string[]`, 2},
		// Identifiers.
		{"quoted simple", `SELECT "ssn" FROM "clinic_patient"`, `select ssn from clinic_patient`, 0},
		{"quoted kept", `SELECT "Full Name", "a""b" FROM "T"`, `select "Full Name", "a""b" from "T"`, 0},
		{"django qualified", `SELECT "clinic_patient"."ssn" FROM "clinic_patient" WHERE "clinic_patient"."id" = 7`,
			`select clinic_patient.ssn from clinic_patient where clinic_patient.id = ?`, 1},
		{"keywords lower", `SeLeCt A FROM B`, `select a from b`, 0},
		{"empty prefix", `SELECT * FROM ""."".patients`, `select * from patients`, 0},
		{"empty catalog only", `SELECT * FROM "".public.patients`, `select * from public.patients`, 0},
		{"qualified kept", `SELECT * FROM clinic.public.patients`, `select * from clinic.public.patients`, 0},
		{"bool literals", `SELECT * FROM t WHERE a = true AND b IS NOT NULL AND c = FALSE`, `select * from t where a = ? and b is not null and c = ?`, 2},
		// Markers.
		{"marker literal", `SELECT * FROM t WHERE name = ‹'Okafor'›`, `select * from t where name = ?`, 1},
		{"marker names", `SELECT ‹name› FROM ‹""›.‹""›.‹users› WHERE ‹id› = ‹5›`, `select name from users where id = ?`, 1},
		{"marker whole statement", `‹DELETE FROM "".""."sessions" WHERE token = 'abc'›`, `delete from sessions where token = ?`, 1},
		{"marker split join", `SELECT ‹12›‹34›, ‹'ab›‹cd'›`, `select ?, ?`, 2},
		{"redacted at sink", `SELECT * FROM t WHERE id = ‹×› AND x = ×`, `select * from t where id = ? and x = ?`, 2},
		{"tautology", `SELECT * FROM t WHERE (a = ‹1›) OR (‹1› = ‹1›)`, `select * from t where (a = ?) or (? = ?)`, 3},
		// Lists.
		{"in list", `SELECT * FROM t WHERE id IN (1, 2, 3)`, `select * from t where id in (?)`, 3},
		{"in list mixed", `SELECT * FROM t WHERE id IN (1, 2, a, 3, 4)`, `select * from t where id in (?, a, ?)`, 4},
		{"not in tuples", `SELECT * FROM t WHERE (a, b) NOT IN ((1, 2), (3, 4))`, `select * from t where (a, b) not in ((?, ?))`, 4},
		{"in subquery", `SELECT * FROM t WHERE id IN (SELECT a FROM u WHERE b IN (1,2))`, `select * from t where id in (select a from u where b in (?))`, 2},
		{"in casts", `SELECT * FROM t WHERE id IN (‹1›::INT8, ‹2›::INT8)`, `select * from t where id in (?::int8)`, 2},
		{"values rows", `INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')`, `insert into t (a, b) values (?, ?)`, 6},
		{"values default", `INSERT INTO t VALUES (1, DEFAULT), (2, 3)`, `insert into t values (?, default), (?, ?)`, 3},
		{"values then clause", `INSERT INTO t (a) VALUES (1), (2) ON CONFLICT (a) DO NOTHING RETURNING a`, `insert into t (a) values (?) on conflict (a) do nothing returning a`, 2},
		{"values subquery", `SELECT * FROM (VALUES (1), (2)) AS v (x)`, `select * from (values (?)) as v (x)`, 2},
		{"array", `SELECT ARRAY[1, 2, 3]`, `select array[?]`, 3},
		{"function args kept", `SELECT coalesce(a, a), f(1, 2)`, `select coalesce(a, a), f(?, ?)`, 2},
		// Comments and whitespace.
		{"line comment", "SELECT 1 -- hi\nFROM t", `select ? from t`, 1},
		{"block comment", `SELECT /* x */ 1/*y*/FROM t`, `select ? from t`, 1},
		{"nested comment", `SELECT /* a /* b */ c */ 1`, `select ?`, 1},
		{"unterminated comment", `SELECT 1 /* x`, `select ?`, 1},
		{"sqlcommenter", `SELECT id FROM u WHERE id = 42 /*controller='a%3Ab',route='x/'*/`, `select id from u where id = ?`, 1},
		{"whitespace", "  SELECT\n\ta ,b\r\n FROM   t ( x )  ", `select a, b from t (x)`, 0},
		{"comma spacing", `SELECT f(a,b)`, `select f(a, b)`, 0},
		{"trailing semicolons", `SELECT 1;;`, `select ?`, 1},
		{"inner semicolon", `SELECT 1; SELECT 2;`, `select ?; select ?`, 2},
		// Garbage.
		{"empty", ``, ``, 0},
		{"only markers", `‹›`, ``, 0},
		{"lone dollar", `SELECT $ a $`, `select $ a $`, 0},
		{"invalid utf8", "SELECT \xff\xfe 'a'", "select \xff\xfe ?", 1},
		{"lone quote ident", `SELECT "abc`, `select abc`, 0},
		{"operators", `SELECT a->>'k', b @> c, d <> e, f != g, h::INT, i || j`, `select a->>?, b @> c, d <> e, f != g, h::int, i || j`, 1},
	}
	a := NewAnalyzer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Analyze([]byte(tt.in))
			require.Equal(t, tt.want, string(r.Fingerprint))
			require.Equal(t, tt.lits, r.Literals)
			require.Equal(t, xxhash.Sum64String(tt.want), r.Hash)
			fp, h := a.Fingerprint([]byte(tt.in))
			require.Equal(t, tt.want, string(fp), "Fingerprint differs from Analyze")
			require.Equal(t, r.Hash, h)
		})
	}
}

// TestFingerprintEquivalence checks that renderings CockroachDB and Django
// produce for the same statement shape share one fingerprint.
func TestFingerprintEquivalence(t *testing.T) {
	groups := []struct {
		name  string
		stmts []string
	}{
		{"empty prefix and markers", []string{
			`SELECT * FROM ""."".patients WHERE id = ‹5›`,
			`SELECT * FROM patients WHERE id = 6`,
			`SELECT * FROM ‹patients› WHERE id = $1`,
			`‹SELECT * FROM "".""."patients" WHERE id = 7›`,
			`select * from "patients" where "id" = 8;`,
		}},
		{"in list length", []string{
			`SELECT * FROM t WHERE id IN (1)`,
			`SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5)`,
			`SELECT * FROM t WHERE id IN ($1, $2)`,
		}},
		{"bulk insert rows", []string{
			`INSERT INTO t (a, b) VALUES (1, 'x')`,
			`INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')`,
			`INSERT INTO "t" ("a", "b") VALUES (%s, %s)`,
		}},
	}
	a := NewAnalyzer()
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			want := string(a.Analyze([]byte(g.stmts[0])).Fingerprint)
			for _, s := range g.stmts[1:] {
				require.Equal(t, want, string(a.Analyze([]byte(s)).Fingerprint), s)
			}
		})
	}
}
