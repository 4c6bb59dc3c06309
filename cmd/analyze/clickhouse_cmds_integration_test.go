//go:build integration

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/internal/testenv/chenv"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink/clickhousesink"
)

// TestMigrateAndQueryCommands runs `analyze migrate` and `analyze query`
// against the harness server, configured through ROACHWATCH_CLICKHOUSE_*
// environment variables only.
func TestMigrateAndQueryCommands(t *testing.T) {
	env := chenv.Server(t)
	db := env.TempDatabase(t, "rw_cli")
	t.Setenv("ROACHWATCH_CLICKHOUSE_ADDR", env.NativeAddr)
	t.Setenv("ROACHWATCH_CLICKHOUSE_PROTOCOL", "native")
	t.Setenv("ROACHWATCH_CLICKHOUSE_DATABASE", db)
	t.Setenv("ROACHWATCH_CLICKHOUSE_USERNAME", "default")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TLS_ENABLED", "false")
	t.Setenv("ROACHWATCH_CLICKHOUSE_TTL_DAYS", "0")
	t.Setenv("ROACHWATCH_CLICKHOUSE_MAX_RETRIES", "1")
	t.Setenv("ROACHWATCH_CLICKHOUSE_RETRY_BACKOFF", "10ms")

	out, _, err := clickhouseRoot("migrate", "--dry-run")
	require.NoError(t, err)
	require.Contains(t, out.String(), "CREATE TABLE IF NOT EXISTS "+db+".events")
	require.NotContains(t, out.String(), "TTL toDateTime", "ttl_days 0 from the environment: no TTL")
	require.Contains(t, out.String(), "nothing applied")

	out, _, err = clickhouseRoot("migrate")
	require.NoError(t, err)
	require.Contains(t, out.String(), "applied 0002_events.sql")
	out, _, err = clickhouseRoot("migrate")
	require.NoError(t, err)
	require.Contains(t, out.String(), "up to date")

	// A few events: two hostnossl sessions and one TLS session.
	cfg, err := config.Load("")
	require.NoError(t, err)
	store, err := clickhousesink.Open(context.Background(), cfg.ClickHouse, nil)
	require.NoError(t, err)
	defer store.Close()
	base := int64(1749470400_000000000) // 2025-06-09 12:00 UTC
	evs := []event.Event{
		{ID: "a1", Time: base, Source: "crdb", Type: "client_authentication_ok", User: "billing_app", ClientAddr: "10.20.4.21", SessionID: "s1", Transport: "hostnossl"},
		{ID: "a2", Time: base + 1e9, Source: "crdb", Type: "query_execute", User: "billing_app", ClientAddr: "10.20.4.21", SessionID: "s1", Transport: "hostnossl",
			SensitiveColumns: []string{"accounts.iban"}},
		{ID: "a3", Time: base + 2e9, Source: "crdb", Type: "client_authentication_ok", User: "psql_user", ClientAddr: "2001:db8::7", SessionID: "s2", Transport: "hostnossl"},
		{ID: "a4", Time: base + 3e9, Source: "crdb", Type: "client_authentication_ok", User: "web", ClientAddr: "10.20.1.5", SessionID: "s3", Transport: "hostssl"},
	}
	require.NoError(t, store.WriteEvents(context.Background(), evs))

	out, _, err = clickhouseRoot("query", "non_tls_sessions", "--since", "2025-06-09", "--until", "2025-06-10", "--format", "csv")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3, out.String())
	require.True(t, strings.HasPrefix(lines[0], "client,user,applications,sessions,events,sensitive_events"), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "10.20.4.21,billing_app,,1,2,1,"), lines[1])
	require.True(t, strings.HasPrefix(lines[2], "2001:db8::7,psql_user,,1,1,0,"), lines[2])

	out, _, err = clickhouseRoot("query", "session_timeline", "--since", "2025-06-09", "--until", "2025-06-10", "--param", "session_id=s1")
	require.NoError(t, err)
	require.Contains(t, out.String(), "(2 rows)")
	require.Less(t, strings.Index(out.String(), "client_authentication_ok"), strings.Index(out.String(), "query_execute"))

	_, _, err = clickhouseRoot("query", "session_timeline", "--since", "2025-06-09", "--until", "2025-06-10")
	require.ErrorContains(t, err, "session_id")
	require.Equal(t, cli.ExitUsage, cli.Code(err))
	_, _, err = clickhouseRoot("query", "no_such_query")
	require.ErrorIs(t, err, clickhousesink.ErrUnknownQuery)

	// The password comes from the environment and never shows: the
	// harness's default user has none, so a wrong one fails to authenticate.
	t.Setenv("ROACHWATCH_CLICKHOUSE_PASSWORD", "s3cr3t-from-env")
	_, stderr, err := clickhouseRoot("query", "non_tls_sessions")
	require.Error(t, err)
	require.NotContains(t, err.Error()+stderr.String(), "s3cr3t-from-env")
	require.Contains(t, strings.ToLower(err.Error()), "authentication failed")
}
