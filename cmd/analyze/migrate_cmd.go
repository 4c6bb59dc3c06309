package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/pipeline/sink/clickhousesink"
)

// newMigrateCmd builds `analyze migrate`: apply the embedded ClickHouse
// migrations (schemas/clickhouse/NNNN_*.sql) to the configured server.
func newMigrateCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "migrate [--dry-run]",
		Short: "Create or upgrade the ClickHouse schema (events, findings, rollups, views) from the embedded migrations",
		Long: `Migrate applies the embedded ClickHouse migrations in order to the server of the clickhouse
config section, and records each in <database>.schema_migrations with its checksum. It is
idempotent: applied migrations are skipped. It refuses to run when an applied migration was
edited (migrations are append-only) or when the database is newer than this binary.

--dry-run prints the SQL of the pending migrations and changes nothing. The SQL is rendered
for the config: database name, ON CLUSTER (clickhouse.cluster), Replicated engines
(clickhouse.replicated) and the TTL (clickhouse.ttl_days).

The clickhouse section is used whether or not clickhouse.enabled is set. The password comes
from clickhouse.password or, better, ROACHWATCH_CLICKHOUSE_PASSWORD.

Exit status: 0 done; 2 bad flags or config; 1 migration failed or refused.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usage(fmt.Errorf("migrate takes no arguments, got %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadClickHouseConfig(cmd)
			if err != nil {
				return err
			}
			log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
			store, err := clickhousesink.Open(cmd.Context(), cfg.ClickHouse, log)
			if err != nil {
				return cli.Usage(err)
			}
			defer store.Close()
			out := cmd.OutOrStdout()
			applied, err := store.Migrate(cmd.Context(), dryRun, out)
			if err != nil {
				return err
			}
			if dryRun {
				if len(applied) == 0 {
					fmt.Fprintf(out, "-- %s is up to date: nothing to apply\n", cfg.ClickHouse.Database)
				} else {
					fmt.Fprintf(out, "-- dry run: %d migration(s) pending, nothing applied\n", len(applied))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the SQL of the pending migrations; apply nothing")
	return cmd
}

// loadClickHouseConfig loads the config named by the root --config flag
// (ROACHWATCH_* env overrides included); errors are usage errors.
func loadClickHouseConfig(cmd *cobra.Command) (config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		return config.Config{}, cli.Usage(err)
	}
	if len(cfg.ClickHouse.Addr) == 0 {
		return config.Config{}, cli.Usage(errors.New("clickhouse.addr: name the ClickHouse server (or set ROACHWATCH_CLICKHOUSE_ADDR)"))
	}
	return cfg, nil
}
