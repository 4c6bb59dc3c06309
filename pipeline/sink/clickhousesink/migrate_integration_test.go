//go:build integration

package clickhousesink_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/chenv"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/schemas"
)

// TestMigrate covers a fresh database, the no-op re-run, the dry run and
// the refusal to run over an edited migration, over both protocols.
func TestMigrate(t *testing.T) {
	ms, err := clickhousesink.LoadMigrations(schemas.ClickHouse, schemas.ClickHouseMigrations)
	require.NoError(t, err)
	for _, protocol := range []string{clickhousesink.ProtocolNative, clickhousesink.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			ctx := context.Background()
			env := chenv.Server(t)
			// A database name that does not exist yet: Migrate creates it.
			db := env.TempDatabase(t, "rw_migrate") + "_new"
			admin := env.Open(t, "default")
			t.Cleanup(func() { _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" SYNC") })
			s, err := clickhousesink.Open(ctx, testConfig(t, env, protocol, db), testLogger(t))
			require.NoError(t, err)
			defer s.Close()

			// Writing before migrating is a permanent error that says what to do.
			err = s.WriteEvents(ctx, []event.Event{{ID: "x", Time: 1, Source: "crdb", Type: "t"}})
			require.ErrorIs(t, err, clickhousesink.ErrPermanent)
			require.ErrorContains(t, err, "run `analyze migrate` first")

			// Dry run on a fresh server: prints every migration, creates nothing.
			var out bytes.Buffer
			pending, err := s.Migrate(ctx, true, &out)
			require.NoError(t, err)
			require.Len(t, pending, len(ms))
			require.Contains(t, out.String(), "CREATE TABLE IF NOT EXISTS "+db+".events")
			require.Contains(t, out.String(), "TTL toDateTime(time) + INTERVAL 3650 DAY")
			require.NotContains(t, out.String(), "{{")
			var n uint64
			require.NoError(t, admin.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&n))
			require.Zero(t, n, "dry run must not create the database")

			// Fresh apply.
			out.Reset()
			applied, err := s.Migrate(ctx, false, &out)
			require.NoError(t, err, out.String())
			require.Len(t, applied, len(ms))
			for _, table := range []string{"schema_migrations", "events", "findings", "baselines", "principal_hourly",
				"fingerprint_seen", "client_seen", "principal_hourly_mv", "v_findings", "v_sensitive_access", "v_non_tls_sessions",
				"v_principal_hourly", "v_fingerprints", "v_client_addresses", "v_failed_auths", "v_open_findings"} {
				require.NoError(t, admin.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", db, table).Scan(&n))
				require.EqualValues(t, 1, n, "table %s", table)
			}
			var engine string
			require.NoError(t, admin.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = 'events'", db).Scan(&engine))
			require.Equal(t, "ReplacingMergeTree", engine)

			// Re-apply: a no-op that says so.
			out.Reset()
			applied, err = s.Migrate(ctx, false, &out)
			require.NoError(t, err)
			require.Empty(t, applied)
			require.Contains(t, out.String(), "up to date")
			out.Reset()
			pending, err = s.Migrate(ctx, true, &out)
			require.NoError(t, err)
			require.Empty(t, pending)
			require.Empty(t, out.String())
			require.NoError(t, admin.QueryRow(ctx, "SELECT count() FROM "+db+".schema_migrations FINAL").Scan(&n))
			require.EqualValues(t, len(ms), n)

			// An edited migration (simulated by changing its recorded
			// checksum) is refused, naming the file.
			require.NoError(t, admin.Exec(ctx, "INSERT INTO "+db+".schema_migrations (version, name, checksum, applied_at) "+
				"SELECT version, name, 'deadbeef0000', now64(3) + 1 FROM "+db+".schema_migrations FINAL WHERE version = 2"))
			_, err = s.Migrate(ctx, false, &out)
			require.ErrorIs(t, err, clickhousesink.ErrMigrationEdited)
			require.Contains(t, err.Error(), "0002_events.sql")
			_, err = s.Migrate(ctx, true, &out)
			require.ErrorIs(t, err, clickhousesink.ErrMigrationEdited, "dry run refuses too")

			// A version this binary does not know is refused as well.
			require.NoError(t, admin.Exec(ctx, "INSERT INTO "+db+".schema_migrations (version, name, checksum, applied_at) VALUES (2, 'events', ?, now64(3) + 2)", ms[1].Checksum))
			require.NoError(t, admin.Exec(ctx, "INSERT INTO "+db+".schema_migrations (version, name, checksum, applied_at) VALUES (999, 'future', 'x', now64(3))"))
			_, err = s.Migrate(ctx, false, &out)
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), "version 0999"), err.Error())
		})
	}
}
