package loggen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// val is one SQL parameter value, rendered differently by each consumer:
// psycopg2 interpolation (Django's SQL log), CockroachDB's re-rendered
// statement, Python repr (Django's args=) and python-json-logger JSON.
type val struct {
	kind byte // 'i' int, 's' str, 'd' decimal, 'n' None, 'b' bool, 't' timestamp (ns in i)
	s    string
	i    int64
}

func vInt(i int64) val   { return val{kind: 'i', i: i} }
func vStr(s string) val  { return val{kind: 's', s: s} }
func vDec(s string) val  { return val{kind: 'd', s: s} }
func vBool(b bool) val   { return val{kind: 'b', i: map[bool]int64{false: 0, true: 1}[b]} }
func vTime(ns int64) val { return val{kind: 't', i: ns} }
func vNone() val         { return val{kind: 'n'} }
func isoTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
}

// djangoSQL is the literal psycopg2 interpolates into the query.
func (v val) djangoSQL() string {
	switch v.kind {
	case 'i':
		return itoa(v.i)
	case 's':
		return "'" + strings.ReplaceAll(v.s, "'", "''") + "'"
	case 'd':
		return v.s
	case 'b':
		return map[int64]string{0: "false", 1: "true"}[v.i]
	case 't':
		return "'" + isoTime(v.i) + "'::timestamptz"
	default:
		return "NULL"
	}
}

// crdbSQL is the value as CockroachDB re-renders it, markers included.
func (v val) crdbSQL() string {
	switch v.kind {
	case 'i', 'd':
		return mark(v.djangoSQL())
	case 's':
		return mark(crdbString(v.s))
	case 'b':
		return mark(v.djangoSQL())
	case 't':
		return mark("'"+isoTime(v.i)+"'") + "::TIMESTAMPTZ"
	default:
		return "NULL"
	}
}

// crdbString renders a SQL string constant as CockroachDB does: plain
// quotes, or an e” string when escapes are needed.
func crdbString(s string) string {
	if !strings.ContainsAny(s, "'\\\n") {
		return "'" + s + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "e'" + r.Replace(s) + "'"
}

// pyRepr is Python's repr of the value.
func (v val) pyRepr() string {
	switch v.kind {
	case 'i':
		return itoa(v.i)
	case 's':
		return pyStrRepr(v.s)
	case 'd':
		return "Decimal('" + v.s + "')"
	case 'b':
		return map[int64]string{0: "False", 1: "True"}[v.i]
	case 't':
		t := time.Unix(0, v.i).UTC()
		return fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d, %d, %d, tzinfo=datetime.timezone.utc)",
			t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1000)
	default:
		return "None"
	}
}

// pyStrRepr mimics repr(str): single quotes unless the text holds a single
// quote and no double quote.
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyTupleRepr renders params as the tuple Django passes: (a,), (a, b), ().
func pyTupleRepr(vs []val) string {
	if vs == nil {
		return "None"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.pyRepr()
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// appendPyJSON appends the value as python-json-logger encodes it.
func (v val) appendPyJSON(b []byte) []byte {
	switch v.kind {
	case 'i':
		return strconv.AppendInt(b, v.i, 10)
	case 's', 'd':
		return appendPyJSONString(b, v.s)
	case 'b':
		return append(b, map[int64]string{0: "false", 1: "true"}[v.i]...)
	case 't':
		return appendPyJSONString(b, isoTime(v.i))
	default:
		return append(b, "null"...)
	}
}

// appendPyJSONString encodes s like json.dumps with ensure_ascii=True.
func appendPyJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || r >= utf8.RuneSelf:
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				b = fmt.Appendf(b, `\u%04x\u%04x`, r1, r2)
				continue
			}
			b = append(b, '\\', 'u', hexd[r>>12&0xf], hexd[r>>8&0xf], hexd[r>>4&0xf], hexd[r&0xf])
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}

// pyFloat renders a float as Python's repr does for the magnitudes used
// here (durations): shortest digits, always with a decimal point.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
