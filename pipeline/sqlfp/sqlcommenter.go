package sqlfp

import (
	"bytes"
	"net/url"
	"strings"
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
		k := unescapeTag(key)
		if _, dup := tags[k]; !dup {
			tags[k] = unescapeTag(value)
		}
	}
	return tags
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

// unescapeTag normalizes one key or value; see ParseSQLCommenter.
func unescapeTag(b []byte) string {
	if bytes.IndexAny(b, `\%+`) < 0 {
		// Nothing to replace or unescape: every step below would return
		// its input unchanged.
		return string(b)
	}
	s := strings.ReplaceAll(string(b), `\'`, `'`)
	s = strings.ReplaceAll(s, "%%", "%")
	s, err := url.QueryUnescape(s)
	if err != nil {
		return ""
	}
	s, err = url.PathUnescape(s)
	if err != nil {
		return ""
	}
	return s
}
