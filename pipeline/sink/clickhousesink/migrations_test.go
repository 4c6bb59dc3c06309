package clickhousesink

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"roachwatch/schemas"
)

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := LoadMigrations(schemas.ClickHouse, schemas.ClickHouseMigrations)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ms), 6)
	require.Equal(t, "schema_migrations", ms[0].Name, "the ledger comes first")
	for i, m := range ms {
		require.Equal(t, i+1, m.Version)
		require.Len(t, m.Checksum, 64)
		for _, v := range []templateVars{
			{Database: "roachwatch", TTLDays: 90},
			{Database: "rw", Cluster: "prod", Replicated: true, TTLDays: 0},
		} {
			stmts, err := m.statements(v)
			require.NoError(t, err, m.File)
			require.NotEmpty(t, stmts, m.File)
			for _, st := range stmts {
				require.NotContains(t, st, "{{", m.File)
				require.True(t, rerunnable(st), "%s: every statement must be re-runnable:\n%s", m.File, st)
				if v.Cluster != "" {
					require.Contains(t, st, "ON CLUSTER prod", m.File)
				}
			}
		}
	}
}

// rerunnable reports whether a migration statement can run twice: CREATE
// ... IF NOT EXISTS, or an ALTER whose every MODIFY COLUMN is IF EXISTS (a
// column set to the type and codec it already has is left alone).
func rerunnable(st string) bool {
	if strings.Contains(st, "IF NOT EXISTS") {
		return true
	}
	body := strings.TrimSpace(stripComments(strings.ToUpper(st)))
	if !strings.HasPrefix(body, "ALTER TABLE ") {
		return false
	}
	n := strings.Count(body, "MODIFY COLUMN ")
	return n > 0 && n == strings.Count(body, "MODIFY COLUMN IF EXISTS ") &&
		!strings.Contains(body, " DROP ") && !strings.Contains(body, " ADD ")
}

func stripComments(st string) string {
	var b strings.Builder
	for _, line := range strings.Split(st, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestLoadMigrationsOrderAndNames(t *testing.T) {
	fs := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS {{db}}.b (x UInt8) ENGINE = Memory;")},
		"m/0001_a.sql": {Data: []byte("CREATE DATABASE IF NOT EXISTS {{db}};")},
		"m/README.md":  {Data: []byte("not a migration")},
	}
	ms, err := LoadMigrations(fs, "m")
	require.NoError(t, err)
	require.Equal(t, []string{"0001_a.sql", "0002_b.sql"}, []string{ms[0].File, ms[1].File})
	require.Equal(t, "a", ms[0].Name)

	// The checksum is over the file as written: editing it changes the sum.
	fs["m/0002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS {{db}}.b (x UInt16) ENGINE = Memory;")}
	ms2, err := LoadMigrations(fs, "m")
	require.NoError(t, err)
	require.Equal(t, ms[0].Checksum, ms2[0].Checksum)
	require.NotEqual(t, ms[1].Checksum, ms2[1].Checksum)

	for name, files := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {Data: []byte("x;")}, "m/0003_c.sql": {Data: []byte("x;")}},
		"duplicate": {"m/0001_a.sql": {Data: []byte("x;")}, "m/0001_b.sql": {Data: []byte("x;")}},
		"bad name":  {"m/1_a.sql": {Data: []byte("x;")}},
		"empty":     {"m/x.txt": {Data: []byte("x")}},
	} {
		_, err := LoadMigrations(files, "m")
		require.Error(t, err, name)
	}
}

func TestRender(t *testing.T) {
	single := templateVars{Database: "roachwatch", TTLDays: 90}
	repl := templateVars{Database: "rw", Cluster: "main", Replicated: true}
	cases := []struct {
		in           string
		vars         templateVars
		want, errMsg string
	}{
		{"CREATE DATABASE {{db}} {{on_cluster}}", single, "CREATE DATABASE roachwatch ", ""},
		{"CREATE DATABASE {{db}} {{on_cluster}}", repl, "CREATE DATABASE rw ON CLUSTER main", ""},
		{"ENGINE = {{engine:ReplacingMergeTree(ingest_time)}}", single, "ENGINE = ReplacingMergeTree(ingest_time)", ""},
		{"ENGINE = {{engine:ReplacingMergeTree(ingest_time)}}", repl,
			"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingest_time)", ""},
		{"ENGINE = {{engine:AggregatingMergeTree}}", repl,
			"ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')", ""},
		{"{{ttl:toDateTime(time)}}", single, "TTL toDateTime(time) + INTERVAL 90 DAY", ""},
		{"{{ttl:toDateTime(time)}}", repl, "", ""},
		{"{{engine:Memory}}", single, "", "not a MergeTree engine"},
		{"{{dbname}}", single, "", "unknown placeholder {{dbname}}"},
		{"{{ttl}}", single, "", "needs the time expression"},
		{"SELECT {since:DateTime64(9)}", single, "SELECT {since:DateTime64(9)}", ""},
	}
	for _, tc := range cases {
		got, err := render(tc.in, tc.vars)
		if tc.errMsg != "" {
			require.ErrorContains(t, err, tc.errMsg, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestSplitStatements(t *testing.T) {
	sql := `-- header; with a semicolon
CREATE TABLE a (s String DEFAULT ';') ENGINE = Memory;
/* block; comment */
SELECT 'it''s; fine', "we;ird", ` + "`co;l`" + ` FROM a; -- trailing; comment
-- only a comment;
SELECT replaceRegexpOne(s, '\\;', '') FROM a`
	got := splitStatements(sql)
	require.Len(t, got, 3, strings.Join(got, "\n---\n"))
	require.True(t, strings.HasPrefix(got[0], "-- header; with a semicolon\nCREATE TABLE a"))
	require.True(t, strings.HasSuffix(got[0], "ENGINE = Memory"))
	require.Contains(t, got[1], `"we;ird"`)
	require.Contains(t, got[2], `'\\;'`)
}
