//go:build integration

package chenv_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"roachwatch/internal/testenv/chenv"
)

// protocols are the client protocols every schema test runs over: HTTP is
// what roachwatch uses; native is checked too when the server offers it.
var protocols = []clickhouse.Protocol{clickhouse.HTTP, clickhouse.Native}

// The schema uses what the 2018 Debian server cannot run: DateTime64(9),
// LowCardinality, IPv6, Map, TTL, partitioning by toDate, ReplacingMergeTree,
// and a materialized view into an AggregatingMergeTree.
var schema = []string{
	`CREATE TABLE events (
		ts         DateTime64(9, 'UTC'),
		node       LowCardinality(String),
		client_ip  IPv6,
		tags       Array(String),
		attrs      Map(String, String),
		seq        UInt64,
		latency_ms Nullable(Float64),
		stmt       String
	) ENGINE = MergeTree
	PARTITION BY toDate(ts)
	ORDER BY (node, ts, seq)
	TTL toDateTime(ts) + INTERVAL 30 DAY
	SETTINGS non_replicated_deduplication_window = 1000`,

	`CREATE TABLE findings (
		finding_id String,
		detector   LowCardinality(String),
		severity   UInt8,
		status     LowCardinality(String),
		version    UInt64,
		updated_at DateTime64(3, 'UTC')
	) ENGINE = ReplacingMergeTree(version)
	ORDER BY finding_id`,

	`CREATE TABLE events_daily (
		day   Date,
		node  LowCardinality(String),
		stmts AggregateFunction(uniq, String),
		n     AggregateFunction(count)
	) ENGINE = AggregatingMergeTree
	ORDER BY (day, node)`,

	`CREATE MATERIALIZED VIEW events_daily_mv TO events_daily AS
	SELECT toDate(ts) AS day, node, uniqState(stmt) AS stmts, countState() AS n
	FROM events GROUP BY day, node`,
}

func createSchema(t *testing.T, conn driver.Conn) {
	t.Helper()
	ctx := context.Background()
	for _, ddl := range schema {
		if err := conn.Exec(ctx, ddl); err != nil {
			t.Fatalf("DDL failed: %v\n%s", err, ddl)
		}
	}
}

// event is one row of events. Row i is a pure function of (base, i), so a
// test can recompute any row it inserted.
type event struct {
	TS        time.Time
	Node      string
	ClientIP  net.IP
	Tags      []string
	Attrs     map[string]string
	Seq       uint64
	LatencyMS *float64
	Stmt      string
}

func makeEvent(base time.Time, i int) event {
	e := event{
		// Nanosecond offsets exercise DateTime64(9) precision.
		TS:       base.Add(time.Duration(i)*time.Millisecond + time.Duration(i%1000)*time.Nanosecond),
		Node:     fmt.Sprintf("n%d", i%7),
		ClientIP: net.ParseIP(fmt.Sprintf("2001:db8::%x", i%5000)),
		Tags:     []string{"t" + fmt.Sprint(i%3), "k" + fmt.Sprint(i%11)},
		Attrs:    map[string]string{"app": fmt.Sprintf("app%d", i%13), "db": "defaultdb"},
		Seq:      uint64(i),
		Stmt:     fmt.Sprintf("SELECT * FROM t%d WHERE id = $1", i%500),
	}
	if i%4 != 0 {
		v := float64(i%1000) / 8
		e.LatencyMS = &v
	}
	return e
}

func appendEvents(t testing.TB, batch driver.Batch, base time.Time, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		e := makeEvent(base, i)
		if err := batch.Append(e.TS, e.Node, e.ClientIP, e.Tags, e.Attrs, e.Seq, e.LatencyMS, e.Stmt); err != nil {
			t.Fatalf("Append row %d: %v", i, err)
		}
	}
}

func count(t *testing.T, conn driver.Conn, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestPingAndVersion(t *testing.T) {
	env := chenv.Server(t)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			conn := env.OpenProtocol(t, "default", p)
			if err := conn.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			v, err := conn.ServerVersion()
			if err != nil {
				t.Fatalf("ServerVersion: %v", err)
			}
			t.Logf("server over %s: %s %d.%d.%d (revision %d, tz %v)", p, v.DisplayName, v.Version.Major, v.Version.Minor, v.Version.Patch, v.Revision, v.Timezone)
			if v.Version.Major < 24 {
				t.Fatalf("server version %d.%d is not a current ClickHouse", v.Version.Major, v.Version.Minor)
			}
			var version string
			if err := conn.QueryRow(context.Background(), "SELECT version()").Scan(&version); err != nil {
				t.Fatalf("SELECT version(): %v", err)
			}
			if !strings.HasPrefix(version, fmt.Sprint(v.Version.Major)+".") {
				t.Fatalf("SELECT version() = %q, handshake said %d.%d", version, v.Version.Major, v.Version.Minor)
			}
		})
	}
}

func TestSchemaBatchAndQueries(t *testing.T) {
	env := chenv.Server(t)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			if p == clickhouse.Native && env.NativeAddr == "" {
				t.Skip("no native listener")
			}
			db := env.TempDatabase(t, "chenv_it_"+p.String())
			conn := env.OpenProtocol(t, db, p)
			ctx := context.Background()
			createSchema(t, conn)

			const rows = 100_000
			base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

			start := time.Now()
			batch, err := conn.PrepareBatch(ctx, "INSERT INTO events")
			if err != nil {
				t.Fatalf("PrepareBatch: %v", err)
			}
			appendEvents(t, batch, base, 0, rows)
			if err := batch.Send(); err != nil {
				t.Fatalf("Send: %v", err)
			}
			t.Logf("%s: inserted %d rows in %v (%.0f rows/s)", p, rows, time.Since(start), rows/time.Since(start).Seconds())

			if n := count(t, conn, "SELECT count() FROM events"); n != rows {
				t.Fatalf("count() = %d, want %d", n, rows)
			}

			// Round trip of every column type, including NULL and a non-NULL Nullable.
			for _, i := range []int{0, 1, 4242, rows - 1} {
				want := makeEvent(base, i)
				var got event
				err := conn.QueryRow(ctx,
					"SELECT ts, node, client_ip, tags, attrs, seq, latency_ms, stmt FROM events WHERE seq = ?", uint64(i)).
					Scan(&got.TS, &got.Node, &got.ClientIP, &got.Tags, &got.Attrs, &got.Seq, &got.LatencyMS, &got.Stmt)
				if err != nil {
					t.Fatalf("select row %d: %v", i, err)
				}
				if !got.TS.Equal(want.TS) {
					t.Errorf("row %d ts = %v, want %v (DateTime64(9) precision)", i, got.TS.Format(time.RFC3339Nano), want.TS.Format(time.RFC3339Nano))
				}
				if !got.ClientIP.Equal(want.ClientIP) {
					t.Errorf("row %d client_ip = %v, want %v", i, got.ClientIP, want.ClientIP)
				}
				if (got.LatencyMS == nil) != (want.LatencyMS == nil) || (got.LatencyMS != nil && *got.LatencyMS != *want.LatencyMS) {
					t.Errorf("row %d latency_ms = %v, want %v", i, got.LatencyMS, want.LatencyMS)
				}
				got.TS, want.TS, got.ClientIP, want.ClientIP, got.LatencyMS, want.LatencyMS = time.Time{}, time.Time{}, nil, nil, nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("row %d = %+v, want %+v", i, got, want)
				}
			}

			// The materialized view saw every inserted row.
			var mvRows, mvStmts uint64
			if err := conn.QueryRow(ctx,
				"SELECT countMerge(n), uniqMerge(stmts) FROM events_daily").Scan(&mvRows, &mvStmts); err != nil {
				t.Fatalf("query materialized view: %v", err)
			}
			if mvRows != rows || mvStmts != 500 {
				t.Fatalf("events_daily: countMerge = %d, uniqMerge = %d; want %d, 500", mvRows, mvStmts, rows)
			}

			// Analyst-style aggregation with a bound argument, Map access and arrays.
			var (
				node  string
				n     uint64
				apps  []string
				p95   float64
				nulls uint64
			)
			if err := conn.QueryRow(ctx, `
				SELECT node, count(), arraySort(groupUniqArray(attrs['app'])), quantile(0.95)(latency_ms), countIf(latency_ms IS NULL)
				FROM events WHERE node = ? AND has(tags, 't0') GROUP BY node`, "n3").
				Scan(&node, &n, &apps, &p95, &nulls); err != nil {
				t.Fatalf("aggregate query: %v", err)
			}
			if node != "n3" || n == 0 || len(apps) != 13 || nulls == 0 {
				t.Fatalf("aggregate query: node=%q count=%d apps=%v p95=%v nulls=%d", node, n, apps, p95, nulls)
			}

			testReplacing(t, conn)
			testDedup(t, conn, base)
			testExceptions(t, conn)
		})
	}
}

// testReplacing checks ReplacingMergeTree semantics through FINAL, argMax and
// groupArray. Each version goes in its own insert (rows with one key inside a
// single block are already collapsed on write) and merges are stopped, so the
// table really holds all versions until OPTIMIZE.
func testReplacing(t *testing.T, conn driver.Conn) {
	t.Helper()
	ctx := context.Background()
	if err := conn.Exec(ctx, "SYSTEM STOP MERGES findings"); err != nil {
		t.Fatalf("SYSTEM STOP MERGES: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	type version struct {
		id, status string
		version    uint64
	}
	// f1 goes open -> acked -> resolved over three inserts, f2 stays open.
	for _, insert := range [][]version{
		{{"f1", "open", 1}, {"f2", "open", 1}},
		{{"f1", "acked", 2}},
		{{"f1", "resolved", 3}},
	} {
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO findings")
		if err != nil {
			t.Fatalf("PrepareBatch findings: %v", err)
		}
		for _, r := range insert {
			if err := batch.Append(r.id, "slow_query", uint8(2), r.status, r.version, now.Add(time.Duration(r.version)*time.Second)); err != nil {
				t.Fatalf("Append finding: %v", err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatalf("Send findings: %v", err)
		}
	}
	if n := count(t, conn, "SELECT count() FROM findings"); n != 4 {
		t.Fatalf("findings without FINAL: count() = %d, want 4 (all versions, merges stopped)", n)
	}

	rows, err := conn.Query(ctx, "SELECT finding_id, status, version FROM findings FINAL ORDER BY finding_id")
	if err != nil {
		t.Fatalf("SELECT FINAL: %v", err)
	}
	var got []string
	for rows.Next() {
		var id, status string
		var version uint64
		if err := rows.Scan(&id, &status, &version); err != nil {
			t.Fatalf("scan FINAL: %v", err)
		}
		got = append(got, fmt.Sprintf("%s=%s@%d", id, status, version))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows FINAL: %v", err)
	}
	_ = rows.Close()
	if want := []string{"f1=resolved@3", "f2=open@1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("SELECT ... FINAL = %v, want %v", got, want)
	}

	var latest string
	var history []string
	if err := conn.QueryRow(ctx, `
		SELECT argMax(status, version), arrayMap(x -> x.2, arraySort(groupArray((version, status))))
		FROM findings WHERE finding_id = 'f1'`).Scan(&latest, &history); err != nil {
		t.Fatalf("argMax/groupArray: %v", err)
	}
	if latest != "resolved" || !reflect.DeepEqual(history, []string{"open", "acked", "resolved"}) {
		t.Fatalf("argMax = %q, groupArray = %v", latest, history)
	}

	if err := conn.Exec(ctx, "SYSTEM START MERGES findings"); err != nil {
		t.Fatalf("SYSTEM START MERGES: %v", err)
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE findings FINAL"); err != nil {
		t.Fatalf("OPTIMIZE FINAL: %v", err)
	}
	if n := count(t, conn, "SELECT count() FROM findings"); n != 2 {
		t.Fatalf("findings after OPTIMIZE FINAL: count() = %d, want 2", n)
	}
}

// testDedup sends the same batch twice with one insert_deduplication_token:
// the second insert must be dropped. A third send with a new token is kept.
func testDedup(t *testing.T, conn driver.Conn, base time.Time) {
	t.Helper()
	before := count(t, conn, "SELECT count() FROM events")
	send := func(token string) {
		ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplication_token": token,
		}))
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO events")
		if err != nil {
			t.Fatalf("PrepareBatch (token %s): %v", token, err)
		}
		appendEvents(t, batch, base, 1_000_000, 1_000_500)
		if err := batch.Send(); err != nil {
			t.Fatalf("Send (token %s): %v", token, err)
		}
	}
	send("dedup-token-A")
	send("dedup-token-A")
	if got := count(t, conn, "SELECT count() FROM events") - before; got != 500 {
		t.Fatalf("after two sends with one token: %d new rows, want 500 (insert_deduplication_token ignored?)", got)
	}
	send("dedup-token-B")
	if got := count(t, conn, "SELECT count() FROM events") - before; got != 1000 {
		t.Fatalf("after a send with a new token: %d new rows, want 1000", got)
	}
}

// testExceptions checks that server errors surface as *clickhouse.Exception
// with ClickHouse's error code.
func testExceptions(t *testing.T, conn driver.Conn) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		code  int32
		name  string
	}{
		{"SELECT * FROM no_such_table", 60, "UNKNOWN_TABLE"},
		{"SELEC 1", 62, "SYNTAX_ERROR"},
		{"SELECT no_such_column FROM events", 47, "UNKNOWN_IDENTIFIER"},
		{"SELECT throwIf(1, 'boom')", 395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO"},
	} {
		rows, err := conn.Query(ctx, tc.query)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			_ = rows.Close()
		}
		var ex *clickhouse.Exception
		if !errors.As(err, &ex) {
			t.Errorf("%s: error %v (%T) is not a *clickhouse.Exception", tc.query, err, err)
			continue
		}
		if ex.Code != tc.code {
			t.Errorf("%s: Exception.Code = %d (%s), want %d (%s)", tc.query, ex.Code, ex.Message, tc.code, tc.name)
		}
	}
	// Exec takes the same path for DDL.
	err := conn.Exec(ctx, "DROP TABLE no_such_table")
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 60 {
		t.Errorf("DROP TABLE no_such_table: %v, want Exception code 60", err)
	}
}

// BenchmarkInsert measures rows/s for one PrepareBatch+Append+Send per
// operation at several batch sizes over each protocol.
func BenchmarkInsert(b *testing.B) {
	env := chenv.Server(b)
	for _, p := range protocols {
		if p == clickhouse.Native && env.NativeAddr == "" {
			continue
		}
		db := env.TempDatabase(b, "chenv_bench_"+p.String())
		conn := env.OpenProtocol(b, db, p)
		if err := conn.Exec(context.Background(), schema[0]); err != nil {
			b.Fatalf("create events: %v", err)
		}
		base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
		for _, size := range []int{1_000, 10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/batch=%d", p, size), func(b *testing.B) {
				ctx := context.Background()
				ops := 0
				for b.Loop() {
					batch, err := conn.PrepareBatch(ctx, "INSERT INTO events")
					if err != nil {
						b.Fatalf("PrepareBatch: %v", err)
					}
					// Fresh rows every time: the table deduplicates identical blocks.
					appendEvents(b, batch, base, ops*size, (ops+1)*size)
					if err := batch.Send(); err != nil {
						b.Fatalf("Send: %v", err)
					}
					ops++
				}
				b.ReportMetric(float64(size*ops)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// TestHTTPCompressionAndQueryID runs a batch insert and a read over HTTP
// with each compression method clickhouse-go offers there, and checks that
// the query ID set through the context reaches the server.
func TestHTTPCompressionAndQueryID(t *testing.T) {
	env := chenv.Server(t)
	db := env.TempDatabase(t, "chenv_it_compress")
	setup := env.Open(t, db)
	if err := setup.Exec(context.Background(), schema[0]); err != nil {
		t.Fatalf("create events: %v", err)
	}
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	methods := []struct {
		name string
		c    *clickhouse.Compression
	}{
		{"none", nil},
		{"lz4", &clickhouse.Compression{Method: clickhouse.CompressionLZ4}},
		{"zstd", &clickhouse.Compression{Method: clickhouse.CompressionZSTD}},
		{"gzip", &clickhouse.Compression{Method: clickhouse.CompressionGZIP}},
		{"deflate", &clickhouse.Compression{Method: clickhouse.CompressionDeflate}},
		{"br", &clickhouse.Compression{Method: clickhouse.CompressionBrotli}},
	}
	for k, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			opts, err := env.Options(db, clickhouse.HTTP)
			if err != nil {
				t.Fatal(err)
			}
			opts.Compression = m.c
			conn := env.OpenOptions(t, opts)
			ctx := context.Background()
			batch, err := conn.PrepareBatch(ctx, "INSERT INTO events")
			if err != nil {
				t.Fatalf("PrepareBatch: %v", err)
			}
			from := k * 10_000
			appendEvents(t, batch, base, from, from+10_000)
			if err := batch.Send(); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if n := count(t, conn, "SELECT count() FROM events WHERE seq >= ? AND seq < ?", uint64(from), uint64(from+10_000)); n != 10_000 {
				t.Fatalf("count = %d, want 10000", n)
			}
			var stmts []string
			if err := conn.QueryRow(ctx, "SELECT groupArray(stmt) FROM events WHERE seq >= ? AND seq < ?", uint64(from), uint64(from+10_000)).Scan(&stmts); err != nil || len(stmts) != 10_000 {
				t.Fatalf("read back %d statements: %v", len(stmts), err)
			}
			qid := fmt.Sprintf("chenv-%s-%d", m.name, time.Now().UnixNano())
			var got string
			if err := conn.QueryRow(clickhouse.Context(ctx, clickhouse.WithQueryID(qid)), "SELECT queryID()").Scan(&got); err != nil {
				t.Fatalf("SELECT queryID(): %v", err)
			}
			if got != qid {
				t.Fatalf("queryID() = %q, want %q", got, qid)
			}
		})
	}
}

// TestConcurrentInserts shows the server runs requests in parallel: several
// connections insert at once and every row arrives.
func TestConcurrentInserts(t *testing.T) {
	env := chenv.Server(t)
	db := env.TempDatabase(t, "chenv_it_concurrent")
	conn := env.Open(t, db)
	if err := conn.Exec(context.Background(), schema[0]); err != nil {
		t.Fatalf("create events: %v", err)
	}
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	const workers, each = 4, 25_000
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			batch, err := conn.PrepareBatch(context.Background(), "INSERT INTO events")
			if err != nil {
				errs <- err
				return
			}
			for i := w * each; i < (w+1)*each; i++ {
				e := makeEvent(base, i)
				if err := batch.Append(e.TS, e.Node, e.ClientIP, e.Tags, e.Attrs, e.Seq, e.LatencyMS, e.Stmt); err != nil {
					errs <- err
					return
				}
			}
			errs <- batch.Send()
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent insert: %v", err)
		}
	}
	if n := count(t, conn, "SELECT count() FROM events"); n != workers*each {
		t.Fatalf("count = %d, want %d", n, workers*each)
	}
}
