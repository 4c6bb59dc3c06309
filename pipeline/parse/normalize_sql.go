package parse

import (
	"bytes"
	"hash/maphash"
	"slices"
	"strings"

	"roachwatch/pipeline/classify"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sqlfp"
)

// maxValues caps the values one event carries (a bulk INSERT can bind
// thousands); the statement's fingerprint still covers all of them.
const maxValues = 32

// statement analyzes raw.Statement: fingerprint and hash, tables, columns,
// sensitive columns (explicit, by name pattern, or through SELECT * on a
// table with listed sensitive columns), values bound to sensitive columns
// or recognisably personal (class + keyed hash only), and sqlcommenter
// tags from comments.
func (n *Normalizer) statement(ev *event.Event, raw *Raw) {
	res := n.analyzer.Analyze(raw.Statement)
	// Fingerprints repeat (that is their point): share the string of an
	// equal earlier one. res.Hash is xxhash64 of the fingerprint.
	ev.Fingerprint = n.fps.get(res.Fingerprint, res.Hash)
	ev.FingerprintHash = res.Hash
	if ev.StatementTag == "" {
		ev.StatementTag = res.Verb
	}
	// The names in res are immutable strings interned by the Analyzer
	// (only the slices holding them are reused), so events keep them
	// without a copy.
	// Tables and Columns share one allocation; each has its capacity
	// capped, so an append to one never writes into the other.
	nt, nc := len(res.Tables), len(res.Columns)
	if ev.Columns != nil {
		nc = 0
	}
	if nt+nc > 0 {
		names := make([]string, nt+nc)
		if nt > 0 {
			ev.Tables = names[:nt:nt]
			copy(ev.Tables, res.Tables)
		}
		if nc > 0 {
			ev.Columns = names[nt:nt]
		}
	}
	for _, c := range res.Columns {
		name := c.Name
		if c.Table != "" {
			name = n.qualified(c.Table, c.Name)
		}
		if !contains(ev.Columns, name) {
			ev.Columns = append(ev.Columns, name)
		}
		if n.catalog.Sensitive(c.Table, c.Name) && !contains(ev.SensitiveColumns, name) {
			ev.SensitiveColumns = append(ev.SensitiveColumns, name)
		}
	}
	if res.Star {
		for _, t := range ev.Tables {
			for _, c := range n.catalog.SensitiveColumnsOf(t) {
				if !contains(ev.SensitiveColumns, c) {
					ev.SensitiveColumns = append(ev.SensitiveColumns, c)
				}
			}
		}
	}
	for i := range res.Bindings {
		if len(ev.Values) >= maxValues {
			break
		}
		n.binding(ev, raw, &res.Bindings[i])
	}
	for _, c := range res.Comments {
		tags := n.comments.Parse(c)
		if tags == nil && commentAfterLiteral(raw.Statement, c) {
			// A comment right after a closed string literal is the shape of
			// comment truncation ("admin'--"): Django's ORM writes no comments
			// of its own, sqlcommenter tags parse, and CockroachDB drops
			// comments, so only application-side SQL logs show this.
			setAttr(ev, AttrSQLComment, CommentAfterLiteral)
		}
		if ev.QueryTags == nil && len(tags) > 0 {
			ev.QueryTags = tags // a new map: the event can own it
			continue
		}
		for k, v := range tags {
			if _, ok := ev.QueryTags[k]; !ok {
				ev.QueryTags[k] = v
			}
		}
	}
	if ev.Route == "" {
		ev.Route = ev.QueryTags["route"]
	}
	if ev.View == "" {
		ev.View = ev.QueryTags["controller"]
	}
}

func (n *Normalizer) binding(ev *event.Event, raw *Raw, b *sqlfp.Binding) {
	v := b.Value
	var class classify.Class
	switch b.Kind {
	case sqlfp.LitPlaceholder:
		if b.Placeholder < 1 || b.Placeholder > len(raw.Placeholders) {
			return // value not logged
		}
		p := n.unquoteLiteral(raw.Placeholders[b.Placeholder-1])
		if p.redacted {
			class = classify.ClassRedacted
		} else if p.bytes {
			class = classify.ClassBytes
		}
		v = p.value
	case sqlfp.LitBytes:
		class = classify.ClassBytes
	case sqlfp.LitRedacted:
		class = classify.ClassRedacted
	case sqlfp.LitNull, sqlfp.LitBool:
		return
	}
	if class == "" {
		class = n.classifier.Value(v)
	}
	sensitive := b.Column != "" && n.catalog.Sensitive(b.Table, b.Column)
	if !sensitive && !classify.IsPersonal(class) {
		return
	}
	op := event.OpCompare
	if b.Op == sqlfp.OpWrite {
		op = event.OpWrite
	}
	ev.Values = append(ev.Values, event.Value{
		Table: b.Table, Column: b.Column, Op: op, Class: string(class), Hash: n.hasher.Sum(v),
	})
}

// literal is an unquoted placeholder value; value aliases Normalizer.lit.
type literal struct {
	value    []byte
	bytes    bool
	redacted bool
}

// unquoteLiteral turns a PlaceholderValues element (an SQL literal,
// possibly inside markers: ‹'a1f3'›, ‹250›, ‹b'\x00'›, ‹<redacted>›) into
// its value. The value is in a reused buffer, valid until the next call.
func (n *Normalizer) unquoteLiteral(lit string) literal {
	n.lit = appendUnmark(n.lit[:0], lit)
	s := bytes.TrimSpace(n.lit)
	switch {
	case string(s) == "<redacted>" || string(s) == "×" || string(s) == "'*****'":
		return literal{value: s, redacted: true}
	case bytes.HasPrefix(s, []byte("b'")) || bytes.HasPrefix(s, []byte("x'")) || bytes.HasSuffix(s, []byte("::BYTES")):
		return literal{value: s, bytes: true}
	}
	if i := bytes.LastIndex(s, []byte("::")); i > 0 && s[0] == '\'' {
		s = s[:i]
	}
	if bytes.HasPrefix(s, []byte("e'")) || bytes.HasPrefix(s, []byte("E'")) {
		s = s[1:]
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return literal{value: collapseQuotes(s[1 : len(s)-1])}
	}
	return literal{value: s}
}

// collapseQuotes replaces, left to right, every doubled single quote of
// b by one, in place: bytes.ReplaceAll of the SQL escape, without the copy.
func collapseQuotes(b []byte) []byte {
	j := 0
	for i := 0; i < len(b); i++ {
		b[j] = b[i]
		j++
		if b[i] == '\'' && i+1 < len(b) && b[i+1] == '\'' {
			i++
		}
	}
	return b[:j]
}

// secrets scans every free-text part of the entry for secrets and personal
// data in the clear; each is kept as type, field and keyed hash.
func (n *Normalizer) secrets(ev *event.Event, raw *Raw) {
	scan := func(field string, text []byte) {
		if len(text) == 0 {
			return
		}
		n.classifier.ScanSecrets(text, func(typ string, secret []byte) {
			if len(ev.Secrets) >= maxValues {
				return
			}
			h := n.hasher.Sum(secret)
			for _, s := range ev.Secrets {
				if s.Type == typ && s.Hash == h {
					return
				}
			}
			ev.Secrets = append(ev.Secrets, event.Secret{Type: typ, Field: field, Hash: h})
		})
	}
	stmt := appendUnmarked(n.unmarked[:0], raw.Statement)
	if len(stmt) > 0 && len(raw.Statement) > 0 && &stmt[0] != &raw.Statement[0] {
		n.unmarked = stmt // keep the grown buffer, never the caller's
	}
	scan("statement", stmt)
	// The other fields are strings: copy each into one reused buffer
	// instead of converting per field (Unmark copies only when there are
	// markers).
	for _, p := range raw.Placeholders {
		scan("placeholder", n.plainText(p, true))
	}
	scan("params", n.plainText(raw.Params, false))
	scan("error_text", n.plainText(raw.ErrorText, true))
	scan("message", n.plainText(raw.Message, true))
}

// plainText returns a copy of s in the reused text buffer, valid until
// the next call; with unmark, the copy is Unmark(s).
func (n *Normalizer) plainText(s string, unmark bool) []byte {
	if unmark {
		n.text = appendUnmark(n.text[:0], s)
	} else {
		n.text = append(n.text[:0], s...)
	}
	return n.text
}

// qualified returns table + "." + column, sharing the string of an equal
// earlier name.
func (n *Normalizer) qualified(table, column string) string {
	b := append(n.text[:0], table...)
	b = append(b, '.')
	b = append(b, column...)
	n.text = b
	return n.names.get(b, maphash.Bytes(n.seed, b))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// redactText returns free text fit to store: every ‹…› span becomes a
// hash token, and so does every secret or personal value the recognizers
// find outside the spans (Django messages and tracebacks carry no markers),
// as well as the value of a PostgreSQL/CockroachDB "Key (col)=(value)"
// constraint detail.
func (n *Normalizer) redactText(s string) string {
	s = n.hasher.RedactSpans(s)
	s = n.redactKeyDetail(s)
	b := []byte(s)
	var spans [][2]int
	n.classifier.ScanSecretSpans(b, func(_ string, start, end int) {
		spans = append(spans, [2]int{start, end})
	})
	if len(spans) == 0 {
		return s
	}
	// Scanners report in their own order and may overlap: sort and merge,
	// so that nothing found is left in the clear.
	slices.SortFunc(spans, func(x, y [2]int) int { return x[0] - y[0] })
	var out []byte
	last := 0
	for i := 0; i < len(spans); i++ {
		start, end := spans[i][0], spans[i][1]
		for i+1 < len(spans) && spans[i+1][0] < end {
			end = max(end, spans[i+1][1])
			i++
		}
		if start < last {
			start = last
		}
		out = append(out, b[last:start]...)
		out = append(out, MarkOpen+"#"...)
		out = append(out, n.hasher.Sum(b[start:end])...)
		out = append(out, MarkClose...)
		last = end
	}
	return string(append(out, b[last:]...))
}

// redactKeyDetail hashes the value of "Key (col)=(value)" details of
// unique-constraint errors, which carry the offending value in the clear.
func (n *Normalizer) redactKeyDetail(s string) string {
	const key = "Key ("
	i := strings.Index(s, key)
	for i >= 0 {
		j := strings.Index(s[i:], ")=(")
		if j < 0 {
			break
		}
		vs := i + j + len(")=(")
		k := strings.Index(s[vs:], ")")
		if k < 0 {
			k = len(s) - vs
		}
		if strings.HasPrefix(s[vs:], MarkOpen+"#") {
			i = nextIndex(s, key, vs)
			continue
		}
		tok := MarkOpen + "#" + n.hasher.SumString(s[vs:vs+k]) + MarkClose
		s = s[:vs] + tok + s[vs+k:]
		i = nextIndex(s, key, vs+len(tok))
	}
	return s
}

func nextIndex(s, sub string, from int) int {
	if from >= len(s) {
		return -1
	}
	j := strings.Index(s[from:], sub)
	if j < 0 {
		return -1
	}
	return from + j
}

// Attribute set on events whose SQL has a non-sqlcommenter comment right
// after a string literal (read by RW-SQLI-001).
const (
	AttrSQLComment      = "sql_comment"
	CommentAfterLiteral = "after_literal"
)

// commentAfterLiteral reports whether the comment with body c follows a
// closing quote in stmt, with only spaces between.
func commentAfterLiteral(stmt, c []byte) bool {
	if len(c) == 0 {
		return false
	}
	i := bytes.Index(stmt, c)
	if i < 2 {
		return false
	}
	j := i - 2 // skip the "--" or "/*" opener
	if stmt[j] != '-' && stmt[j] != '/' {
		return false
	}
	for j--; j >= 0 && (stmt[j] == ' ' || stmt[j] == '\t'); j-- {
	}
	return j >= 0 && stmt[j] == '\''
}

func setAttr(ev *event.Event, k, v string) {
	if ev.Attrs == nil {
		ev.Attrs = make(map[string]string, 1)
	}
	ev.Attrs[k] = v
}
