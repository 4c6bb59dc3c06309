package clickhousesink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// CatalogColumn is one sensitive column as `analyze probe` classified it:
// a row of catalog_columns (migration 0007). It holds verdicts and counts
// only, never a sampled value.
type CatalogColumn struct {
	Endpoint     string // probe endpoint name (host:port for --dsn)
	Database     string // database the column lives in
	DatabaseKind string // postgresql or cockroachdb
	Schema       string
	Table        string
	Column       string
	DataType     string         // information_schema data type
	Verdict      string         // plaintext, encrypted, hashed, empty or error
	Classes      map[string]int // sampled values per class
	Sampled      int            // rows sampled from the table
	Nulls        int            // of which NULL in this column
	Error        string         // why the sample failed (verdict error)
	ProbedAt     time.Time      // when the endpoint was probed; the newest probe wins
}

// Qualified is schema.table.column.
func (c *CatalogColumn) Qualified() string { return c.Schema + "." + c.Table + "." + c.Column }

var catalogColumnNames = []string{
	"endpoint", "database", "database_kind", "schema", "table", "column", "data_type", "verdict",
	"classes", "sampled", "nulls", "class_counts", "error", "probed_at",
}

// The values the Enum8 columns of catalog_columns accept.
var (
	databaseKinds   = []string{"postgresql", "cockroachdb"}
	catalogVerdicts = []string{"empty", "plaintext", "encrypted", "hashed", "error"}
)

// catalogRow is one catalog_columns row in catalogColumnNames order, or an
// error for a column the table cannot hold.
func catalogRow(c *CatalogColumn) ([]any, error) {
	var errs []error
	if c.Endpoint == "" || c.Schema == "" || c.Table == "" || c.Column == "" {
		errs = append(errs, errors.New("endpoint, schema, table and column are required"))
	}
	if !slices.Contains(databaseKinds, c.DatabaseKind) {
		errs = append(errs, fmt.Errorf("database kind %q is not one of %v", c.DatabaseKind, databaseKinds))
	}
	if !slices.Contains(catalogVerdicts, c.Verdict) {
		errs = append(errs, fmt.Errorf("verdict %q is not one of %v", c.Verdict, catalogVerdicts))
	}
	if c.ProbedAt.IsZero() {
		errs = append(errs, errors.New("probed_at is required"))
	}
	counts := make(map[string]uint32, len(c.Classes))
	for cl, n := range c.Classes {
		if n > 0 {
			counts[cl] = clampU32(n)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("catalog column %s on %s: %w", c.Qualified(), c.Endpoint, err)
	}
	return []any{
		c.Endpoint, c.Database, c.DatabaseKind, c.Schema, c.Table, c.Column, c.DataType, c.Verdict,
		nonNil(slices.Sorted(maps.Keys(counts))), clampU32(c.Sampled), clampU32(c.Nulls), counts, c.Error, c.ProbedAt.UTC(),
	}, nil
}

func clampU32(n int) uint32 { return uint32(min(max(n, 0), math.MaxUint32)) }

// catalogKey identifies one probe of one column: the sorting key and the
// version of catalog_columns.
func catalogKey(c *CatalogColumn) string {
	return c.Endpoint + "\x1f" + c.Database + "\x1f" + c.Schema + "\x1f" + c.Table + "\x1f" + c.Column +
		"\x1f" + strconv.FormatInt(c.ProbedAt.UnixNano(), 10)
}

// WriteCatalog writes the probe's classification of sensitive columns to
// catalog_columns, with the guarantees of WriteFindings: whole batch or
// error, retries of transient failures, and a deduplication token over the
// rows' keys and probe times, so writing the same probe results again is a
// no-op. A column that cannot be stored (unknown verdict or database kind,
// missing name) fails the whole call with ErrPermanent before anything is
// sent.
func (s *Store) WriteCatalog(ctx context.Context, cols []CatalogColumn) error {
	rows := make([][]any, len(cols))
	for i := range cols {
		r, err := catalogRow(&cols[i])
		if err != nil {
			return fmt.Errorf("clickhouse: writing the column catalog: %w: %w", ErrPermanent, err)
		}
		rows[i] = r
	}
	for start := 0; start < len(cols); start += s.cfg.BatchSize {
		end := min(start+s.cfg.BatchSize, len(cols))
		if err := s.writeCatalog(ctx, cols[start:end], rows[start:end]); err != nil {
			return fmt.Errorf("clickhouse: writing catalog columns %d..%d of %d: %w", start, end-1, len(cols), err)
		}
	}
	return nil
}

func (s *Store) writeCatalog(ctx context.Context, cols []CatalogColumn, rows [][]any) error {
	token := batchToken("catalog_columns", func(yield func(string) bool) {
		for i := range cols {
			if !yield(catalogKey(&cols[i])) {
				return
			}
		}
	})
	return s.insert(ctx, "catalog_columns", catalogColumnNames, token, len(rows), func(b driver.Batch) error {
		for _, r := range rows {
			if err := b.Append(r...); err != nil {
				return err
			}
		}
		return nil
	})
}
