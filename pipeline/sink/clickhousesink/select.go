package clickhousesink

import (
	"context"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Select runs one read-only statement for a reader of the store (the audit
// report): sql is a template like the query pack's ({{db}} is the
// configured database), params are its ClickHouse query parameters
// ({name:Type} in the SQL, values as text), and scan reads the rows.
//
// Transient failures are retried like writes. scan is called once per
// attempt with a fresh result, so it must start from scratch each time
// (reset what it accumulates). A scan error that is not transient ends the
// call. what names the read in errors. The rows are closed by Select.
func (s *Store) Select(ctx context.Context, what, sql string, params map[string]string, scan func(driver.Rows) error) error {
	q, err := render(sql, s.vars)
	if err != nil {
		return fmt.Errorf("clickhouse: %s: %w: %w", what, ErrPermanent, err)
	}
	err = s.retry(ctx, what, func(ctx context.Context) error {
		rows, err := s.conn.Query(withParams(ctx, params), q)
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := scan(rows); err != nil {
			return err
		}
		return rows.Err()
	})
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && (ex.Code == codeUnknownTable || ex.Code == codeUnknownDatabase) {
		return fmt.Errorf("clickhouse: %w (is the schema there? run `analyze migrate` first)", err)
	}
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	return nil
}
