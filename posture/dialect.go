package posture

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Flavor is the server family behind a pgwire endpoint.
type Flavor string

// The flavors the probe knows. Unknown pgwire servers are treated as
// PostgreSQL (information_schema and pg_catalog only).
const (
	FlavorPostgreSQL  Flavor = "postgresql"
	FlavorCockroachDB Flavor = "cockroachdb"
)

var crdbVersion = regexp.MustCompile(`CockroachDB \w+ (v\d+\.\d+[^\s]*)`)
var pgVersion = regexp.MustCompile(`^PostgreSQL (\d+(?:\.\d+)?)`)

// DetectFlavor reads the result of SELECT version(): CockroachDB answers
// "CockroachDB CCL v24.1.0 (x86_64-pc-linux-gnu, ...)", PostgreSQL
// "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, ...".
// It returns the flavor and the release ("v24.1.0", "15.18"; "" when not
// recognized).
func DetectFlavor(version string) (Flavor, string) {
	if m := crdbVersion.FindStringSubmatch(version); m != nil {
		return FlavorCockroachDB, m[1]
	}
	if strings.Contains(version, "CockroachDB") {
		return FlavorCockroachDB, ""
	}
	if m := pgVersion.FindStringSubmatch(version); m != nil {
		return FlavorPostgreSQL, m[1]
	}
	return FlavorPostgreSQL, ""
}

// Queries are the catalog statements of one flavor. information_schema
// serves both; CockroachDB-only statements (SHOW ..., crdb_internal) are
// empty for PostgreSQL and PostgreSQL-only functions (pg_has_role,
// has_table_privilege) empty for CockroachDB.
type Queries struct {
	// Columns lists (schema, table, column, data_type) of user tables.
	Columns string
	// AsOf is appended after the table of a sample SELECT: a historical
	// read that does not contend with the application (CockroachDB).
	AsOf []string
	// ReadOnlyTx wraps samples in BEGIN READ ONLY (PostgreSQL; CockroachDB
	// forbids AS OF SYSTEM TIME inside a transaction not begun with it).
	ReadOnlyTx bool
	// RoleAttrs returns (superuser, createrole, createdb) of role $1.
	RoleAttrs string
	// Memberships returns the roles of $2 (text[]) that role $1 is a
	// member of (directly or through other roles).
	Memberships string
	// TablePrivileges returns (schema, table, privilege) rows for role $1
	// on every user table; owners get the row privilege "OWNER".
	TablePrivileges string
	// Settings are SHOW statements whose single value is recorded.
	Settings map[string]string
}

const systemSchemas = `('pg_catalog','information_schema','crdb_internal','pg_extension','pg_toast')`

// QueriesFor returns the statements for flavor f.
func QueriesFor(f Flavor) Queries {
	q := Queries{Columns: `SELECT table_schema, table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema NOT IN ` + systemSchemas + `
ORDER BY table_schema, table_name, ordinal_position`}
	if f == FlavorCockroachDB {
		q.AsOf = []string{"AS OF SYSTEM TIME follower_read_timestamp()", "AS OF SYSTEM TIME '-10s'"}
		q.RoleAttrs = `SELECT false, COALESCE(options::STRING, '') LIKE '%CREATEROLE%', COALESCE(options::STRING, '') LIKE '%CREATEDB%'
FROM [SHOW ROLES] WHERE username = $1`
		q.Memberships = `SELECT DISTINCT role_name FROM [SHOW GRANTS ON ROLE] WHERE member = $1 AND role_name = ANY($2::STRING[])`
		q.TablePrivileges = `SELECT schema_name, table_name, privilege_type FROM [SHOW GRANTS ON TABLE *]
WHERE grantee = $1 OR grantee IN (SELECT role_name FROM [SHOW GRANTS ON ROLE] WHERE member = $1)`
		q.Settings = map[string]string{
			"server.host_based_authentication.configuration": "SHOW CLUSTER SETTING server.host_based_authentication.configuration",
			"version": "SHOW CLUSTER SETTING version",
		}
		return q
	}
	q.ReadOnlyTx = true
	q.RoleAttrs = `SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_catalog.pg_roles WHERE rolname = $1`
	q.Memberships = `SELECT r.rolname FROM pg_catalog.pg_roles r
WHERE r.rolname = ANY($2::text[]) AND r.rolname <> $1 AND pg_has_role($1, r.oid, 'MEMBER')`
	q.TablePrivileges = `SELECT n.nspname, c.relname, p.priv
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER','OWNER']) AS p(priv)
WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ` + systemSchemas + `
  AND CASE WHEN p.priv = 'OWNER' THEN pg_has_role($1, c.relowner, 'USAGE')
           ELSE has_table_privilege($1, c.oid, p.priv) END
ORDER BY 1, 2, 3`
	// ssl_* settings need pg_read_all_settings: the handshakes tell more
	// than the settings, so the probe role does without.
	return q
}

// sampleQuery renders the bounded sample of cols (already rendered select
// expressions) from schema.table; asOf is "" or a CockroachDB AS OF
// SYSTEM TIME clause.
func sampleQuery(schema, table string, cols []string, asOf string, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString(" FROM ")
	b.WriteString(pgx.Identifier{schema, table}.Sanitize())
	if asOf != "" {
		b.WriteString(" ")
		b.WriteString(asOf)
	}
	b.WriteString(" LIMIT ")
	b.WriteString(strconv.Itoa(limit))
	return b.String()
}

// selectExpr renders how a column is sampled: binary types raw (their
// bytes are classified), everything else as text.
func selectExpr(column, dataType string) string {
	id := pgx.Identifier{column}.Sanitize()
	if isBinaryType(dataType) {
		return id
	}
	return id + "::TEXT"
}

func isBinaryType(dataType string) bool {
	switch strings.ToLower(dataType) {
	case "bytea", "bytes":
		return true
	}
	return false
}
