package sqlfp

import (
	"bytes"
)

// ParseSQLCommenter parses one comment body in sqlcommenter format
// (key='value',key2='value2'; keys and values URL-encoded). It follows the
// rules CockroachDB applies to query tags: surrounding /* */ are stripped if
// still present; the body is split on ','; every pair must
// split on '=' into exactly two parts with a single-quoted value, otherwise
// the whole comment is not sqlcommenter-shaped and nil is returned;
// duplicate keys keep the first value. Keys and values are normalized by
// replacing \' with ', then (unlike CockroachDB) collapsing the %% that
// Django doubles into %, then query-unescaping (+ becomes a space) and
// path-unescaping; an invalid escape makes the value "".
func ParseSQLCommenter(comment []byte) map[string]string {
	var p CommentParser
	return p.Parse(comment)
}

// CommentParser is ParseSQLCommenter with a scratch buffer kept between
// calls and a caller's choice of how keys and values become strings. The
// zero value is ready to use; it is not safe for concurrent use.
type CommentParser struct {
	// String returns b as a string, e.g. sharing the string of an equal
	// earlier value; b is valid only during the call. nil means string(b).
	String func(b []byte) string
	buf    []byte
}

// Parse is ParseSQLCommenter. The map is new: the caller owns it.
func (p *CommentParser) Parse(comment []byte) map[string]string {
	body := bytes.TrimSpace(comment)
	if bytes.HasPrefix(body, []byte("/*")) && bytes.HasSuffix(body, []byte("*/")) && len(body) >= 4 {
		body = bytes.TrimSpace(body[2 : len(body)-2])
	}
	if len(body) == 0 {
		return nil
	}
	var tags map[string]string
	for more := true; more; {
		var pair []byte
		pair, body, more = bytes.Cut(body, []byte{','})
		key, value, ok := splitPair(pair)
		if !ok {
			return nil
		}
		if tags == nil {
			tags = make(map[string]string, 8)
		}
		k := p.unescape(key)
		if _, dup := tags[k]; !dup {
			tags[k] = p.unescape(value)
		}
	}
	return tags
}

// unescape returns unescapeTag(b) through p.String.
func (p *CommentParser) unescape(b []byte) string {
	u, ok := b, true
	if needsUnescape(b) {
		u, ok = unescapeTagTo(p.buf[:0], b)
		p.buf = u[:0]
	}
	switch {
	case !ok || len(u) == 0:
		return ""
	case p.String != nil:
		return p.String(u)
	}
	return string(u)
}

// splitPair splits key='value' and strips the quotes.
func splitPair(pair []byte) (key, value []byte, ok bool) {
	pair = bytes.TrimSpace(pair)
	if bytes.Count(pair, []byte{'='}) != 1 {
		return nil, nil, false
	}
	key, value, _ = bytes.Cut(pair, []byte{'='})
	key, value = bytes.TrimSpace(key), bytes.TrimSpace(value)
	if len(key) == 0 || len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
		return nil, nil, false
	}
	return key, value[1 : len(value)-1], true
}

// unescapeTag normalizes one key or value; see ParseSQLCommenter. It does
// in one scratch buffer, in place, what strings.ReplaceAll(`\'`, `'`),
// strings.ReplaceAll("%%", "%"), url.QueryUnescape and url.PathUnescape
// do in turn (each step only shortens the text): Django writes these tags
// on every query, and the library chain allocated five times per value.
func unescapeTag(b []byte) string {
	if !needsUnescape(b) {
		// Nothing to replace or unescape: every step below would return
		// its input unchanged.
		return string(b)
	}
	u, ok := unescapeTagTo(nil, b)
	if !ok {
		return ""
	}
	return string(u)
}

// needsUnescape reports whether unescapeTag could change b.
func needsUnescape(b []byte) bool { return bytes.IndexAny(b, `\%+`) >= 0 }

// unescapeTagTo writes unescapeTag(b) to dst[:0] (grown as needed) and
// returns it; false for an invalid escape.
func unescapeTagTo(dst, b []byte) ([]byte, bool) {
	w := append(dst[:0], b...)
	w = collapsePair(w, '\\', '\'')
	w = collapsePair(w, '%', '%')
	w, ok := urlUnescape(w, true)
	if !ok {
		return w, false
	}
	return urlUnescape(w, false)
}

// collapsePair replaces, left to right and without overlaps, every pair
// of bytes x, y in w by y, in place; strings.ReplaceAll(s, "xy", "y").
func collapsePair(w []byte, x, y byte) []byte {
	j := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == x && i+1 < len(w) && w[i+1] == y {
			c = y
			i++
		}
		w[j] = c
		j++
	}
	return w[:j]
}

// urlUnescape decodes %XX escapes of w in place and, when query is set,
// turns + into a space: url.QueryUnescape (query) or url.PathUnescape.
// Like them it fails, changing nothing, when any % is not followed by two
// hex digits.
func urlUnescape(w []byte, query bool) ([]byte, bool) {
	for i := 0; i < len(w); i++ {
		if w[i] == '%' {
			if i+2 >= len(w) || !isHex(w[i+1]) || !isHex(w[i+2]) {
				return w, false
			}
			i += 2
		}
	}
	j := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '%':
			c = unhex(w[i+1])<<4 | unhex(w[i+2])
			i += 2
		case c == '+' && query:
			c = ' '
		}
		w[j] = c
		j++
	}
	return w[:j], true
}

// unhex returns the value of hex digit c.
func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
