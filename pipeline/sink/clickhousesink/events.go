package clickhousesink

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"roachwatch/pipeline/event"
)

// eventColumnNames are the columns of every events INSERT, in the order of
// eventColumns.values. Nested columns are written as their flattened
// arrays (values.table, ...).
var eventColumnNames = []string{
	"id", "v", "time", "logged_at", "ingest_time", "source", "format", "origin_file", "origin_offset",
	"cluster", "node", "channel", "severity", "type", "logger",
	"user", "application", "client_addr", "client_port", "session_id", "transport", "auth_method", "auth_failure", "internal",
	"fingerprint", "fingerprint_hash", "statement_tag", "tables", "columns", "sensitive_columns",
	"values.table", "values.column", "values.op", "values.class", "values.hash",
	"secrets.type", "secrets.field", "secrets.hash",
	"rows", "rows_read", "bytes_read", "full_table_scan", "full_index_scan", "sqlstate", "error_text", "latency_ns", "exec_mode",
	"object", "access_mode", "grantee", "granted_privileges", "revoked_privileges", "role_name", "roles", "members", "options",
	"setting_name", "setting_value",
	"http_method", "path", "status", "route", "view", "remote_addr", "request_id", "query_tags",
	"message", "attrs", "raw",
}

// eventColumns holds a batch of events column by column, the form
// clickhouse-go appends fastest (one Append per column). With copying set
// (Buffer), add copies every slice and map it keeps, so the caller may
// reuse the event; WriteEvents only borrows its input for the call and
// shares them.
type eventColumns struct {
	copying                                       bool
	id                                            []string
	v                                             []uint8
	time, loggedAt, ingestTime                    []time.Time
	source, format, originFile                    []string
	originOffset                                  []uint64
	cluster, node, channel, severity, typ, logger []string
	user, application                             []string
	clientAddr                                    []netip.Addr
	clientPort                                    []uint16
	sessionID, transport, authMethod, authFailure []string
	internal                                      []bool
	fingerprint                                   []string
	fingerprintHash                               []uint64
	statementTag                                  []string
	tables, columns, sensitiveColumns             [][]string
	valTable, valColumn, valOp, valClass, valHash [][]string
	secType, secField, secHash                    [][]string
	rows, rowsRead, bytesRead                     []int64
	fullTableScan, fullIndexScan                  []bool
	sqlstate, errorText                           []string
	latencyNS                                     []int64
	execMode, object, accessMode, grantee         []string
	grantedPrivileges, revokedPrivileges          [][]string
	roleName                                      []string
	roles, members, options                       [][]string
	settingName, settingValue                     []string
	httpMethod, path                              []string
	status                                        []uint16
	route, view, remoteAddr, requestID            []string
	queryTags                                     []map[string]string
	message                                       []string
	attrs                                         []map[string]string
	raw                                           []string
}

func (c *eventColumns) len() int { return len(c.id) }

// grow gives every column room for n more rows, so appending a batch
// copies nothing (growing 68 slices by doubling was a third of the
// encoding time).
func (c *eventColumns) grow(n int) { c.resize(n, false) }

// reset empties every column, keeping its memory, and gives it room for n
// rows. The dropped rows are cleared so they no longer hold events alive.
func (c *eventColumns) reset(n int) { c.resize(n, true) }

func (c *eventColumns) resize(n int, reset bool) {
	growAll(n, reset, &c.id, &c.source, &c.format, &c.originFile, &c.cluster, &c.node, &c.channel, &c.severity, &c.typ,
		&c.logger, &c.user, &c.application, &c.sessionID, &c.transport, &c.authMethod, &c.authFailure, &c.fingerprint,
		&c.statementTag, &c.sqlstate, &c.errorText, &c.execMode, &c.object, &c.accessMode, &c.grantee, &c.roleName,
		&c.settingName, &c.settingValue, &c.httpMethod, &c.path, &c.route, &c.view, &c.remoteAddr, &c.requestID,
		&c.message, &c.raw)
	growAll(n, reset, &c.tables, &c.columns, &c.sensitiveColumns, &c.valTable, &c.valColumn, &c.valOp, &c.valClass, &c.valHash,
		&c.secType, &c.secField, &c.secHash, &c.grantedPrivileges, &c.revokedPrivileges, &c.roles, &c.members, &c.options)
	growAll(n, reset, &c.time, &c.loggedAt, &c.ingestTime)
	growAll(n, reset, &c.rows, &c.rowsRead, &c.bytesRead, &c.latencyNS)
	growAll(n, reset, &c.internal, &c.fullTableScan, &c.fullIndexScan)
	growAll(n, reset, &c.originOffset, &c.fingerprintHash)
	growAll(n, reset, &c.clientPort, &c.status)
	growAll(n, reset, &c.queryTags, &c.attrs)
	growAll(n, reset, &c.v)
	growAll(n, reset, &c.clientAddr)
}

func growAll[T any](n int, reset bool, ss ...*[]T) {
	for _, s := range ss {
		if reset {
			clear(*s)
			*s = (*s)[:0]
		}
		*s = slices.Grow(*s, n)
	}
}

// values returns the column slices in eventColumnNames order.
func (c *eventColumns) values() []any {
	return []any{
		c.id, c.v, c.time, c.loggedAt, c.ingestTime, c.source, c.format, c.originFile, c.originOffset,
		c.cluster, c.node, c.channel, c.severity, c.typ, c.logger,
		c.user, c.application, c.clientAddr, c.clientPort, c.sessionID, c.transport, c.authMethod, c.authFailure, c.internal,
		c.fingerprint, c.fingerprintHash, c.statementTag, c.tables, c.columns, c.sensitiveColumns,
		c.valTable, c.valColumn, c.valOp, c.valClass, c.valHash,
		c.secType, c.secField, c.secHash,
		c.rows, c.rowsRead, c.bytesRead, c.fullTableScan, c.fullIndexScan, c.sqlstate, c.errorText, c.latencyNS, c.execMode,
		c.object, c.accessMode, c.grantee, c.grantedPrivileges, c.revokedPrivileges, c.roleName, c.roles, c.members, c.options,
		c.settingName, c.settingValue,
		c.httpMethod, c.path, c.status, c.route, c.view, c.remoteAddr, c.requestID, c.queryTags,
		c.message, c.attrs, c.raw,
	}
}

// add appends ev as one row.
func (c *eventColumns) add(ev *event.Event) {
	c.id = append(c.id, ev.ID)
	c.v = append(c.v, uint8(ev.V))
	c.time = append(c.time, nsTime(ev.Time))
	c.loggedAt = append(c.loggedAt, nsTime(ev.LoggedAt))
	c.ingestTime = append(c.ingestTime, nsTime(ev.IngestTime))
	c.source = append(c.source, ev.Source)
	c.format = append(c.format, ev.Format)
	c.originFile = append(c.originFile, ev.Origin.File)
	c.originOffset = append(c.originOffset, uint64(max(ev.Origin.Offset, 0)))
	c.cluster = append(c.cluster, ev.Cluster)
	c.node = append(c.node, ev.Node)
	c.channel = append(c.channel, ev.Channel)
	c.severity = append(c.severity, ev.Severity)
	c.typ = append(c.typ, ev.Type)
	c.logger = append(c.logger, ev.Logger)
	c.user = append(c.user, ev.User)
	c.application = append(c.application, ev.Application)
	c.clientAddr = append(c.clientAddr, ParseClientAddr(ev.ClientAddr))
	c.clientPort = append(c.clientPort, uint16(min(max(ev.ClientPort, 0), 65535)))
	c.sessionID = append(c.sessionID, ev.SessionID)
	c.transport = append(c.transport, ev.Transport)
	c.authMethod = append(c.authMethod, ev.AuthMethod)
	c.authFailure = append(c.authFailure, ev.AuthFailure)
	c.internal = append(c.internal, ev.Internal)
	c.fingerprint = append(c.fingerprint, ev.Fingerprint)
	c.fingerprintHash = append(c.fingerprintHash, ev.FingerprintHash)
	c.statementTag = append(c.statementTag, ev.StatementTag)
	c.tables = append(c.tables, c.strings(ev.Tables))
	c.columns = append(c.columns, c.strings(ev.Columns))
	c.sensitiveColumns = append(c.sensitiveColumns, c.strings(ev.SensitiveColumns))
	c.addValues(ev.Values)
	c.addSecrets(ev.Secrets)
	c.rows = append(c.rows, ev.Rows)
	c.rowsRead = append(c.rowsRead, ev.RowsRead)
	c.bytesRead = append(c.bytesRead, ev.BytesRead)
	c.fullTableScan = append(c.fullTableScan, ev.FullTableScan)
	c.fullIndexScan = append(c.fullIndexScan, ev.FullIndexScan)
	c.sqlstate = append(c.sqlstate, ev.SQLState)
	c.errorText = append(c.errorText, ev.ErrorText)
	c.latencyNS = append(c.latencyNS, ev.LatencyNS)
	c.execMode = append(c.execMode, ev.ExecMode)
	c.object = append(c.object, ev.Object)
	c.accessMode = append(c.accessMode, ev.AccessMode)
	c.grantee = append(c.grantee, ev.Grantee)
	c.grantedPrivileges = append(c.grantedPrivileges, c.strings(ev.GrantedPrivileges))
	c.revokedPrivileges = append(c.revokedPrivileges, c.strings(ev.RevokedPrivileges))
	c.roleName = append(c.roleName, ev.RoleName)
	c.roles = append(c.roles, c.strings(ev.Roles))
	c.members = append(c.members, c.strings(ev.Members))
	c.options = append(c.options, c.strings(ev.Options))
	c.settingName = append(c.settingName, ev.SettingName)
	c.settingValue = append(c.settingValue, ev.SettingValue)
	c.httpMethod = append(c.httpMethod, ev.HTTPMethod)
	c.path = append(c.path, ev.Path)
	c.status = append(c.status, uint16(min(max(ev.Status, 0), 65535)))
	c.route = append(c.route, ev.Route)
	c.view = append(c.view, ev.View)
	c.remoteAddr = append(c.remoteAddr, ev.RemoteAddr)
	c.requestID = append(c.requestID, ev.RequestID)
	c.queryTags = append(c.queryTags, c.strmap(ev.QueryTags))
	c.message = append(c.message, ev.Message)
	c.attrs = append(c.attrs, c.strmap(ev.Attrs))
	c.raw = append(c.raw, ev.Raw)
}

// strings returns s, or a copy of it when the columns must not share.
func (c *eventColumns) strings(s []string) []string {
	if c.copying {
		return slices.Clone(s)
	}
	return s
}

// strmap returns m (never nil), or a copy when the columns must not share.
func (c *eventColumns) strmap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return emptyMap
	}
	if c.copying {
		return maps.Clone(m)
	}
	return m
}

func (c *eventColumns) addValues(vs []event.Value) {
	n := len(vs)
	t, col, op, cl, h := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, v := range vs {
		t[i], col[i], op[i], cl[i], h[i] = v.Table, v.Column, v.Op, v.Class, v.Hash
	}
	c.valTable, c.valColumn, c.valOp = append(c.valTable, t), append(c.valColumn, col), append(c.valOp, op)
	c.valClass, c.valHash = append(c.valClass, cl), append(c.valHash, h)
}

func (c *eventColumns) addSecrets(ss []event.Secret) {
	n := len(ss)
	t, f, h := make([]string, n), make([]string, n), make([]string, n)
	for i, s := range ss {
		t[i], f[i], h[i] = s.Type, s.Field, s.Hash
	}
	c.secType, c.secField, c.secHash = append(c.secType, t), append(c.secField, f), append(c.secHash, h)
}

// blockRows is how many rows go into one data block of an events INSERT.
// A batch is sent as one INSERT (one query, one deduplication token) of
// several blocks, flushed as they fill: the driver reuses its column
// buffers from block to block instead of growing each of them to the
// whole batch (growing ~70 column buffers to 100,000 rows was the
// largest client cost), and the server reads one block while the next is
// encoded. The server squashes the blocks back into parts of up to
// min_insert_block_size_rows rows, so parts are as large as before.
const blockRows = 16_384

// errFlush marks errors of sending a block, which are the network's (and
// retried), unlike encoding errors.
type errFlush struct{ err error }

func (e errFlush) Error() string { return "send block: " + e.err.Error() }
func (e errFlush) Unwrap() error { return e.err }

// appendTo appends every column to b, flushing a data block every
// blockRows rows (Buffer's path: the rows are already columns).
func (c *eventColumns) appendTo(b driver.Batch) error {
	cols := b.Columns()
	n := c.len()
	for lo := 0; lo < n; lo += blockRows {
		hi := min(lo+blockRows, n)
		if err := c.appendRows(cols, lo, hi); err != nil {
			return err
		}
		if hi < n {
			if err := b.Flush(); err != nil {
				return errFlush{err}
			}
		}
	}
	return nil
}

// appendRows appends rows lo..hi-1 of every column to cols, the columns of
// a batch. Array(String) and Map(String, String) columns (what the native
// protocol asks for once LowCardinality is off on the wire, see
// insertSettings) take typed row-by-row paths of the driver that neither
// reflect nor box each element; every other column, and any column whose
// type differs (LowCardinality over HTTP, whose column types come from
// DESCRIBE TABLE), goes through the driver's generic Append.
func (c *eventColumns) appendRows(cols []column.Interface, lo, hi int) error {
	for i, v := range c.values() {
		var err error
		switch v := v.(type) {
		case [][]string:
			err = appendStringArrays(cols[i], v[lo:hi])
		case []map[string]string:
			err = appendStringMaps(cols[i], v[lo:hi])
		default:
			_, err = cols[i].Append(rowRange(v, lo, hi))
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", eventColumnNames[i], err)
		}
	}
	return nil
}

// appendEvents encodes evs into b block by block: blockRows events into
// reused columns, appended, flushed, and the next block, so the columns
// of a whole batch never exist at once.
func appendEvents(b driver.Batch, evs []event.Event) error {
	c := columnsPool.Get().(*eventColumns)
	defer func() {
		c.reset(0)
		columnsPool.Put(c)
	}()
	cols := b.Columns()
	for lo := 0; lo < len(evs); lo += blockRows {
		hi := min(lo+blockRows, len(evs))
		c.reset(hi - lo)
		for i := lo; i < hi; i++ {
			c.add(&evs[i])
		}
		if err := c.appendRows(cols, 0, c.len()); err != nil {
			return err
		}
		if hi < len(evs) {
			if err := b.Flush(); err != nil {
				return errFlush{err}
			}
		}
	}
	return nil
}

// columnsPool holds sharing (non-copying) eventColumns of up to blockRows
// rows for appendEvents.
var columnsPool = sync.Pool{New: func() any { return new(eventColumns) }}

// rowRange returns rows lo..hi-1 of a column slice of eventColumns.
func rowRange(v any, lo, hi int) any {
	switch v := v.(type) {
	case []string:
		return v[lo:hi]
	case []uint8:
		return v[lo:hi]
	case []uint16:
		return v[lo:hi]
	case []uint64:
		return v[lo:hi]
	case []int64:
		return v[lo:hi]
	case []bool:
		return v[lo:hi]
	case []time.Time:
		return v[lo:hi]
	case []netip.Addr:
		return v[lo:hi]
	}
	panic(fmt.Sprintf("clickhousesink: rowRange: unexpected column type %T", v))
}

// noStrings is an empty array row, boxed once.
var noStrings any = []*string(nil)

// appendStringArrays appends rows to an Array(String) column as []*string
// rows: the driver appends those without reflection, and a pointer boxes
// into an interface without allocating, unlike each string of a []string.
// The pointers point into rows, which outlive the batch's Send.
func appendStringArrays(col column.Interface, rows [][]string) error {
	if col.Type() != "Array(String)" {
		_, err := col.Append(rows)
		return err
	}
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	flat := make([]*string, n)
	for _, r := range rows {
		if len(r) == 0 {
			if err := col.AppendRow(noStrings); err != nil {
				return err
			}
			continue
		}
		p := flat[:len(r):len(r)]
		flat = flat[len(r):]
		for j := range r {
			p[j] = &r[j]
		}
		if err := col.AppendRow(p); err != nil {
			return err
		}
	}
	return nil
}

// mapRow is one Map(String, String) row as the driver's
// column.IterableOrderedMap: keys and values are handed over as *string,
// so appending a row allocates nothing and needs no reflection.
type mapRow struct {
	keys, vals []string
	i          int
}

func (r *mapRow) Put(any, any) {} // never called by the driver's append path

func (r *mapRow) Iterator() column.MapIterator {
	r.i = -1
	return r
}

func (r *mapRow) Next() bool {
	r.i++
	return r.i < len(r.keys)
}

func (r *mapRow) Key() any   { return &r.keys[r.i] }
func (r *mapRow) Value() any { return &r.vals[r.i] }

// appendStringMaps appends rows to a Map(String, String) column, each map
// flattened into key and value slices (in Go's map order, as the generic
// path of the driver stores them too).
func appendStringMaps(col column.Interface, rows []map[string]string) error {
	if col.Type() != "Map(String, String)" {
		_, err := col.Append(rows)
		return err
	}
	n := 0
	for _, m := range rows {
		n += len(m)
	}
	keys, vals := make([]string, 0, n), make([]string, 0, n)
	mr := make([]mapRow, len(rows))
	for i, m := range rows {
		start := len(keys)
		for k, v := range m {
			keys, vals = append(keys, k), append(vals, v)
		}
		mr[i] = mapRow{keys: keys[start:len(keys):len(keys)], vals: vals[start:len(vals):len(vals)]}
		if err := col.AppendRow(&mr[i]); err != nil {
			return err
		}
	}
	return nil
}

// nsTime converts ns since the epoch to a UTC time; 0 stays the epoch.
func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// ParseClientAddr turns a logged client address into the IPv6 column
// value: IPv4 addresses become IPv4-mapped (::ffff:a.b.c.d), zones and
// brackets are dropped, and an empty or unparseable address becomes ::
// (unknown), never an error: one odd log line must not fail a batch.
func ParseClientAddr(s string) netip.Addr {
	if s == "" {
		return netip.IPv6Unspecified()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrFrom16(ap.Addr().As16())
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.IPv6Unspecified()
	}
	return netip.AddrFrom16(a.As16())
}

// emptyMap is shared by every row without a map: the driver only reads it.
var emptyMap = map[string]string{}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return emptyMap
	}
	return maps.Clone(m)
}

// WriteEvents writes evs to the events table, durably and idempotently,
// or returns an error. It never acknowledges part of a batch: on error the
// caller must treat the whole slice as unwritten and retry it later (rows
// that did land are deduplicated on the retry).
//
// evs is split into INSERTs of at most BatchSize rows; each INSERT carries
// an insert_deduplication_token derived from its event ids, so re-sending
// the same events (a replay after a crash between insert and commit) is a
// no-op, and the events table's ReplacingMergeTree collapses any duplicate
// that slips through (e.g. a replay batched differently).
//
// Backpressure is the caller's: WriteEvents blocks while it retries
// transient failures (network, timeouts, overload; up to MaxRetries with
// exponential backoff and jitter) and returns when ctx ends. Permanent
// failures (ErrPermanent: syntax, unknown table, type mismatch) return at
// once. The caller keeps ownership of evs; nothing is retained.
func (s *Store) WriteEvents(ctx context.Context, evs []event.Event) error {
	return s.eachChunk(ctx, len(evs), func(ctx context.Context, lo, hi int) error {
		chunk := evs[lo:hi]
		token := batchToken("events", func(yield func(string) bool) {
			for i := range chunk {
				if !yield(chunk[i].ID) {
					return
				}
			}
		})
		err := s.insert(ctx, "events", eventColumnNames, token, len(chunk), func(b driver.Batch) error {
			return appendEvents(b, chunk)
		})
		if err != nil {
			return fmt.Errorf("clickhouse: writing events %d..%d of %d: %w", lo, hi-1, len(evs), err)
		}
		return nil
	})
}

// insertsInFlight is how many INSERTs of one write run at once. Two let
// the client encode the next batch while the server writes the previous
// one (client and server each take about half of the CPU per event), so a
// large write is bounded by the slower side instead of by their sum.
const insertsInFlight = 2

// eachChunk calls write for consecutive chunks lo..hi-1 of n rows of at
// most BatchSize rows, up to insertsInFlight at a time, and returns the
// first error (after the others have stopped: the first error cancels
// their context). With one chunk it runs write in the caller's goroutine.
func (s *Store) eachChunk(ctx context.Context, n int, write func(ctx context.Context, lo, hi int) error) error {
	size := s.cfg.BatchSize
	if n <= size {
		if n == 0 {
			return nil
		}
		return write(ctx, 0, n)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, insertsInFlight)
	)
	lo := 0
	for ; lo < n; lo += size {
		acquired := false
		select {
		case slots <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			if acquired {
				<-slots
			}
			break
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			defer func() { <-slots }()
			if err := write(ctx, lo, hi); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}(lo, min(lo+size, n))
	}
	wg.Wait()
	if first == nil && lo < n {
		// The caller's context ended before every chunk was started.
		first = fmt.Errorf("clickhouse: writing rows %d..%d of %d: %w", lo, n-1, n, context.Cause(ctx))
	}
	return first
}

// writeEventColumns inserts one encoded batch (Buffer's rows).
func (s *Store) writeEventColumns(ctx context.Context, cols *eventColumns) error {
	if cols.len() == 0 {
		return nil
	}
	token := batchToken("events", slices.Values(cols.id))
	return s.insert(ctx, "events", eventColumnNames, token, cols.len(), cols.appendTo)
}
