package djangoparse

import (
	"math"
	"strconv"
	"strings"
)

// sqlMessage is a parsed django.db.backends debug message:
//
//	(<duration>) <sql>; args=<params>[; alias=<alias>][; async=True]
type sqlMessage struct {
	duration    float64 // seconds
	hasDuration bool
	sql         string
	params      string // Python repr, unparsed
	alias       string
	async       bool
}

const (
	argsSep  = "; args="
	aliasSep = "; alias="
	asyncSfx = "; async=True"
	// maxSplitTries bounds the right-to-left search for the real "; args="
	// so that a statement full of "; args=" literals stays linear enough.
	maxSplitTries = 16
)

// parseSQLMessage parses msg (all lines of the record). ok is false when
// msg does not start with a duration.
func parseSQLMessage(msg string) (sqlMessage, bool) {
	var m sqlMessage
	i := sqlDuration(msg)
	if i < 0 {
		return m, false
	}
	if d, err := strconv.ParseFloat(msg[1:i-2], 64); err == nil && d >= 0 && d < 1e6 {
		m.duration, m.hasDuration = d, true
	}
	body := strings.TrimRight(msg[i:], " \t\n")
	if strings.HasSuffix(body, asyncSfx) {
		m.async = true
		body = body[:len(body)-len(asyncSfx)]
	}
	// The alias is last (Django >= 4.0) and an identifier; a "; alias=" in
	// a params string literal is followed by a quote or bracket instead.
	if a := strings.LastIndex(body, aliasSep); a >= 0 && isAlias(body[a+len(aliasSep):]) {
		m.alias = body[a+len(aliasSep):]
		body = body[:a]
	}
	m.sql, m.params = splitArgs(body)
	return m, true
}

// splitArgs splits "<sql>; args=<params>". Both sides may contain "; args="
// inside string literals. The real separator is the rightmost one whose
// right side is one well-formed Python repr; when none is, the rightmost.
func splitArgs(body string) (sql, params string) {
	end := len(body)
	last := -1
	for tries := 0; tries < maxSplitTries; tries++ {
		j := strings.LastIndex(body[:end], argsSep)
		if j < 0 {
			break
		}
		if last < 0 {
			last = j
		}
		if wellFormedRepr(body[j+len(argsSep):]) {
			return body[:j], body[j+len(argsSep):]
		}
		end = j
	}
	if last < 0 {
		return body, ""
	}
	return body[:last], body[last+len(argsSep):]
}

// isAlias reports a DATABASES key as Django logs it.
func isAlias(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// wellFormedRepr reports whether s is plausibly exactly one Python repr:
// strings closed, brackets balanced and matched, and no ';' outside
// strings and brackets. It does not parse the value: the Normalizer scans
// params text, and a cheap structural check is enough to find the real
// "; args=" separator.
func wellFormedRepr(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	var stack []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'', '"':
			j := closeQuote(s, i)
			if j < 0 {
				return false
			}
			i = j
		case '(', '[', '{':
			if len(stack) >= 4096 {
				return false
			}
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != opener(c) {
				return false
			}
			stack = stack[:len(stack)-1]
		case ';':
			if len(stack) == 0 {
				return false
			}
		}
	}
	return len(stack) == 0
}

// closeQuote returns the index of the quote closing the string literal that
// opens at s[i], honouring backslash escapes, or -1.
func closeQuote(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j
		case '\n':
			return -1 // repr never spans lines
		}
	}
	return -1
}

func opener(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}

// parseSchemaMessage parses a django.db.backends.schema message
// "<sql>; (params <repr>)".
func parseSchemaMessage(msg string) (sql, params string, ok bool) {
	body := strings.TrimRight(msg, " \t\n")
	i := strings.LastIndex(body, "; (params ")
	if i < 0 || !strings.HasSuffix(body, ")") {
		return "", "", false
	}
	return body[:i], body[i+len("; (params ") : len(body)-1], true
}

// latencyNS converts a duration in seconds to ns, 0 when implausible.
func latencyNS(sec float64) int64 {
	if math.IsNaN(sec) || sec <= 0 || sec > 1e6 {
		return 0
	}
	return int64(math.Round(sec * 1e9))
}
