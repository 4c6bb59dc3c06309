package clickhousesink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"roachwatch/pipeline/sink"
	"roachwatch/schemas"
)

// Store is a connection pool to ClickHouse with roachwatch's schema. It is
// safe for concurrent use; each Write call is one or more INSERTs of its
// own.
type Store struct {
	cfg  Config
	conn driver.Conn
	log  *slog.Logger
	vars templateVars
}

// Open validates cfg and connects. It does not need the database to exist
// (Migrate creates it) and does not wait for the server: a server that is
// down shows up as a transient error of the first write, which is retried.
// The password is never logged. ctx is not used yet: the driver connects
// lazily, on the first statement.
func Open(_ context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: connecting to %v over %s: %w", cfg.Addr, cfg.Protocol, err)
	}
	log = log.With("component", "clickhousesink")
	if !cfg.TLS.Enabled && !allLoopback(cfg.Addr) {
		log.Warn("clickhouse tls is off: credentials and events cross the network in the clear", "addr", cfg.Addr)
	}
	log.Info("clickhouse store opened", "addr", cfg.Addr, "protocol", cfg.Protocol, "database", cfg.Database,
		"user", cfg.Username, "password", cfg.Password, "tls", cfg.TLS.Enabled)
	return &Store{cfg: cfg, conn: conn, log: log, vars: cfg.templateVars()}, nil
}

// Close releases the connections. Writes are synchronous, so there is
// nothing to flush.
func (s *Store) Close() error { return s.conn.Close() }

// Name is the sink's name in metrics and logs.
func (s *Store) Name() string { return "clickhouse" }

var (
	_ sink.Sink  = (*Store)(nil)
	_ sink.Named = (*Store)(nil)
)

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error { return s.conn.Ping(ctx) }

// Config returns the configuration the store was opened with.
func (s *Store) Config() Config { return s.cfg }

// table returns the qualified name of table in the configured database.
func (s *Store) table(name string) string { return s.cfg.Database + "." + name }

// insertSettings are the settings of every INSERT: the deduplication
// token makes a replayed identical batch a no-op, also in the rollups fed
// by materialized views. optimize_on_insert=0 skips the ReplacingMergeTree
// collapse of each inserted block, measured as about half of the server's
// CPU per insert; duplicates inside one batch are collapsed by merges and
// FINAL like any other.
func (s *Store) insertSettings(token string) clickhouse.Settings {
	st := clickhouse.Settings{
		"optimize_on_insert":                                 0,
		"insert_deduplicate":                                 1,
		"insert_deduplication_token":                         token,
		"deduplicate_blocks_in_dependent_materialized_views": 1,
		"low_cardinality_allow_in_native_format":             0,
	}
	if s.cfg.AsyncInsert {
		st["async_insert"] = 1
		st["wait_for_async_insert"] = 1
		st["async_insert_deduplicate"] = 1
	}
	return st
}

// insert runs one INSERT of n rows: prepare, fill, send, with retries.
// fill appends the rows to a fresh batch on every attempt, so a retried
// INSERT carries exactly the same rows and token as the first.
func (s *Store) insert(ctx context.Context, table string, columns []string, token string, n int, fill func(driver.Batch) error) error {
	what := fmt.Sprintf("inserting %d rows into %s", n, table)
	query := "INSERT INTO " + s.table(table) + " (" + joinColumns(columns) + ")"
	err := s.retry(ctx, what, func(ctx context.Context) error {
		qctx := clickhouse.Context(ctx, clickhouse.WithSettings(s.insertSettings(token)))
		// No WithCloseOnFlush: fill may Flush blocks of a large batch,
		// which must stay parts of this one INSERT.
		b, err := s.conn.PrepareBatch(qctx, query)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer b.Close()
		if err := fill(b); err != nil {
			_ = b.Abort()
			if fe := (errFlush{}); errors.As(err, &fe) {
				return err // the network's, like a failed Send
			}
			// Encoding errors are ours, never the network's.
			return fmt.Errorf("encoding rows: %w", errors.Join(ErrPermanent, err))
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		return nil
	})
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && (ex.Code == codeUnknownTable || ex.Code == codeUnknownDatabase) {
		return fmt.Errorf("%w (is the schema there? run `analyze migrate` first)", err)
	}
	return err
}

func joinColumns(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += ", "
		}
		out += "`" + c + "`"
	}
	return out
}

// batchToken is the insert_deduplication_token of a batch: a hash of the
// table and the ids of its rows, in order. Re-sending the same rows gives
// the same token, so ClickHouse drops the second copy.
func batchToken(table string, ids func(yield func(string) bool)) string {
	h := sha256.New()
	h.Write([]byte(table))
	for id := range ids {
		h.Write([]byte{0})
		h.Write([]byte(id))
	}
	return "rw-" + hex.EncodeToString(h.Sum(nil)[:16])
}

func allLoopback(addrs []string) bool {
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return false
		}
		if host == "localhost" {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// embedded returns the migrations embedded in the binary.
func embedded() ([]Migration, error) {
	return LoadMigrations(schemas.ClickHouse, schemas.ClickHouseMigrations)
}
