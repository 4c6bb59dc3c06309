// Package clickhousesink stores events and findings in ClickHouse for
// security analysts, and runs the analyst query pack over them.
//
// # Model
//
// Store implements sink.Sink. WriteEvents and WriteFindings turn a batch
// into INSERTs of at most Config.BatchSize rows through clickhouse-go/v2's
// PrepareBatch with explicit column lists, appended column by column. A
// call returns nil only when every row is in ClickHouse; it never
// acknowledges part of a batch. Transient failures (network, timeouts,
// overload, exception codes such as 159, 202, 209, 210, 252, 425) are
// retried with exponential backoff and jitter up to Config.MaxRetries;
// permanent ones (ErrPermanent: syntax, unknown table or column, type
// mismatch, bad credentials) return at once with the statement's context.
//
// The insert path is built for rows/s: LowCardinality is off on the wire
// (low_cardinality_allow_in_native_format=0: the client sends plain
// strings, the server builds the dictionaries), Array(String) and
// Map(String, String) columns take reflection-free typed appends, each
// INSERT streams its rows as blocks of 16,384 through reused column
// buffers (one query, one token; the server squashes them into one part),
// and a write of several batches keeps two INSERTs in flight so the
// client encodes one while the server writes the other. On the server,
// events keeps no LowCardinality inside arrays or maps and writes insert
// parts compact (migration 0008), the two costs that dominated its CPU.
//
// Backpressure is the caller's: a write blocks while it retries, and ends
// when its ctx does. Callers commit their input (Kafka offsets, file
// checkpoints) only after a write returned nil, so an outage stalls the
// pipeline instead of losing data.
//
// Replays are harmless. Each INSERT carries insert_deduplication_token = a
// hash of its row ids, so re-sending an identical batch (crash after the
// INSERT, before the commit) is dropped by the server, also for the
// materialized-view rollups. events is a ReplacingMergeTree keyed by the
// deterministic event id and findings a ReplacingMergeTree(version), and
// every analyst view reads FINAL, so a replay cut into different batches
// never shows twice either; only the rollup counters (principal_hourly,
// fingerprint_seen, client_seen) count such a re-batched replay again.
//
// # Schema
//
// Migrations are the embedded schemas/clickhouse/NNNN_name.sql files,
// templated by config (database, ON CLUSTER, Replicated engines, TTL) and
// applied in order by Migrate, which records each file's checksum in
// schema_migrations and refuses to run over an edited one. The analyst
// queries are schemas/clickhouse/queries/NAME.sql; Query runs one by name
// with ClickHouse query parameters ({since:DateTime64(9)}, ...).
//
// Secrets: Config.Password is a secret.String; it never reaches a log
// line, an error or a config dump.
package clickhousesink
