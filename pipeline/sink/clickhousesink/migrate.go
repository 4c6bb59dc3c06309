package clickhousesink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrMigrationEdited is returned by Migrate when an applied migration's
// file changed since it was applied.
var ErrMigrationEdited = errors.New("clickhousesink: applied migration was edited")

// appliedMigration is a schema_migrations row.
type appliedMigration struct {
	Version  uint32
	Name     string
	Checksum string
}

// Migrate brings the database up to the embedded migrations, in order,
// and records each in schema_migrations with its checksum. It is
// idempotent: applied migrations are skipped, and every statement is
// CREATE ... IF NOT EXISTS or ALTER TABLE ... MODIFY COLUMN IF EXISTS (to
// a fixed type, a no-op the second time), so a run interrupted half-way is
// finished by the next one.
//
// It refuses to run (ErrMigrationEdited, naming the file) when an applied
// migration's file changed, and when the database has a migration this
// binary does not know. With dryRun it writes the SQL of the pending
// migrations to w and changes nothing; applied then lists what would be
// applied. Otherwise it writes one line per applied migration to w.
//
// Migrate is not safe to run from two processes at once against one
// database; run it once per deploy (analyze migrate).
func (s *Store) Migrate(ctx context.Context, dryRun bool, w io.Writer) (applied []string, err error) {
	ms, err := embedded()
	if err != nil {
		return nil, err
	}
	done, err := s.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	byVersion := map[int]Migration{}
	for _, m := range ms {
		byVersion[m.Version] = m
	}
	for _, a := range done {
		m, ok := byVersion[int(a.Version)]
		if !ok {
			return nil, fmt.Errorf("clickhouse migrate: %s.schema_migrations records version %04d (%s), which this binary does not have: run a newer roachwatch", s.cfg.Database, a.Version, a.Name)
		}
		if m.Checksum != a.Checksum {
			return nil, fmt.Errorf("%w: schemas/clickhouse/%s was applied with checksum %s but the embedded file has %s; migrations are append-only: restore the file and put the change in a new migration",
				ErrMigrationEdited, m.File, short(a.Checksum), short(m.Checksum))
		}
	}
	for _, m := range ms {
		if _, ok := findApplied(done, m.Version); ok {
			continue
		}
		stmts, err := m.statements(s.vars)
		if err != nil {
			return applied, err
		}
		if dryRun {
			fmt.Fprintf(w, "-- %s (pending, checksum %s)\n", m.File, short(m.Checksum))
			for _, st := range stmts {
				fmt.Fprintf(w, "%s;\n\n", st)
			}
			applied = append(applied, m.File)
			continue
		}
		start := time.Now()
		for i, st := range stmts {
			err := s.retry(ctx, fmt.Sprintf("migration %s statement %d", m.File, i+1), func(ctx context.Context) error {
				return s.conn.Exec(ctx, st)
			})
			if err != nil {
				return applied, fmt.Errorf("clickhouse migrate: %w\n%s", err, st)
			}
		}
		err = s.retry(ctx, "recording migration "+m.File, func(ctx context.Context) error {
			return s.conn.Exec(ctx, "INSERT INTO "+s.table("schema_migrations")+" (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
				uint32(m.Version), m.Name, m.Checksum, time.Now().UTC())
		})
		if err != nil {
			return applied, fmt.Errorf("clickhouse migrate: %w", err)
		}
		applied = append(applied, m.File)
		fmt.Fprintf(w, "applied %s (%d statements, %s)\n", m.File, len(stmts), time.Since(start).Round(time.Millisecond))
		s.log.Info("clickhouse migration applied", "file", m.File, "statements", len(stmts))
	}
	if len(applied) == 0 && !dryRun {
		fmt.Fprintf(w, "%s is up to date (%d migrations)\n", s.cfg.Database, len(ms))
	}
	return applied, nil
}

// appliedMigrations reads schema_migrations; a missing database or table
// means nothing was applied.
func (s *Store) appliedMigrations(ctx context.Context) ([]appliedMigration, error) {
	var out []appliedMigration
	q := "SELECT version, name, checksum FROM " + s.table("schema_migrations") + " FINAL ORDER BY version"
	err := s.retry(ctx, "reading schema_migrations", func(ctx context.Context) error {
		out = out[:0]
		rows, err := s.conn.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a appliedMigration
			if err := rows.Scan(&a.Version, &a.Name, &a.Checksum); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && (ex.Code == codeUnknownDatabase || ex.Code == codeUnknownTable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("clickhouse migrate: %w", err)
	}
	return out, nil
}

// ClickHouse exception codes Migrate tells apart.
const (
	codeUnknownTable    = 60
	codeUnknownDatabase = 81
)

func findApplied(done []appliedMigration, version int) (appliedMigration, bool) {
	for _, a := range done {
		if int(a.Version) == version {
			return a, true
		}
	}
	return appliedMigration{}, false
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}
