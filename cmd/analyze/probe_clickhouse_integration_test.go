//go:build integration

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/internal/cli"
	"roachwatch/internal/testenv/chenv"
)

// probeRoot runs analyze with the probe, migrate and query commands.
func probeRoot(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRoot()
	root.AddCommand(newProbeCmd(), newMigrateCmd(), newQueryCmd())
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), cli.Code(err)
}

// `analyze probe` with clickhouse.enabled writes the schema results to
// catalog_columns (after the catalog file) and its findings to findings;
// a second probe on the same day adds no finding and keeps one verdict
// per column.
func TestProbeWritesClickHouse(t *testing.T) {
	env := chenv.Server(t)
	host, port, pgdb, certs := probeEnv(t)
	require.NotEmpty(t, os.Getenv("ROACHWATCH_TEST_PG_PORT_EXPIRED"), "scripts/pg-tls.sh env sets every port")
	db := env.TempDatabase(t, "rw_probe")
	t.Setenv("ROACHWATCH_CLICKHOUSE_ENABLED", "true")
	t.Setenv("ROACHWATCH_CLICKHOUSE_ADDR", env.NativeAddr)
	t.Setenv("ROACHWATCH_CLICKHOUSE_PROTOCOL", "native")
	t.Setenv("ROACHWATCH_CLICKHOUSE_DATABASE", db)
	t.Setenv("ROACHWATCH_CLICKHOUSE_USERNAME", "default")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TLS_ENABLED", "false")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TTL_DAYS", "0")
	t.Setenv("RW_PROBE_PW", "rw_probe-pw")

	dir := t.TempDir()
	catFile := filepath.Join(dir, "catalog.probe.json")
	cfgFile := filepath.Join(dir, "roachwatch.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(`
probe:
  app_roles: [app_owner, app_web]
  catalog_file: `+catFile+`
  endpoints:
    - name: pg-main
      host: `+host+`
      port: `+port+`
      database: `+pgdb+`
      user: rw_probe
      password_env: RW_PROBE_PW
      sslrootcert: `+filepath.Join(certs, "ca.crt")+`
    - name: pg-expired
      host: `+host+`
      port: `+os.Getenv("ROACHWATCH_TEST_PG_PORT_EXPIRED")+`
      database: `+pgdb+`
      user: rw_probe
      password_env: RW_PROBE_PW
      sslrootcert: `+filepath.Join(certs, "ca.crt")+`
`), 0o600))

	// Before the schema exists the probe still prints, then fails.
	stdout, stderr, code := probeRoot(t, "--config", cfgFile, "probe")
	require.Equal(t, cli.ExitFailure, code, stderr)
	require.Contains(t, stdout, "RW-CRYPTO-002")
	require.Contains(t, stdout+stderr, "run `analyze migrate` first")
	_, err := os.Stat(catFile)
	require.NoError(t, err, "the catalog file is written before ClickHouse")

	_, stderr, code = probeRoot(t, "--config", cfgFile, "migrate")
	require.Equal(t, cli.ExitOK, code, stderr)

	findingsFile := filepath.Join(dir, "findings.jsonl")
	stdout, stderr, code = probeRoot(t, "--config", cfgFile, "probe", "--output", findingsFile)
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, "clickhouse:     9 catalog column(s) and 10 finding(s) written to "+db)
	printed := readFindings(t, findingsFile)
	require.Len(t, printed, 10)

	conn := env.Open(t, db)
	ctx := context.Background()
	strs := func(q string) []string {
		t.Helper()
		rows, err := conn.Query(ctx, q)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return out
	}
	wantPlain := []string{
		"pg-main|shop|postgresql|app.customers.card_number|character varying",
		"pg-main|shop|postgresql|app.customers.date_of_birth|date",
		"pg-main|shop|postgresql|app.customers.passport_number|bytea",
		"pg-main|shop|postgresql|app.customers.ssn|text",
	}
	plainQuery := "SELECT concat(endpoint, '|', database, '|', toString(database_kind), '|', qualified, '|', data_type) " +
		"FROM v_catalog_plaintext ORDER BY qualified"
	require.Equal(t, wantPlain, strs(plainQuery))
	require.Equal(t, []string{
		"app.customers.api_token encrypted", "app.customers.card_number plaintext", "app.customers.date_of_birth plaintext",
		"app.customers.iban encrypted", "app.customers.passport_number plaintext", "app.customers.password hashed",
		"app.customers.ssn plaintext", "app.customers.tax_id encrypted",
	}, slices.DeleteFunc(strs("SELECT concat(schema, '.', table, '.', column, ' ', toString(verdict)) FROM catalog_columns FINAL ORDER BY 1"),
		func(s string) bool { return strings.HasSuffix(s, " empty") }))

	// The findings table holds exactly the printed findings, one version each.
	wantFindings := []string{
		"RW-CRYPTO-002|high|column:app.customers.card_number",
		"RW-CRYPTO-002|high|column:app.customers.date_of_birth",
		"RW-CRYPTO-002|high|column:app.customers.ssn",
		"RW-CRYPTO-002|medium|column:app.customers.passport_number",
		"RW-PRIV-002|critical|role:app_owner:member:admin",
		"RW-PRIV-002|high|role:app_owner:all:app.customers",
		"RW-PRIV-002|high|role:app_owner:audit:app.audit_log",
		"RW-PRIV-002|high|role:app_owner:createrole",
		"RW-PRIV-002|medium|role:app_owner:createdb",
		"RW-TLS-003|high|cert:expired",
	}
	findingsQuery := "SELECT concat(rule_id, '|', toString(severity), '|', details['check']) FROM v_findings ORDER BY 1"
	got := strs(findingsQuery)
	var want []string
	for _, f := range printed {
		want = append(want, f.RuleID+"|"+f.Severity.String()+"|"+f.Details["check"])
	}
	slices.Sort(want)
	require.Equal(t, want, got, "ClickHouse holds what was printed")
	require.Equal(t, wantFindings, got)
	require.Equal(t, []string{"open|roachwatch|pg-expired", "open|roachwatch|pg-main"},
		strs("SELECT DISTINCT concat(toString(status), '|', updated_by, '|', details['endpoint']) FROM v_findings ORDER BY 1"))

	// Probing again: same finding ids (stable per day), a newer verdict per
	// column, the same plaintext columns.
	_, stderr, code = probeRoot(t, "--config", cfgFile, "probe")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Equal(t, wantFindings, strs(findingsQuery))
	require.Equal(t, wantPlain, strs(plainQuery))
	require.Equal(t, []string{"2"}, strs("SELECT toString(uniqExact(probed_at)) FROM catalog_columns"))

	// The analyst query over the view.
	out, stderr, code := probeRoot(t, "--config", cfgFile, "query", "plaintext_columns", "--since", "2000-01-01", "--format", "csv")
	require.Equal(t, cli.ExitOK, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, out)
	require.True(t, strings.HasPrefix(lines[0], "column,endpoint,database,database_kind,data_type,classes,"), lines[0])
	require.True(t, strings.HasPrefix(lines[4], "app.customers.ssn,pg-main,shop,postgresql,text,"), lines[4])

	// No sampled value reached ClickHouse.
	dump := strings.Join(strs("SELECT toString(tuple(*)) FROM catalog_columns"), "\n") + "\n" +
		strings.Join(strs("SELECT toString(tuple(*)) FROM findings"), "\n")
	require.NotContains(t, dump, "rw_probe-pw")
	assertNoSeedValue(t, host, port, pgdb, certs, dump)
}

func readFindings(t *testing.T, path string) []detectors.Finding {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []detectors.Finding
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var fd detectors.Finding
		require.NoError(t, json.Unmarshal(sc.Bytes(), &fd))
		out = append(out, fd)
	}
	require.NoError(t, sc.Err())
	return out
}
