//go:build integration

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/internal/cli"
	"roachwatch/internal/testenv/chenv"
)

// The same run, reported from ClickHouse and from its JSONL files, gives
// the same report: the JSON documents differ only in the name of the
// source.
func TestReportFromClickHouseEqualsJSONL(t *testing.T) {
	env := chenv.Server(t)
	db := env.TempDatabase(t, "rw_report")
	t.Setenv("ROACHWATCH_CLICKHOUSE_ENABLED", "true")
	t.Setenv("ROACHWATCH_CLICKHOUSE_ADDR", env.NativeAddr)
	t.Setenv("ROACHWATCH_CLICKHOUSE_PROTOCOL", "native")
	if env.NativeAddr == "" {
		t.Setenv("ROACHWATCH_CLICKHOUSE_ADDR", env.HTTPAddr)
		t.Setenv("ROACHWATCH_CLICKHOUSE_PROTOCOL", "http")
	}
	t.Setenv("ROACHWATCH_CLICKHOUSE_DATABASE", db)
	t.Setenv("ROACHWATCH_CLICKHOUSE_USERNAME", "default")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TLS_ENABLED", "false")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TTL_DAYS", "0") // loggen's 2025 events are older than any TTL
	t.Setenv("ROACHWATCH_CLICKHOUSE_MAX_RETRIES", "2")
	t.Setenv("ROACHWATCH_CLICKHOUSE_RETRY_BACKOFF", "50ms")
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	_, _, err := clickhouseRoot("migrate")
	require.NoError(t, err)

	gen, _ := generate(t, 3, 2, 3000)
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	b, fs, _ := analyze(t, "--input", filepath.Join(gen, "crdb"), "--input", filepath.Join(gen, "django"), "--events-output", events)
	require.NotEmpty(t, fs)
	findings := filepath.Join(dir, "findings.jsonl")
	require.NoError(t, os.WriteFile(findings, b, 0o644))

	report := func(name string, args ...string) map[string]any {
		out := filepath.Join(dir, name)
		args = append([]string{"--format", "json", "--out", out, "--generated-at", "2025-07-01T00:00:00Z"}, args...)
		require.NoError(t, runReport(t, args...))
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	// The whole run (--until defaults to the newest last_seen), and a
	// period cut inside the data at both ends.
	for _, until := range [][]string{{"--since", "7d"}, {"--since", "18h", "--until", "2025-06-10T12:00:00Z"}} {
		ch := report("clickhouse.json", until...)
		js := report("jsonl.json", append([]string{"--findings", findings, "--events", events}, until...)...)
		// The one intended difference: which source the findings came from.
		require.Equal(t, "clickhouse", ch["data_sources"].(map[string]any)["findings"])
		require.Equal(t, "jsonl", js["data_sources"].(map[string]any)["findings"])
		delete(ch["data_sources"].(map[string]any), "findings")
		delete(js["data_sources"].(map[string]any), "findings")
		require.Equal(t, js, ch, "until %v", until)

		// Not two empty reports: findings and sessions are there.
		require.NotZero(t, ch["summary"].(map[string]any)["findings"])
		tls := ch["tls_posture"].(map[string]any)
		require.Equal(t, "events", tls["from"])
		require.NotZero(t, tls["sessions"])
		require.NotZero(t, tls["non_tls_total"])
		t.Logf("%v: %v findings, %v sessions, %v without TLS (%v listed), %d networks, %d applications",
			until, ch["summary"].(map[string]any)["findings"], tls["sessions"], tls["non_tls_total"], tls["non_tls_listed"],
			len(tls["by_network"].([]any)), len(tls["by_application"].([]any)))
	}
}

// Without --findings the report needs the ClickHouse store enabled; with
// it, --events has no meaning. Both are usage errors, before any server is
// contacted.
func TestReportClickHouseUsage(t *testing.T) {
	t.Setenv("ROACHWATCH_CLICKHOUSE_ENABLED", "false")
	err := runReport(t, "--out", "-")
	require.Equal(t, cli.ExitUsage, cli.Code(err))
	require.ErrorContains(t, err, "clickhouse.enabled")

	t.Setenv("ROACHWATCH_CLICKHOUSE_ENABLED", "true")
	err = runReport(t, "--out", "-", "--events", "events.jsonl")
	require.Equal(t, cli.ExitUsage, cli.Code(err))
	require.ErrorContains(t, err, "--events goes with --findings")

	t.Setenv("ROACHWATCH_CLICKHOUSE_PROTOCOL", "carrier-pigeon")
	err = runReport(t, "--out", "-")
	require.Equal(t, cli.ExitUsage, cli.Code(err))
	require.ErrorContains(t, err, "clickhouse.protocol")
}
