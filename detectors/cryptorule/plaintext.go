package cryptorule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/classify"
	"roachwatch/pipeline/event"
)

// ciphertextClasses is the SQL list of classes that are not plaintext.
const ciphertextClasses = "('fernet', 'pgp_armor', 'ciphertext', 'bytes', 'redacted', 'empty')"

// plaintextClass reports whether a value of class cl is data in the
// clear: personal data, or plain text or a number. Ciphertext envelopes,
// redacted and empty values are not, nor are classes this version does not
// know.
func plaintextClass(cl string) bool {
	c := classify.Class(cl)
	return classify.IsPersonal(c) || c == classify.ClassText || c == classify.ClassNumber
}

// pciClass reports classes that are PCI or identity data.
func pciClass(cl string) bool {
	c := classify.Class(cl)
	return c == classify.ClassSSN || c == classify.ClassPAN || c == classify.ClassIBAN
}

// valueColumn resolves the table of a value (the statement's only table
// when the parser did not bind one) and returns it with the canonical
// "table.column" name.
func valueColumn(ev *event.Event, v *event.Value) (table, name string) {
	table = v.Table
	if table == "" && len(ev.Tables) == 1 {
		table = ev.Tables[0]
	}
	if table == "" {
		return "", strings.ToLower(v.Column)
	}
	name = catalog.Key(table + "." + v.Column)
	return name[:strings.LastIndexByte(name, '.')], name
}

// sensitive reports whether the value's column is sensitive: the parser
// listed it in SensitiveColumns, or the detector's catalog says so.
func (d *Detector) sensitive(ev *event.Event, table, column, name string) bool {
	for _, c := range ev.SensitiveColumns {
		if c == name || c == column || catalog.Key(c) == name {
			return true
		}
	}
	return d.cat.Sensitive(table, column)
}

// plaintextValues reports RW-CRYPTO-001 occurrences for ev's values.
func (d *Detector) plaintextValues(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	for i := range ev.Values {
		v := &ev.Values[i]
		if v.Column == "" || (v.Op != event.OpWrite && v.Op != event.OpCompare) || !plaintextClass(v.Class) {
			continue
		}
		table, name := valueColumn(ev, v)
		if !d.sensitive(ev, table, v.Column, name) {
			continue
		}
		mustEncrypt := table != "" && d.cat.MustEncrypt(table, v.Column)
		if d.hashed[name] && !classify.IsPersonal(classify.Class(v.Class)) {
			continue // a password hash, which classifies as text
		}
		first, _ := d.seenOnce(ev)
		out = append(out, d.plaintextOccurrence(ev, v, table, name, mustEncrypt, first))
	}
	return out
}

func (d *Detector) plaintextOccurrence(ev *event.Event, v *event.Value, table, name string, mustEncrypt, first bool) detectors.Finding {
	ws := detectors.WindowStart(ev.Time, d.window)
	id := detectors.IncidentID(Rule001.ID, ws, ev.Cluster, ev.Source, ev.User, name, v.Op)
	f := detectors.Occurrence(Rule001, id, ev.Time, ev.ID)
	if !first {
		f.Count = 0 // another channel's copy of a counted execution: evidence only
	}
	d.fillCommon(&f, ev)
	if table != "" {
		f.Tables = []string{table}
	}
	f.Columns = []string{name}
	classes := v.Class
	f.Details = map[string]string{"op": v.Op, "column": name, "source": ev.Source}
	in := d.open.get(id, ws)
	if in != nil {
		classes = in.addClass(v.Class)
		f.Details["distinct_values"] = in.addHash(v.Hash)
	}
	f.Details["class"] = classes
	if mustEncrypt {
		f.Details["must_encrypt"] = "true"
	}
	if ev.Route != "" {
		f.Details["route"] = ev.Route
	}
	if mustEncrypt || pciClass(v.Class) {
		f.Severity = detectors.SeverityCritical
	}
	verb := "wrote a plaintext " + v.Class + " value to " + name
	if v.Op == event.OpCompare {
		verb = "compared " + name + " against a plaintext " + v.Class + " value"
	}
	f.Summary = fmt.Sprintf("%s %s: the column receives or is matched against the value in the clear, not ciphertext.", actor(ev), verb)
	if mustEncrypt {
		f.Summary += " The catalog says " + name + " must hold ciphertext."
	}
	f.Query = in.cachedQuery(func() string { return valuesQuery(ev, name, v.Op, ws, d.window) })
	return f
}

// fillCommon sets principal, session, cluster, node and fingerprint.
func (d *Detector) fillCommon(f *detectors.Finding, ev *event.Event) {
	f.Principal = detectors.Principal{User: ev.User, ClientAddr: ev.ClientAddr, Application: ev.Application}
	f.SessionID = ev.SessionID
	f.Cluster, f.Node = ev.Cluster, hostOf(ev)
	f.Fingerprint, f.FingerprintHash = ev.Fingerprint, ev.FingerprintHash
}

// actor describes who ran the statement, for summaries.
func actor(ev *event.Event) string {
	if ev.Source == event.SourceDjango {
		s := "Django"
		if ev.View != "" {
			s += " view " + ev.View
		}
		if ev.Route != "" {
			s += " (route " + ev.Route + ")"
		}
		return s
	}
	s := "User " + orUnknown(ev.User)
	if ev.ClientAddr != "" {
		s += " from " + ev.ClientAddr
	}
	if ev.Application != "" {
		s += " (" + ev.Application + ")"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// principalPredicate selects the events of the finding's principal.
func principalPredicate(ev *event.Event) string {
	return "source = " + detectors.Quote(ev.Source) + " AND user = " + detectors.Quote(ev.User)
}

// windowRange covers the incident's window.
func windowRange(ws, window int64) string {
	return detectors.TimeRange(time.Unix(0, ws).UTC(), time.Unix(0, ws+window).UTC())
}

// valuesQuery lists the principal's events in the window that bound a
// plaintext value to the column. values is a Nested column in ClickHouse,
// so the lambdas take its parallel arrays.
func valuesQuery(ev *event.Event, name, op string, ws, window int64) string {
	i := strings.LastIndexByte(name, '.')
	match := "c = " + detectors.Quote(name[i+1:])
	if i > 0 {
		match = "t = " + detectors.Quote(name[:i]) + " AND " + match
	}
	match += " AND o = " + detectors.Quote(op) + " AND cl NOT IN " + ciphertextClasses
	arrays := "`values.table`, `values.column`, `values.op`, `values.class`"
	return "SELECT time, type, node, user, client_addr, application, session_id, route, fingerprint, " +
		"arrayFilter((h, t, c, o, cl) -> " + match + ", `values.hash`, " + arrays + ") AS value_hashes FROM roachwatch.events WHERE " +
		principalPredicate(ev) + " AND arrayExists((t, c, o, cl) -> " + match + ", " + arrays + ") AND " +
		windowRange(ws, window) + " ORDER BY time"
}

// isRead reports statements that read columns.
func isRead(ev *event.Event) bool {
	return ev.StatementTag == "SELECT" || (ev.Type == "sensitive_table_access" && ev.AccessMode == "r")
}

// colKey caches the plaintext lookup of one Columns entry.
type colKey struct{ table, col string }

// maxPlainCache bounds the lookup cache; it is cleared when full.
const maxPlainCache = 65536

// plaintextColumn resolves a Columns entry to its canonical table.column
// when the catalog lists it as stored in plaintext, else "". A bare column
// is resolved against the statement's tables: the only one, or the only
// one in which that column is plaintext.
func (d *Detector) plaintextColumn(ev *event.Event, entry string) string {
	k := colKey{col: entry}
	bare := strings.IndexByte(entry, '.') < 0
	if bare {
		if len(ev.Tables) != 1 {
			found := ""
			for _, t := range ev.Tables {
				if d.cat.Plaintext(t, entry) {
					if found != "" {
						return "" // ambiguous
					}
					found = catalog.Key(t + "." + entry)
				}
			}
			return found
		}
		k.table = ev.Tables[0]
	}
	if name, ok := d.plainCache[k]; ok {
		return name
	}
	name := ""
	full := entry
	if bare {
		full = k.table + "." + entry
	}
	if i := strings.LastIndexByte(full, '.'); i > 0 && d.cat.Plaintext(full[:i], full[i+1:]) {
		name = catalog.Key(full)
	}
	if len(d.plainCache) >= maxPlainCache {
		clear(d.plainCache)
	}
	d.plainCache[k] = name
	return name
}

// readColumns returns the plaintext columns (canonical table.column) a
// read touches. Statements with the same fingerprint reference the same
// tables and columns, so the answer is cached per fingerprint hash: one
// map lookup per read instead of one per column. The result is shared;
// callers must not modify it.
func (d *Detector) readColumns(ev *event.Event) []string {
	if ev.FingerprintHash != 0 {
		if names, ok := d.fpCache[ev.FingerprintHash]; ok {
			return names
		}
	}
	var names []string
	for _, list := range [2][]string{ev.Columns, ev.SensitiveColumns} {
		for _, c := range list {
			if name := d.plaintextColumn(ev, c); name != "" && !containsStr(names, name) {
				names = append(names, name)
			}
		}
	}
	if ev.FingerprintHash != 0 {
		if len(d.fpCache) >= maxPlainCache {
			clear(d.fpCache)
		}
		d.fpCache[ev.FingerprintHash] = names
	}
	return names
}

// plaintextReads reports RW-CRYPTO-002 occurrences, one per plaintext
// column the read touches.
func (d *Detector) plaintextReads(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	names := d.readColumns(ev)
	if len(names) == 0 {
		return out
	}
	first, rows := d.seenOnce(ev)
	ws := detectors.WindowStart(ev.Time, d.window)
	for _, name := range names {
		id := detectors.IncidentID(Rule002.ID, ws, ev.Cluster, ev.Source, ev.User, name)
		f := detectors.Occurrence(Rule002, id, ev.Time, ev.ID)
		if !first {
			f.Count = 0
		}
		d.fillCommon(&f, ev)
		table := name[:strings.LastIndexByte(name, '.')]
		f.Tables, f.Columns = []string{table}, []string{name}
		total := rows
		in := d.open.get(id, ws)
		if in != nil {
			in.rows += rows
			total = in.rows
		}
		f.Details = map[string]string{"column": name, "rows": strconv.FormatInt(total, 10),
			"rows_threshold": strconv.FormatInt(d.cfg.RowsThreshold, 10), "source": ev.Source}
		if total > d.cfg.RowsThreshold {
			f.Severity = detectors.SeverityHigh
			f.Title = "Bulk read of a sensitive column stored in plaintext"
		}
		f.Summary = fmt.Sprintf("%s read %s, which the catalog lists as stored in plaintext: the values came back in the clear (%d rows so far in this window).",
			actor(ev), name, total)
		if total == 0 {
			f.Summary = fmt.Sprintf("%s read %s, which the catalog lists as stored in plaintext: the values came back in the clear (the log does not say how many rows).",
				actor(ev), name)
		}
		f.Query = in.cachedQuery(func() string { return readsQuery(ev, table, name, ws, d.window) })
		out = append(out, f)
	}
	return out
}

func readsQuery(ev *event.Event, table, name string, ws, window int64) string {
	col := name[len(table)+1:]
	return "SELECT time, type, node, user, client_addr, application, session_id, fingerprint, rows, rows_read FROM roachwatch.events WHERE " +
		principalPredicate(ev) + " AND (statement_tag = 'SELECT' OR (type = 'sensitive_table_access' AND access_mode = 'r')) AND " +
		"(has(columns, " + detectors.Quote(name) + ") OR has(sensitive_columns, " + detectors.Quote(name) + ") OR (has(columns, " +
		detectors.Quote(col) + ") AND arrayExists(t -> endsWith(t, " + detectors.Quote(table) + "), tables))) AND " +
		windowRange(ws, window) + " ORDER BY time"
}

func containsStr(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
