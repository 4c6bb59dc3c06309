//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/cli"
	"roachwatch/pipeline/catalog"
)

// probeEnv returns the servers of scripts/pg-tls.sh or skips.
func probeEnv(t *testing.T) (host, port, db, certs string) {
	t.Helper()
	host = os.Getenv("ROACHWATCH_TEST_PG_HOST")
	if host == "" {
		msg := "ROACHWATCH_TEST_PG_HOST not set; run: bash scripts/pg-tls.sh start && eval \"$(bash scripts/pg-tls.sh env)\""
		if os.Getenv("ROACHWATCH_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return host, os.Getenv("ROACHWATCH_TEST_PG_PORT"), os.Getenv("ROACHWATCH_TEST_PG_DATABASE"), os.Getenv("ROACHWATCH_TEST_PG_CERTS")
}

func runAnalyze(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRoot()
	root.AddCommand(newProbeCmd())
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

// The CLI end to end: findings table and JSON, exit codes, the catalog
// file, and no sampled value or password in any output.
func TestProbeCommand(t *testing.T) {
	host, port, db, certs := probeEnv(t)
	dir := t.TempDir()
	t.Setenv("RW_PROBE_PW", "rw_probe-pw")
	catFile := filepath.Join(dir, "catalog.probe.json")
	cfgFile := filepath.Join(dir, "roachwatch.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(`
catalog:
  probe_file: `+catFile+`
probe:
  app_roles: [app_owner, app_web]
  catalog_file: `+catFile+`
  endpoints:
    - name: pg-main
      host: `+host+`
      port: `+port+`
      database: `+db+`
      user: rw_probe
      password_env: RW_PROBE_PW
      sslrootcert: `+filepath.Join(certs, "ca.crt")+`
`), 0o600))

	findings, results := filepath.Join(dir, "findings.jsonl"), filepath.Join(dir, "results.jsonl")
	stdout, stderr, code := runAnalyze(t, "--config", cfgFile, "probe", "--output", findings, "--results-output", results, "--fail-on", "critical")
	require.Equal(t, cli.ExitFindings, code, stderr)
	require.Contains(t, stdout, "RW-PRIV-002")
	require.Contains(t, stdout, "RW-CRYPTO-002")
	require.Contains(t, stdout, "plaintext:    refused_before_auth")
	require.Contains(t, stdout, "TLS 1.3")
	require.Contains(t, stdout, "columns:      9 sensitive (empty: 1, encrypted: 3, hashed: 1, plaintext: 4)")
	require.Contains(t, stderr, "1 finding(s) at or above critical")
	fb, err := os.ReadFile(findings)
	require.NoError(t, err)
	require.Equal(t, 9, strings.Count(string(fb), "\n"))
	rb, err := os.ReadFile(results)
	require.NoError(t, err)
	cb, err := os.ReadFile(catFile)
	require.NoError(t, err)
	p, err := catalog.LoadProbeFile(catFile)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"app.customers.ssn", "app.customers.card_number", "app.customers.date_of_birth", "app.customers.passport_number"}, p.Plaintext)

	// Second run in JSON, with the probe file now loaded by the catalog.
	jout, jerr, code := runAnalyze(t, "--config", cfgFile, "probe", "--format", "json")
	require.Equal(t, cli.ExitOK, code, jerr)
	require.Equal(t, 9, strings.Count(jout, "\n"))
	require.Contains(t, jerr, "Endpoints")

	// Ad-hoc --dsn with the password inside, against the wrong CA: the
	// connection error is printed, the password is not.
	dsn := "host=" + host + " port=" + port + " dbname=" + db + " user=rw_probe password=Sup3rSecretPw sslrootcert=" + filepath.Join(certs, "ca2.crt")
	dout, derr, code := runAnalyze(t, "probe", "--dsn", dsn, "--catalog-file", "", "--fail-on", "high")
	require.Equal(t, cli.ExitFindings, code, derr)
	require.Contains(t, dout, "RW-TLS-003")
	require.Contains(t, dout, "unknown authority")
	for _, s := range []string{dout, derr} {
		require.NotContains(t, s, "Sup3rSecretPw")
		require.NotContains(t, s, "rw_probe-pw")
	}

	all := strings.Join([]string{stdout, stderr, jout, jerr, dout, derr, string(fb), string(rb), string(cb)}, "\n")
	require.NotContains(t, all, "rw_probe-pw")
	assertNoSeedValue(t, host, port, db, certs, all)
}

func assertNoSeedValue(t *testing.T, host, port, db, certs, text string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "host="+host+" port="+port+" dbname="+db+" user=rw_probe password=rw_probe-pw sslmode=verify-full sslrootcert="+filepath.Join(certs, "ca.crt"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT ssn, card_number, date_of_birth::text, convert_from(passport_number, 'UTF8'),
		api_token, tax_id, encode(iban, 'hex'), password FROM app.customers`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		vals := make([]string, 8)
		dest := make([]any, 8)
		for i := range vals {
			dest[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(dest...))
		for _, v := range vals {
			n++
			require.NotContains(t, text, v, "a sampled value leaked (column %d)", n%8)
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 150*8, n, strconv.Itoa(n))
}
