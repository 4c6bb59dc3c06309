package djangoparse

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
)

// Event types of Django records (see pipeline/event/doc.go).
const (
	TypeSQL      = "django.sql"
	TypeRequest  = "django.request"
	TypeSecurity = "django.security"
	TypeServer   = "django.server"
	TypeLog      = "django.log"
)

// Caps on the clear-text fields a decoder copies from a record.
const (
	maxPathLen   = 2048
	maxAttrLen   = 512
	maxLoggerLen = 256
)

// extras are the structured fields of a JSON record (python-json-logger
// merges `extra` at the top level). The text decoder passes a zero value.
type extras struct {
	sql, params, alias  string
	hasSQL, hasParams   bool
	duration            float64
	hasDuration, async  bool
	status              int
	method, path, query string // from the `request` repr
	excInfo             string
	requestID, remote   string
}

// classifier fills the kind-specific fields of an event. It owns no state
// but the hasher, which keys the query-string hash of runserver lines.
type classifier struct {
	h *parse.Hasher
}

// classify fills ev and raw from a record's logger (may be empty: then it
// is inferred from the message) and message (all lines, tracebacks
// included).
func (c classifier) classify(ev *event.Event, raw *parse.Raw, logger, msg string, x *extras) {
	msg = strings.TrimRight(stripANSI(msg), "\n")
	first := firstLine(msg)
	if logger == "" {
		logger = inferLogger(first)
		if logger == "" {
			if _, _, ok := parseSchemaMessage(msg); ok {
				logger = loggerSchema
			}
		}
	}
	ev.Logger = clean(logger, maxLoggerLen)
	ev.RequestID = clean(x.requestID, maxAttrLen)
	ev.RemoteAddr = clean(x.remote, maxAttrLen)
	ok := false
	switch {
	case logger == loggerSQL:
		ok = c.sql(ev, raw, msg, x)
	case logger == loggerSchema:
		ok = c.schema(ev, raw, msg, x)
	case logger == loggerRequest:
		ok = c.request(ev, first, x)
	case logger == loggerCSRF:
		ok = c.csrf(ev, first, x)
	case logger == loggerHost:
		ok = c.host(ev, first, x)
	case strings.HasPrefix(logger, loggerSecurity):
		ev.Type, ev.Status = TypeSecurity, 400
		setAttr(ev, "reason", first)
		ok = true
	case logger == loggerServer:
		if c.server(ev, first) {
			return // the request line is fully structured; its query stays out
		}
		ev.Type, ok = TypeServer, true
	}
	if !ok {
		ev.Type = TypeLog
	}
	if x.status > 0 {
		ev.Status = x.status
	}
	if ev.HTTPMethod == "" && x.method != "" {
		ev.HTTPMethod = clean(x.method, 16)
	}
	if ev.Path == "" && x.path != "" {
		ev.Path = clean(x.path, maxPathLen)
		if x.query != "" {
			setAttr(ev, "query_hash", c.h.SumString(x.query))
		}
	}
	if ev.Type != TypeSQL {
		raw.Message = clean(msg, len(msg))
		if x.excInfo != "" {
			raw.Message += "\n" + clean(x.excInfo, len(x.excInfo))
		}
	}
}

// sql fills a django.db.backends record. JSON records carry sql, params,
// duration and alias as extras; the message then only duplicates them.
func (c classifier) sql(ev *event.Event, raw *parse.Raw, msg string, x *extras) bool {
	var m sqlMessage
	if x.hasSQL {
		m.sql, m.params, m.alias, m.async = x.sql, x.params, x.alias, x.async
		m.duration, m.hasDuration = x.duration, x.hasDuration
	} else {
		var ok bool
		if m, ok = parseSQLMessage(msg); !ok {
			return false
		}
	}
	ev.Type = TypeSQL
	if m.hasDuration {
		ev.LatencyNS = latencyNS(m.duration)
	}
	raw.Statement = append(raw.Statement[:0], m.sql...)
	raw.Params = m.params
	if m.alias != "" {
		setAttr(ev, "alias", m.alias)
	}
	if m.async {
		setAttr(ev, "async", "true")
	}
	return true
}

// schema fills a django.db.backends.schema record (migration DDL).
func (c classifier) schema(ev *event.Event, raw *parse.Raw, msg string, x *extras) bool {
	sql, params := x.sql, x.params
	if !x.hasSQL {
		var ok bool
		if sql, params, ok = parseSchemaMessage(msg); !ok {
			return false
		}
	}
	ev.Type = TypeSQL
	raw.Statement = append(raw.Statement[:0], sql...)
	raw.Params = params
	return true
}

// request fills a django.request record: "<reason> (<detail>): <path>".
func (c classifier) request(ev *event.Event, first string, x *extras) bool {
	ev.Type = TypeRequest
	r, ok := splitRequestMessage(first)
	if !ok {
		return true // still a request record; status and path may come from extras
	}
	ev.Status = statusOf(r.reason)
	ev.Path = clean(r.path, maxPathLen)
	if ev.Status == 405 && isMethod(r.detail) {
		ev.HTTPMethod = r.detail
	} else if r.detail != "" {
		setAttr(ev, "reason", r.detail)
	}
	return true
}

// csrf fills a django.security.csrf record: "Forbidden (<reason>): <path>".
func (c classifier) csrf(ev *event.Event, first string, x *extras) bool {
	ev.Type, ev.Status = TypeSecurity, 403
	if r, ok := splitRequestMessage(first); ok {
		ev.Path = clean(r.path, maxPathLen)
		setAttr(ev, "reason", r.detail)
		setAttr(ev, "reason_code", csrfCode(r.detail))
	} else {
		setAttr(ev, "reason", first)
	}
	return true
}

// csrfCode maps a CSRF failure reason to a bounded code for detectors.
func csrfCode(reason string) string {
	switch {
	case strings.HasPrefix(reason, "CSRF cookie not set"):
		return "cookie_not_set"
	case strings.HasPrefix(reason, "CSRF cookie"):
		return "cookie_malformed"
	case strings.HasPrefix(reason, "CSRF token missing"):
		return "token_missing"
	case strings.HasPrefix(reason, "CSRF token"):
		return "token_incorrect"
	case reason == "Referer checking failed - no Referer.":
		return "referer_missing"
	case strings.HasPrefix(reason, "Referer checking failed - Referer is insecure"):
		return "referer_insecure"
	case strings.HasPrefix(reason, "Referer checking failed - Referer is malformed"):
		return "referer_malformed"
	case strings.HasPrefix(reason, "Referer checking failed"):
		return "referer_untrusted"
	case strings.HasPrefix(reason, "Origin checking failed"):
		return "origin_untrusted"
	}
	return "other"
}

// host fills a DisallowedHost record: "Invalid HTTP_HOST header: '<host>'. ...".
func (c classifier) host(ev *event.Event, first string, x *extras) bool {
	ev.Type, ev.Status = TypeSecurity, 400
	rest := strings.TrimPrefix(first, "Invalid HTTP_HOST header: ")
	if rest != "" && (rest[0] == '\'' || rest[0] == '"') {
		// The host is a Python repr; one containing the opening quote is
		// written with the other quote or escaped, so the first quote+dot
		// ends it.
		if k := strings.Index(rest[1:], string(rest[0])+"."); k >= 0 {
			setAttr(ev, "host", rest[1:1+k])
		}
	}
	if strings.Contains(first, "ALLOWED_HOSTS") {
		setAttr(ev, "reason_code", "host_not_allowed")
	} else {
		setAttr(ev, "reason_code", "host_invalid")
	}
	return true
}

// serverRequest is a runserver request line `"GET /x?q HTTP/1.1" 200 5321`.
type serverRequest struct {
	method, path, query, proto, size string
	status                           int
}

// parseServerRequest parses a runserver request line message.
func parseServerRequest(s string) (serverRequest, bool) {
	var r serverRequest
	j := strings.LastIndex(s, `" `)
	if len(s) < 8 || s[0] != '"' || j < 1 {
		return r, false
	}
	tail := s[j+2:]
	code, size, ok := strings.Cut(tail, " ")
	st, err := strconv.Atoi(code)
	if !ok || err != nil || len(code) != 3 || (size != "-" && !isDigits(size)) {
		return r, false
	}
	r.status, r.size = st, size
	line := s[1:j]
	r.method, line, _ = strings.Cut(line, " ")
	if k := strings.LastIndexByte(line, ' '); k >= 0 && strings.HasPrefix(line[k+1:], "HTTP/") {
		r.proto, line = line[k+1:], line[:k]
	}
	r.path, r.query, _ = strings.Cut(line, "?")
	return r, true
}

// server fills a django.server record; true when it was a request line.
func (c classifier) server(ev *event.Event, first string) bool {
	ev.Type = TypeServer
	if r, ok := parseServerRequest(first); ok {
		ev.Status = r.status
		if isMethod(r.method) {
			ev.HTTPMethod = r.method
		}
		ev.Path = clean(r.path, maxPathLen)
		setAttr(ev, "protocol", r.proto)
		setAttr(ev, "size", r.size)
		if r.query != "" {
			setAttr(ev, "query_hash", c.h.SumString(r.query))
		}
		if strings.HasPrefix(r.method, `\x16\x03`) {
			setAttr(ev, "tls_on_plain_http", "true")
			return false
		}
		return true
	}
	if strings.HasPrefix(first, "code ") {
		code, _, _ := strings.Cut(strings.TrimPrefix(first, "code "), ",")
		if n, err := strconv.Atoi(code); err == nil && n >= 100 && n < 600 {
			ev.Status = n
		}
	}
	if strings.HasPrefix(first, httpsOnDevServer) || strings.Contains(first, `\x16\x03`) || strings.Contains(first, "\x16\x03") {
		ev.Status = 400
		setAttr(ev, "tls_on_plain_http", "true")
	}
	return false
}

// inferSeverity sets the level Django uses for a record kind, for formats
// without {levelname}: SQL debug lines are DEBUG, SuspiciousOperation is
// ERROR, responses are WARNING (4xx) or ERROR (5xx), the rest INFO.
func inferSeverity(ev *event.Event) {
	switch {
	case ev.Severity != "":
	case ev.Type == TypeSQL:
		ev.Severity = "DEBUG"
	case ev.Type == TypeSecurity && ev.Logger != loggerCSRF:
		ev.Severity = "ERROR"
	case ev.Status >= 500:
		ev.Severity = "ERROR"
	case ev.Status >= 400:
		ev.Severity = "WARNING"
	default:
		ev.Severity = "INFO"
	}
}

// isMethod reports an HTTP method token.
func isMethod(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	_, ok := digits(s)
	return ok
}

// setAttr sets a non-empty attribute, capped and valid UTF-8.
func setAttr(ev *event.Event, k, v string) {
	if v == "" {
		return
	}
	if ev.Attrs == nil {
		ev.Attrs = make(map[string]string, 4)
	}
	ev.Attrs[k] = clean(v, maxAttrLen)
}

// clean caps s at n bytes (on a rune boundary) and replaces invalid UTF-8.
func clean(s string, n int) string {
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}
