package clickhousesink

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/schemas"
)

func TestParseClientAddr(t *testing.T) {
	cases := map[string]string{
		"":                    "::",
		"10.20.4.21":          "::ffff:10.20.4.21",
		"192.0.2.1":           "::ffff:192.0.2.1",
		"2001:db8::1":         "2001:db8::1",
		"[2001:db8::1]":       "2001:db8::1",
		"fe80::1%eth0":        "fe80::1",
		"10.0.0.1:5432":       "::ffff:10.0.0.1",
		"[2001:db8::2]:26257": "2001:db8::2",
		"::ffff:10.1.1.1":     "::ffff:10.1.1.1",
		"not-an-address":      "::",
		"@":                   "::",
	}
	for in, want := range cases {
		got := ParseClientAddr(in)
		require.True(t, got.Is6(), in)
		require.Equal(t, netip.MustParseAddr(want), got, in)
	}
}

// richEvent has every kind of field set.
func richEvent() event.Event {
	return event.Event{
		V: 1, ID: "0123456789abcdef0123456789abcdef", Time: 1749447712308457696, LoggedAt: 1749447712308628000,
		IngestTime: 1767225600000000000, Source: "crdb", Format: "crdb-v2",
		Origin:  event.Origin{File: "node1/cockroach.log", Offset: 4242},
		Cluster: "c1", Node: "1", Channel: "SQL_EXEC", Severity: "INFO", Type: "query_execute",
		User: "billing_app", Application: "billing", ClientAddr: "10.20.4.21", ClientPort: 70000, SessionID: "s1",
		Transport: "hostnossl", Fingerprint: "select ssn from patients where id = ?", FingerprintHash: 1 << 63,
		StatementTag: "SELECT", Tables: []string{"patients"}, Columns: []string{"patients.ssn", "patients.id"},
		SensitiveColumns: []string{"patients.ssn"},
		Values:           []event.Value{{Table: "patients", Column: "id", Op: "compare", Class: "int", Hash: "aa"}, {Op: "literal", Class: "ssn", Hash: "bb"}},
		Secrets:          []event.Secret{{Type: "jwt", Field: "statement", Hash: "cc"}},
		Rows:             1, RowsRead: 7, Status: 200, Route: "patients/<int:pk>/",
		QueryTags: map[string]string{"route": "patients/<int:pk>/", "controller": "patient_detail"},
		Attrs:     map[string]string{"k": "v"},
		Roles:     []string{"admin"},
	}
}

func TestEventColumnsEncoding(t *testing.T) {
	c := eventColumns{copying: true}
	c.grow(2)
	for i, v := range c.values() {
		require.GreaterOrEqual(t, reflect.ValueOf(v).Cap(), 2, "grow misses column %s", eventColumnNames[i])
	}
	ev := richEvent()
	empty := event.Event{ID: "ffffffffffffffffffffffffffffffff", Time: 1, Type: "x"}
	c.add(&ev)
	c.add(&empty)
	vals := c.values()
	require.Len(t, vals, len(eventColumnNames), "one slice per column name")
	for i, v := range vals {
		require.Equal(t, 2, reflect.ValueOf(v).Len(), "column %s has a row per event", eventColumnNames[i])
	}
	require.Equal(t, time.Unix(0, ev.Time).UTC(), c.time[0])
	require.Equal(t, time.Unix(0, 0).UTC(), c.loggedAt[1], "absent times are the epoch")
	require.Equal(t, netip.MustParseAddr("::ffff:10.20.4.21"), c.clientAddr[0])
	require.Equal(t, netip.IPv6Unspecified(), c.clientAddr[1], "empty client_addr is ::, not an error")
	require.EqualValues(t, 65535, c.clientPort[0], "out-of-range ports are clamped")
	require.Equal(t, uint64(1<<63), c.fingerprintHash[0])
	require.Equal(t, []string{"patients", ""}, c.valTable[0])
	require.Equal(t, []string{"int", "ssn"}, c.valClass[0])
	require.Equal(t, []string{}, c.valClass[1], "no values: empty arrays")
	require.Equal(t, []string{"jwt"}, c.secType[0])
	require.Equal(t, "patient_detail", c.queryTags[0]["controller"])
	require.NotNil(t, c.queryTags[1], "absent maps are empty maps")
	require.Empty(t, c.attrs[1])

	// add copies when asked (Buffer): the runner reuses events after the
	// callback returns.
	ev.Tables[0] = "changed"
	ev.QueryTags["route"] = "changed"
	require.Equal(t, "patients", c.tables[0][0])
	require.Equal(t, "patients/<int:pk>/", c.queryTags[0]["route"])
}

// The column list must name every stored column of the events table (the
// ALIAS columns excepted) and nothing else.
func TestEventColumnsMatchMigration(t *testing.T) {
	b, err := schemas.ClickHouse.ReadFile("clickhouse/0002_events.sql")
	require.NoError(t, err)
	var inTable, inNested []string
	nested := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		f := strings.Fields(trimmed)
		switch {
		case len(f) == 0 || strings.HasPrefix(trimmed, "--") || trimmed == "(":
		case strings.HasPrefix(trimmed, ")"):
			nested = ""
		case len(f) > 1 && f[1] == "Nested":
			nested = f[0]
		case strings.Contains(line, " ALIAS ") || !strings.HasPrefix(line, "    "):
		case nested != "":
			inNested = append(inNested, nested+"."+f[0])
		case !strings.HasPrefix(line, "     "):
			inTable = append(inTable, f[0])
		}
	}
	all := append(inTable, inNested...)
	slices.Sort(all)
	want := slices.Clone(eventColumnNames)
	slices.Sort(want)
	require.Equal(t, want, all)
}

func TestFindingRow(t *testing.T) {
	f := detectors.Finding{ID: "f1", RuleID: "RW-TLS-001", Severity: detectors.SeverityCritical,
		Principal: detectors.Principal{User: "u", ClientAddr: "10.0.0.1"}, Count: 3,
		FirstSeen: time.Unix(10, 0), LastSeen: time.Unix(20, 0), CWE: []string{"CWE-319"}}
	row := findingRow(&f, 7, triage{status: StatusOpen, by: updatedBySystem}, time.Unix(30, 0))
	require.Len(t, row, len(findingColumnNames))
	get := func(name string) any { return row[slices.Index(findingColumnNames, name)] }
	require.Equal(t, "critical", get("severity"))
	require.Equal(t, netip.MustParseAddr("::ffff:10.0.0.1"), get("client_addr"))
	require.Equal(t, []string{}, get("evidence"), "nil arrays are sent empty")
	require.Equal(t, []string{"CWE-319"}, get("cwe"))
	require.Equal(t, "open", get("status"))
	require.EqualValues(t, 7, get("version"))
}

func TestBatchToken(t *testing.T) {
	a := batchToken("events", slices.Values([]string{"a", "b"}))
	require.Equal(t, a, batchToken("events", slices.Values([]string{"a", "b"})), "same rows, same token")
	require.NotEqual(t, a, batchToken("events", slices.Values([]string{"b", "a"})))
	require.NotEqual(t, a, batchToken("findings", slices.Values([]string{"a", "b"})))
	require.NotEqual(t, batchToken("events", slices.Values([]string{"ab"})), batchToken("events", slices.Values([]string{"a", "b"})))
}

func TestQueryPack(t *testing.T) {
	qs, err := Queries()
	require.NoError(t, err)
	var names []string
	for _, q := range qs {
		names = append(names, q.Name)
		require.NotEmpty(t, q.Question, q.Name)
		_, err := render(q.SQL, templateVars{Database: "roachwatch"})
		require.NoError(t, err, q.Name)
	}
	for _, want := range []string{"sensitive_column_readers", "non_tls_sessions", "new_fingerprints", "findings_by_rule_day",
		"session_timeline", "exfiltration_candidates", "failed_auth_heatmap", "route_sensitive_columns"} {
		require.Contains(t, names, want)
	}
	bad := map[string]string{
		"no header":  "SELECT 1",
		"no since":   "-- q\n-- @param until DateTime64(9): u\nSELECT {until:DateTime64(9)}",
		"undeclared": "-- q\n-- @param since DateTime64(9): s\n-- @param until DateTime64(9): u\nSELECT {since:DateTime64(9)}, {until:DateTime64(9)}, {x:String}",
		"unused":     "-- q\n-- @param since DateTime64(9): s\n-- @param until DateTime64(9): u\n-- @param x String: x\nSELECT {since:DateTime64(9)}, {until:DateTime64(9)}",
		"wrong type": "-- q\n-- @param since DateTime64(9): s\n-- @param until DateTime64(9): u\nSELECT {since:DateTime64(3)}, {until:DateTime64(9)}",
		"malformed":  "-- q\n-- @param since\nSELECT 1",
	}
	for name, text := range bad {
		_, err := loadQueries(fstest.MapFS{"q/x.sql": {Data: []byte(text)}}, "q")
		require.Error(t, err, name)
	}
	q, err := parseQuery("x", "-- Q?\n-- @param since DateTime64(9): s\n-- @param until DateTime64(9): u\n-- @param n Int64 = 5: n\n-- @param s String = '': s\nSELECT {since:DateTime64(9)}, {until:DateTime64(9)}, {n:Int64}, {s:String};\n")
	require.NoError(t, err)
	require.Equal(t, "Q?", q.Question)
	require.Equal(t, Param{Name: "n", Type: "Int64", Default: "5", HasDefault: true, Description: "n"}, q.Params[2])
	require.Equal(t, "", q.Params[3].Default)
	require.True(t, q.Params[3].HasDefault)
	require.False(t, strings.HasSuffix(q.SQL, ";"))
}

func TestEachChunk(t *testing.T) {
	s := &Store{cfg: Config{BatchSize: 10}}
	ctx := context.Background()

	var mu sync.Mutex
	var running, most int
	seen := map[[2]int]int{}
	require.NoError(t, s.eachChunk(ctx, 95, func(ctx context.Context, lo, hi int) error {
		mu.Lock()
		running++
		most = max(most, running)
		seen[[2]int{lo, hi}]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return nil
	}))
	require.Len(t, seen, 10, "every chunk once")
	for lo := 0; lo < 95; lo += 10 {
		require.Equal(t, 1, seen[[2]int{lo, min(lo+10, 95)}], "chunk %d", lo)
	}
	require.LessOrEqual(t, most, insertsInFlight)

	// One chunk: the caller's goroutine, the caller's context.
	require.NoError(t, s.eachChunk(ctx, 10, func(c context.Context, lo, hi int) error {
		require.Equal(t, ctx, c)
		require.Equal(t, [2]int{0, 10}, [2]int{lo, hi})
		return nil
	}))
	require.NoError(t, s.eachChunk(ctx, 0, func(context.Context, int, int) error {
		t.Fatal("no rows, no write")
		return nil
	}))

	// The first error is returned; it cancels the chunks in flight and no
	// chunk starts after it.
	boom := errors.New("boom")
	var started atomic.Int32
	err := s.eachChunk(ctx, 1000, func(ctx context.Context, lo, hi int) error {
		started.Add(1)
		if lo == 10 {
			return boom
		}
		<-ctx.Done()
		return ctx.Err()
	})
	require.ErrorIs(t, err, boom)
	require.LessOrEqual(t, started.Load(), int32(insertsInFlight+1))

	// A caller's context that ends stops the write with its error.
	cctx, cancel := context.WithCancel(ctx)
	err = s.eachChunk(cctx, 1000, func(ctx context.Context, lo, hi int) error {
		if lo == 0 {
			cancel()
		}
		<-ctx.Done()
		return ctx.Err()
	})
	require.ErrorIs(t, err, context.Canceled)
}

// TestEventColumnsReset checks that reset empties every column, keeps its
// memory and drops the references to the previous rows.
func TestEventColumnsReset(t *testing.T) {
	var c eventColumns
	c.grow(4)
	ev := richEvent()
	c.add(&ev)
	c.add(&ev)
	tables := c.tables[:2]
	c.reset(3)
	for i, v := range c.values() {
		require.Zero(t, reflect.ValueOf(v).Len(), "column %s", eventColumnNames[i])
		require.GreaterOrEqual(t, reflect.ValueOf(v).Cap(), 3, "column %s", eventColumnNames[i])
	}
	require.Nil(t, tables[0], "dropped rows are cleared")
}

// Every column of eventColumns has a path in appendRows: a typed one or
// rowRange's (which panics on a type it does not know).
func TestEventColumnsRowRange(t *testing.T) {
	var c eventColumns
	c.grow(3)
	ev := richEvent()
	for range 3 {
		c.add(&ev)
	}
	for i, v := range c.values() {
		switch v.(type) {
		case [][]string, []map[string]string:
			continue
		}
		require.NotPanics(t, func() {
			require.Equal(t, 2, reflect.ValueOf(rowRange(v, 1, 3)).Len(), "column %s", eventColumnNames[i])
		}, "column %s", eventColumnNames[i])
	}
}
