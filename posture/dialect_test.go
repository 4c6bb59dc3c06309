package posture

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/classify"
)

func TestDetectFlavor(t *testing.T) {
	cases := []struct {
		version string
		flavor  Flavor
		release string
	}{
		{"CockroachDB CCL v24.1.0 (x86_64-pc-linux-gnu, built 2024/05/15 21:28:29, go1.22.2 X:nocoverageredesign)", FlavorCockroachDB, "v24.1.0"},
		{"CockroachDB OSS v21.2.17 (x86_64-unknown-linux-gnu, built 2022/10/31 17:20:00, go1.16.6)", FlavorCockroachDB, "v21.2.17"},
		{"CockroachDB CCL v25.3.0-alpha.1 (aarch64-unknown-linux-gnu, built 2025/06/01, go1.23.7)", FlavorCockroachDB, "v25.3.0-alpha.1"},
		{"CockroachDB (unknown build)", FlavorCockroachDB, ""},
		{"PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit", FlavorPostgreSQL, "15.18"},
		{"PostgreSQL 16.4 on aarch64-unknown-linux-musl, compiled by gcc (Alpine 13.2.1_git20240309) 13.2.1 20240309, 64-bit", FlavorPostgreSQL, "16.4"},
		{"PostgreSQL 17devel on x86_64-pc-linux-gnu", FlavorPostgreSQL, "17"},
		{"SomeOtherPgWire 1.0", FlavorPostgreSQL, ""},
	}
	for _, tc := range cases {
		f, rel := DetectFlavor(tc.version)
		require.Equal(t, tc.flavor, f, tc.version)
		require.Equal(t, tc.release, rel, tc.version)
	}
}

// CockroachDB-only statements must never reach PostgreSQL and PostgreSQL
// functions CockroachDB lacks must never reach CockroachDB.
func TestQueriesFor(t *testing.T) {
	crdbOnly := []string{"SHOW CLUSTER SETTING", "crdb_internal.", "SHOW GRANTS", "SHOW ROLES", "AS OF SYSTEM TIME", "::STRING"}
	pgOnly := []string{"pg_has_role", "has_table_privilege", "pg_catalog.pg_roles"}

	all := func(q Queries) string {
		parts := []string{q.Columns, q.RoleAttrs, q.Memberships, q.TablePrivileges}
		parts = append(parts, q.AsOf...)
		for _, s := range q.Settings {
			parts = append(parts, s)
		}
		return strings.Join(parts, "\n")
	}
	pg := QueriesFor(FlavorPostgreSQL)
	crdb := QueriesFor(FlavorCockroachDB)
	for _, s := range crdbOnly {
		require.NotContains(t, all(pg), s)
	}
	for _, s := range pgOnly {
		require.NotContains(t, all(crdb), s)
	}
	require.Equal(t, pg.Columns, crdb.Columns, "information_schema serves both")
	require.Contains(t, pg.Columns, "information_schema.columns")
	require.True(t, pg.ReadOnlyTx)
	require.False(t, crdb.ReadOnlyTx, "AS OF SYSTEM TIME may not run in a transaction begun without it")
	require.Equal(t, []string{"AS OF SYSTEM TIME follower_read_timestamp()", "AS OF SYSTEM TIME '-10s'"}, crdb.AsOf)
	require.Contains(t, crdb.Settings, "server.host_based_authentication.configuration")

	// Flavor from version() selects the queries end to end.
	f, _ := DetectFlavor("CockroachDB CCL v24.1.0 (x86_64-pc-linux-gnu)")
	require.Equal(t, crdb.TablePrivileges, QueriesFor(f).TablePrivileges)
}

func TestSampleQuery(t *testing.T) {
	cols := []string{selectExpr("ssn", "text"), selectExpr("Iban", "BYTES"), selectExpr(`we"ird`, "character varying")}
	require.Equal(t, `SELECT "ssn"::TEXT, "Iban", "we""ird"::TEXT FROM "app"."customers" LIMIT 100`,
		sampleQuery("app", "customers", cols, "", 100))
	require.Equal(t, `SELECT "ssn"::TEXT FROM "public"."users" AS OF SYSTEM TIME '-10s' LIMIT 5`,
		sampleQuery("public", "users", cols[:1], "AS OF SYSTEM TIME '-10s'", 5))
}

func TestVerdictAndValueClasses(t *testing.T) {
	p := New(DefaultConfig(), nil, nil, nil)
	require.Equal(t, classify.ClassSSN, p.classifyValue([]byte("123-45-6789"), false))
	require.Equal(t, classify.ClassCiphertext, p.classifyValue([]byte{0x8f, 0x13, 0xa0, 0x44, 0x01, 0xfe, 0x77, 0x3c, 0x92, 0xd1, 0x5b, 0x06, 0xe8, 0x2a, 0xcc, 0x71}, true))
	require.Equal(t, classify.ClassText, p.classifyValue([]byte("X00000001"), true), "printable bytes are not ciphertext")
	require.Equal(t, classHash, p.classifyValue([]byte("pbkdf2_sha256$600000$abcdefgh$c2FsdHNhbHRzYWx0c2FsdA=="), false))

	require.Equal(t, VerdictPlaintext, verdict(map[string]int{"fernet": 99, "ssn": 1}))
	require.Equal(t, VerdictEncrypted, verdict(map[string]int{"fernet": 50, "ciphertext": 3, "empty": 4}))
	require.Equal(t, VerdictHashed, verdict(map[string]int{string(classHash): 10}))
	require.Equal(t, VerdictEmpty, verdict(map[string]int{}))
}
