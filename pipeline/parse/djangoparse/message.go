package djangoparse

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// Logger names this package assigns or recognizes.
const (
	loggerSQL      = "django.db.backends"
	loggerSchema   = "django.db.backends.schema"
	loggerRequest  = "django.request"
	loggerServer   = "django.server"
	loggerCSRF     = "django.security.csrf"
	loggerHost     = "django.security.DisallowedHost"
	loggerSecurity = "django.security."
	loggerReload   = "django.utils.autoreload"
)

// reasonStatus maps lower-cased HTTP reason phrases (Python's http.HTTPStatus
// phrases, old and new spellings) to status codes.
var reasonStatus = map[string]int{
	"bad request": 400, "unauthorized": 401, "payment required": 402, "forbidden": 403,
	"not found": 404, "method not allowed": 405, "not acceptable": 406,
	"proxy authentication required": 407, "request timeout": 408, "conflict": 409,
	"gone": 410, "length required": 411, "precondition failed": 412,
	"request entity too large": 413, "content too large": 413, "request-uri too long": 414,
	"uri too long": 414, "unsupported media type": 415, "requested range not satisfiable": 416,
	"range not satisfiable": 416, "expectation failed": 417, "i'm a teapot": 418,
	"misdirected request": 421, "unprocessable entity": 422, "unprocessable content": 422,
	"locked": 423, "failed dependency": 424, "too early": 425, "upgrade required": 426,
	"precondition required": 428, "too many requests": 429,
	"request header fields too large": 431, "unavailable for legal reasons": 451,
	"internal server error": 500, "not implemented": 501, "bad gateway": 502,
	"service unavailable": 503, "gateway timeout": 504, "http version not supported": 505,
	"variant also negotiates": 506, "insufficient storage": 507, "loop detected": 508,
	"not extended": 510, "network authentication required": 511,
}

// statusOf returns the status of a reason phrase, 0 when unknown.
func statusOf(reason string) int {
	if len(reason) > 40 {
		return 0
	}
	return reasonStatus[strings.ToLower(reason)]
}

// messagePrefixes are message starts that name their logger: security
// exception texts, runserver and autoreload lines. Order matters: the
// CSRF entries precede the generic request shape.
var messagePrefixes = []struct{ prefix, logger string }{
	{"Invalid HTTP_HOST header: ", loggerHost},
	{"Forbidden (CSRF ", loggerCSRF},
	{"Forbidden (Referer checking failed", loggerCSRF},
	{"Forbidden (Origin checking failed", loggerCSRF},
	{"Session data corrupted", "django.security.SuspiciousSession"},
	{"Unsafe redirect ", "django.security.DisallowedRedirect"},
	{"Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE", "django.security.RequestDataTooBig"},
	{"The number of GET/POST parameters exceeded", "django.security.TooManyFieldsSent"},
	{"The number of files exceeded", "django.security.TooManyFilesSent"},
	{"Detected path traversal attempt", "django.security.SuspiciousFileOperation"},
	{"The joined path (", "django.security.SuspiciousFileOperation"},
	{httpsOnDevServer, loggerServer},
	{"Watching for file changes with", loggerReload},
}

// httpsOnDevServer is runserver's message for a TLS handshake on its
// plain-HTTP socket: someone expects HTTPS where there is none.
const httpsOnDevServer = "You're accessing the development server over HTTPS"

// consoleStarts are lines manage.py runserver prints to the same stream
// without a logger; they start records of their own.
var consoleStarts = []string{
	"Performing system checks", "System check identified", "Django version ",
	"Starting development server at", "Starting ASGI/", "Quit the server with",
}

// inferLogger names the logger of a record from its first message line, for
// formats without {name}; "" when the shape is not Django's.
func inferLogger(first string) string {
	for _, p := range messagePrefixes {
		if strings.HasPrefix(first, p.prefix) {
			return p.logger
		}
	}
	switch {
	case sqlDuration(first) >= 0:
		return loggerSQL
	case strings.HasPrefix(first, `"`):
		if _, ok := parseServerRequest(first); ok {
			return loggerServer
		}
	case strings.HasPrefix(first, "code ") && strings.Contains(first, ", message "):
		return loggerServer
	case strings.HasSuffix(first, " changed, reloading."):
		return loggerReload
	}
	if r, ok := splitRequestMessage(first); ok && statusOf(r.reason) > 0 {
		return loggerRequest
	}
	return ""
}

// sqlDuration returns the index after "(<float>) " at the start of s, or -1.
func sqlDuration(s string) int {
	if len(s) < 4 || s[0] != '(' {
		return -1
	}
	dot := false
	for i := 1; i < len(s) && i < 24; i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 1:
			dot = true
		case c == ')' && i > 1 && s[i-1] != '.':
			if i+1 < len(s) && s[i+1] == ' ' {
				return i + 2
			}
			return -1
		default:
			return -1
		}
	}
	return -1
}

// serverTimePrefix returns the length of a runserver "[11/Jun/2025 16:05:44] "
// prefix at the start of b, or 0.
func serverTimePrefix(b []byte) int {
	if len(b) < 23 || b[0] != '[' || b[21] != ']' || b[22] != ' ' || b[3] != '/' || b[7] != '/' {
		return 0
	}
	return 23
}

// messageStart reports whether a line of a bare-message log (no formatter
// prefix) starts a record: a runserver line, a Django message shape, or a
// management command line. Everything else continues the held record.
func messageStart(b []byte) bool {
	if len(b) == 0 || b[0] == ' ' || b[0] == '\t' {
		return false
	}
	if serverTimePrefix(b) > 0 {
		return true
	}
	if len(b) > 256 {
		b = b[:256] // a start is recognized by its head; SQL lines can be huge
	}
	s := string(b)
	if inferLogger(s) != "" {
		return true
	}
	for _, p := range consoleStarts {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// continuationShape reports lines that can never start a record: traceback
// headers and indented lines.
func continuationShape(b []byte) bool {
	return len(b) == 0 || b[0] == ' ' || b[0] == '\t' ||
		bytes.HasPrefix(b, []byte("Traceback (most recent call last)")) ||
		bytes.HasPrefix(b, []byte("During handling of the above exception")) ||
		bytes.HasPrefix(b, []byte("The above exception was the direct cause"))
}

// requestMessage is a parsed "<reason phrase> (<detail>): <path>" message.
type requestMessage struct {
	reason, detail, path string
}

// splitRequestMessage splits the first line of a django.request or csrf
// message. The path is what follows the first "): " after " (" or the first
// ": /", so parentheses and colons inside the path do not matter.
func splitRequestMessage(first string) (requestMessage, bool) {
	p := strings.Index(first, " (")
	q := strings.Index(first, ": /")
	if p > 0 && (q < 0 || p < q) {
		if k := strings.Index(first[p:], "): "); k >= 0 {
			return requestMessage{reason: first[:p], detail: first[p+2 : p+k], path: first[p+k+3:]}, true
		}
	}
	if q > 0 {
		return requestMessage{reason: first[:q], path: first[q+2:]}, true
	}
	return requestMessage{}, false
}

// isBinary reports lines that are not text: any NUL, or mostly control
// bytes. A few raw control characters (old Django wrote crafted paths
// unescaped) do not make a line binary.
func isBinary(b []byte) bool {
	if !hasCtlByte(b) {
		return false // the common case, decided 8 bytes at a time
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' && c != 0x1b && c != '\f' && c != '\v' || c == 0x7f {
			ctl++
		}
	}
	return ctl > 8 && ctl*4 > len(b)
}

// hasCtlByte reports whether b holds a byte below 0x20 or 0x7f. Per
// 8-byte word, (x-0x20..)&^x sets the high bit of some byte exactly when a
// byte is below 0x20 (a borrow starts only at such a byte), and the same
// test on x^0x7f.. (zero where a byte is 0x7f) finds DEL.
func hasCtlByte(b []byte) bool {
	const ones, lo, del, hi = 0x0101010101010101, 0x2020202020202020, 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	for len(b) >= 16 { // two words per test: lines are long and control bytes rare
		x, z := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
		y, w := x^del, z^del
		if ((x-lo)&^x|(y-ones)&^y|(z-lo)&^z|(w-ones)&^w)&hi != 0 {
			return true
		}
		b = b[16:]
	}
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		y := x ^ del
		if ((x-lo)&^x|(y-ones)&^y)&hi != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// stripANSI removes SGR colour sequences (runserver colours its lines when
// writing to a terminal, and container logs keep them). Other escape
// sequences stay: in a logged path they are evidence of log injection.
func stripANSI(s string) string {
	if strings.IndexByte(s, 0x1b) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// recentStrings shares the strings of a low-cardinality field (logger
// names, database aliases) between records: it remembers the last four
// distinct values, compared in full, and replaces them in turn.
type recentStrings struct {
	s    [4]string
	next int
}

// get returns string(b), reusing a remembered equal string.
func (r *recentStrings) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	for _, s := range r.s {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	r.s[r.next] = s
	r.next = (r.next + 1) % len(r.s)
	return s
}
