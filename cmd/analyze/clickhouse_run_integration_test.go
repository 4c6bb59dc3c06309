//go:build integration

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/chenv"
)

// The embedded run writes every event and finding to ClickHouse when
// clickhouse.enabled is on, and analysts' queries see them.
func TestEmbeddedRunWritesClickHouse(t *testing.T) {
	env := chenv.Server(t)
	db := env.TempDatabase(t, "rw_run")
	t.Setenv("ROACHWATCH_CLICKHOUSE_ENABLED", "true")
	t.Setenv("ROACHWATCH_CLICKHOUSE_ADDR", env.NativeAddr)
	t.Setenv("ROACHWATCH_CLICKHOUSE_PROTOCOL", "native")
	t.Setenv("ROACHWATCH_CLICKHOUSE_DATABASE", db)
	t.Setenv("ROACHWATCH_CLICKHOUSE_USERNAME", "default")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TLS_ENABLED", "false")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TTL_DAYS", "0") // loggen's 2025 events are older than any TTL
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	_, _, err := clickhouseRoot("migrate")
	require.NoError(t, err)

	dir, _ := generate(t, 21, 1, 2000)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	_, findings, _ := analyze(t, "--input", filepath.Join(dir, "crdb"), "--input", filepath.Join(dir, "django"), "--events-output", events)
	require.NotEmpty(t, findings)

	conn := env.Open(t, db)
	var nEvents, nFindings uint64
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count() FROM events FINAL").Scan(&nEvents))
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT uniqExact(id) FROM findings").Scan(&nFindings))
	require.Equal(t, uint64(len(findings)), nFindings)
	lines, err := countLines(events)
	require.NoError(t, err)
	require.Equal(t, uint64(lines), nEvents, "every event of the run is in ClickHouse, once")

	// A second identical run (a replay) leaves no duplicate.
	analyze(t, "--input", filepath.Join(dir, "crdb"), "--input", filepath.Join(dir, "django"))
	var again uint64
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count() FROM events FINAL").Scan(&again))
	require.Equal(t, nEvents, again)

	out, _, err := clickhouseRoot("query", "findings_by_rule_day", "--since", "2025-06-01", "--until", "2025-07-01", "--format", "csv")
	require.NoError(t, err)
	require.Contains(t, out.String(), "RW-TLS-001", out.String())
	require.Greater(t, len(strings.Split(strings.TrimSpace(out.String()), "\n")), 1, "rows for "+strconv.Itoa(len(findings))+" findings")
}

func countLines(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strings.Count(string(b), "\n"), nil
}
