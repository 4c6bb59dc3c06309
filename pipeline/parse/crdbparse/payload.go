package crdbparse

import (
	"github.com/valyala/fastjson"

	"roachwatch/pipeline/parse"
)

// objectRank orders the name fields that can fill Event.Object when an
// event carries several (alter_default_privileges has DatabaseName and
// SchemaName): the most specific wins, the others go to Attrs.
var objectRank = map[string]int{
	"TableName":    6,
	"ViewName":     5,
	"FuncName":     4,
	"TypeName":     3,
	"SchemaName":   2,
	"DatabaseName": 1,
}

// Kinds of payload fields (bits of fieldInfo.kind).
const (
	// kindMapped fields have a place in Event or Raw. A mapped field of
	// the wrong JSON type is ignored, never demoted to Attrs (where a
	// sensitive one would be stored in the clear).
	kindMapped = 1 << iota
	// kindIdent fields name principals or objects; like User and Object
	// they are kept with their markers removed instead of being hashed.
	kindIdent
	// kindSensitive fields are documented as sensitive. In an entry that
	// is not redactable they carry no markers, so they are hashed whole.
	kindSensitive
)

// fieldInfo describes a known payload field; name is the key string
// shared by every event (no per-event allocation).
type fieldInfo struct {
	name string
	kind uint8
}

var fields = func() map[string]fieldInfo {
	m := make(map[string]fieldInfo)
	add := func(kind uint8, names ...string) {
		for _, n := range names {
			fi := m[n]
			m[n] = fieldInfo{name: n, kind: fi.kind | kind}
		}
	}
	add(kindMapped, "Timestamp", "EventType", "User", "ApplicationName", "SessionID",
		"Transport", "Method", "Reason", "Detail", "ErrorText", "RemoteAddress", "Statement",
		"Tag", "SQLSTATE", "ExecMode", "AccessMode", "Grantee", "RoleName", "SettingName",
		"Value", "TableName", "ViewName", "FuncName", "TypeName", "SchemaName",
		"DatabaseName", "NumRows", "RowsRead", "BytesRead", "FullTableScan", "FullIndexScan",
		"Age", "ServiceLatencyNanos", "ServiceLatNanos", "PlaceholderValues",
		"GrantedPrivileges", "RevokedPrivileges", "GranteeRoles", "Members", "Options")
	add(kindIdent, "Role", "Owner", "NewTableName", "NewDatabaseName", "NewSchemaName",
		"IndexName", "SystemIdentity", "TableName", "ViewName", "FuncName", "TypeName",
		"SchemaName", "DatabaseName", "NewFunctionName")
	add(kindSensitive, "Info", "Error", "PrimaryKey", "SetInfo")
	// Frequent unmapped fields, listed only to share their key strings.
	add(0, "DescriptorID", "InstanceID", "Network", "TxnCounter", "StmtPosInTxn", "Duration",
		"Database", "Distribution", "StatementFingerprintID", "TransactionID", "StatementID",
		"PlanGist", "CostEstimate", "SkippedQueries", "TxnID", "NumRetries", "BulkJobId",
		"MaxFullScanRowsEstimate", "TotalScanRowsEstimate", "OutputRowsEstimate", "StatsAvailable",
		"RowsWritten", "KVBytesRead", "KVPairsRead", "KVRowsRead", "NetworkBytesSent",
		"MaxMemUsage", "MaxDiskUsage", "NetworkMessages", "ScanCount", "RunLatencyNanos",
		"PlanLatencyNanos", "ParseLatencyNanos", "IdleLatencyNanos", "OverheadLatencyNanos",
		"ContentionNanos", "CpuTimeNanos", "KvTimeNanos", "MutationID", "RowSize", "TableID",
		"FamilyID", "Committed", "ImplicitTxn", "TransactionFingerprintID")
	return m
}()

// field looks k up in the field table; unknown keys are interned.
func (c *core) field(k []byte) fieldInfo {
	if fi, ok := fields[string(k)]; ok {
		return fi
	}
	return fieldInfo{name: c.intern(k)}
}

// applyPayload maps a structured payload (crdb-v2 "=" entry, json
// "event" object) onto the event, keyed on field names only: the same
// field means the same thing in every EventType. Fields of the wrong JSON
// type are ignored.
func (c *core) applyPayload(o *fastjson.Object) {
	c.ev.Type = "" // set from EventType; an entry without one stays generic
	o.Visit(func(k []byte, v *fastjson.Value) { c.payloadField(k, v) })
	if c.ev.Type == "" {
		c.ev.Type = "structured"
	}
}

func (c *core) payloadField(k []byte, v *fastjson.Value) {
	ev := c.ev
	t := v.Type()
	if t == fastjson.TypeString {
		s, _ := v.StringBytes()
		switch string(k) {
		case "EventType":
			if len(s) > 0 {
				ev.Type = c.intern(s)
			}
		case "User":
			ev.User = c.internUnmark(s)
		case "ApplicationName":
			ev.Application = c.internUnmark(s)
		case "SessionID":
			ev.SessionID = string(s)
		case "Transport":
			ev.Transport = c.intern(s)
		case "Method":
			ev.AuthMethod = c.intern(s)
		case "Reason": // a name, should a future version print one
			ev.AuthFailure = c.intern(s)
		case "Detail":
			if c.raw.ErrorText == "" {
				c.raw.ErrorText = c.safeText(s)
			}
		case "ErrorText":
			c.raw.ErrorText = c.safeText(s)
		case "RemoteAddress":
			c.remoteHost, c.remotePort = c.client(s)
		case "Statement":
			c.raw.Statement = append(c.raw.Statement[:0], s...)
		case "Tag":
			ev.StatementTag = c.intern(s)
		case "SQLSTATE":
			ev.SQLState = c.intern(s)
		case "ExecMode":
			ev.ExecMode = c.intern(s)
		case "AccessMode":
			ev.AccessMode = c.intern(s)
		case "Grantee":
			ev.Grantee = c.internUnmark(s)
		case "RoleName":
			ev.RoleName = c.internUnmark(s)
		case "SettingName":
			ev.SettingName = c.intern(s)
		case "Value":
			c.raw.SettingValue = string(s)
		case "TableName", "ViewName", "FuncName", "TypeName", "SchemaName", "DatabaseName":
			c.object(k, s)
		default:
			if fi := c.field(k); fi.kind&kindMapped == 0 {
				c.stringAttr(fi, s)
			}
		}
		return
	}
	switch string(k) {
	case "Timestamp":
		if n, err := v.Int64(); err == nil && n > 0 {
			c.evTime = n
		}
	case "Reason":
		if n, err := v.Int64(); err == nil {
			ev.AuthFailure = authFailReason(n)
		}
	case "NumRows":
		ev.Rows = intOf(v, ev.Rows)
	case "RowsRead":
		ev.RowsRead = intOf(v, ev.RowsRead)
	case "BytesRead":
		ev.BytesRead = intOf(v, ev.BytesRead)
	case "FullTableScan":
		ev.FullTableScan = t == fastjson.TypeTrue
	case "FullIndexScan":
		ev.FullIndexScan = t == fastjson.TypeTrue
	case "Age":
		if f, err := v.Float64(); err == nil {
			c.setAge(f)
		}
	case "ServiceLatencyNanos", "ServiceLatNanos":
		if n, err := v.Int64(); err == nil && n >= 0 {
			c.svcNS, c.hasSvc = n, true
		}
	case "PlaceholderValues":
		c.raw.Placeholders = appendStrings(c.raw.Placeholders[:0], v)
	case "GrantedPrivileges":
		ev.GrantedPrivileges = c.identList(v)
	case "RevokedPrivileges":
		ev.RevokedPrivileges = c.identList(v)
	case "GranteeRoles":
		ev.Roles = c.identList(v)
	case "Members":
		ev.Members = c.identList(v)
	case "Options":
		ev.Options = c.identList(v)
	default:
		if fi := c.field(k); fi.kind&kindMapped == 0 {
			c.scalarAttr(fi, v)
		}
	}
}

// object records one of the name fields.
func (c *core) object(k, s []byte) {
	r := objectRank[string(k)]
	if r > c.objRank {
		if c.ev.Object != "" {
			c.setAttr(c.objKey, c.ev.Object)
		}
		c.ev.Object = c.internUnmark(s)
		c.objRank, c.objKey = r, c.intern(k)
		return
	}
	c.setAttr(c.field(k).name, c.internUnmark(s))
}

// stringAttr stores an unmapped string field. Principals and object names
// lose their markers; any other ‹…› span is replaced by its hash token.
func (c *core) stringAttr(fi fieldInfo, s []byte) {
	switch {
	case fi.kind&kindIdent != 0:
		c.setAttr(fi.name, c.internUnmark(s))
	case !c.redactable && fi.kind&kindSensitive != 0 && len(s) > 0:
		c.setAttr(fi.name, parse.MarkOpen+"#"+c.h.Sum(s)+parse.MarkClose)
	default:
		c.setAttr(fi.name, c.redactedAttr(s))
	}
}

// scalarAttr stores an unmapped number, boolean or array of scalars.
// Numbers keep their decimal text, so uint64 ids above 2^53 stay exact.
// Objects and nulls are dropped.
func (c *core) scalarAttr(fi fieldInfo, v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeNumber:
		c.buf = v.MarshalTo(c.buf[:0])
		c.setAttr(fi.name, c.internNum(c.buf))
	case fastjson.TypeTrue:
		c.setAttr(fi.name, "true")
	case fastjson.TypeFalse:
		c.setAttr(fi.name, "false")
	case fastjson.TypeArray:
		a, _ := v.Array()
		b := c.buf[:0]
		n := 0
		for _, e := range a {
			switch e.Type() {
			case fastjson.TypeString:
				s, _ := e.StringBytes()
				b = appendSep(b, n)
				b = append(b, s...)
			case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
				b = appendSep(b, n)
				b = e.MarshalTo(b)
			default:
				continue
			}
			n++
		}
		c.buf = b
		if n > 0 {
			c.stringAttr(fi, b)
		}
	}
}

func appendSep(b []byte, n int) []byte {
	if n > 0 {
		return append(b, ',')
	}
	return b
}

// identList copies an array of names (privileges, roles, members, role
// options) with markers removed. Non-string elements are skipped.
func (c *core) identList(v *fastjson.Value) []string {
	a, err := v.Array()
	if err != nil || len(a) == 0 {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, e := range a {
		if s, err := e.StringBytes(); err == nil {
			out = append(out, c.internUnmark(s))
		}
	}
	return out
}

// appendStrings appends the string elements of array v (copied, markers
// kept) to dst.
func appendStrings(dst []string, v *fastjson.Value) []string {
	a, err := v.Array()
	if err != nil {
		return dst
	}
	for _, e := range a {
		switch e.Type() {
		case fastjson.TypeString:
			s, _ := e.StringBytes()
			dst = append(dst, string(s))
		case fastjson.TypeNumber:
			dst = append(dst, string(e.MarshalTo(nil)))
		}
	}
	return dst
}

// intOf returns v as an int64, or def when v is not an integer that fits.
func intOf(v *fastjson.Value, def int64) int64 {
	if v.Type() != fastjson.TypeNumber {
		return def
	}
	if n, err := v.Int64(); err == nil {
		return n
	}
	if u, err := v.Uint64(); err == nil {
		return int64(min(u, 1<<63-1))
	}
	return def
}

// internNum returns the text of a number. Only short numbers are interned:
// counters and sizes are high-cardinality and would churn the table.
func (c *core) internNum(b []byte) string {
	if len(b) <= 3 {
		return c.intern(b)
	}
	return string(b)
}
