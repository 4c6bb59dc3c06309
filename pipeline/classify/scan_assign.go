package classify

import "bytes"

// Recognizers for secrets written as key/value pairs: DSN URLs with a
// password, libpq connection strings, password assignments and Django's
// SECRET_KEY.

// dsnSchemes are the URL schemes whose userinfo password is reported. A
// "+driver" suffix (postgresql+psycopg, mongodb+srv) is ignored.
var dsnSchemes = []string{"postgresql", "postgres", "cockroachdb", "cockroach", "mysql", "mariadb", "redis", "rediss", "amqp", "amqps", "mongodb"}

// maxAuthority bounds the scan for the userinfo '@' after "://".
const maxAuthority = 512

// dsnURL handles "://" at i: scheme://user:password@host.
func (s *scanner) dsnURL(i int) int {
	t := s.text
	j := i
	for j > 0 && i-j < 32 && (isAlnum(t[j-1]) || t[j-1] == '+' || t[j-1] == '.' || t[j-1] == '-') {
		j--
	}
	if !dsnScheme(t[j:i]) {
		return i + 3
	}
	start := i + 3
	end, at := start, -1
	for end < len(t) && end-start < maxAuthority && !authorityEnd(t[end]) {
		if t[end] == '@' {
			at = end
		}
		end++
	}
	if at < 0 {
		return end
	}
	colon := bytes.IndexByte(t[start:at], ':')
	if colon < 0 {
		return end
	}
	if pw := start + colon + 1; !placeholder(t[pw:at]) {
		s.report(SecretDSNPassword, pw, at)
	}
	return end
}

func dsnScheme(scheme []byte) bool {
	if k := bytes.IndexByte(scheme, '+'); k >= 0 {
		scheme = scheme[:k]
	}
	for _, d := range dsnSchemes {
		if len(scheme) == len(d) && hasPrefixFold(scheme, d) {
			return true
		}
	}
	return false
}

// authorityEnd reports bytes that end a URL authority (or the log token
// holding it). '@' and ':' are part of it.
func authorityEnd(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\r', '/', '?', '#', '"', '\'', '<', '>', '`', '\\':
		return true
	}
	return false
}

// assignment finds the value assigned after a key ending at e:
// optional closing quotes, '=' or ':', then a quoted value, or (after '='
// only) an unquoted one. It returns the value bounds and whether it was
// quoted. Comparisons (==, !=, <=, >=), casts (::) and "=>" are not
// assignments.
func assignment(t []byte, e int) (vs, ve int, quoted, ok bool) {
	j := e
	for k := 0; k < 2 && j < len(t) && (t[j] == '"' || t[j] == '\'' || t[j] == '\\'); k++ {
		j++
	}
	for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
		j++
	}
	if j >= len(t) || (t[j] != '=' && t[j] != ':') {
		return 0, 0, false, false
	}
	op := t[j]
	j++
	if j < len(t) && (t[j] == '=' || t[j] == ':' || t[j] == '>') {
		return 0, 0, false, false
	}
	for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
		j++
	}
	escaped := false
	if j+1 < len(t) && t[j] == '\\' && (t[j+1] == '"' || t[j+1] == '\'') {
		escaped = true
		j++
	}
	if j < len(t) && (t[j] == '"' || t[j] == '\'') {
		q := t[j]
		vs = j + 1
		lim := min(len(t), vs+maxValue)
		k := bytes.IndexByte(t[vs:lim], q)
		if k < 0 {
			return 0, 0, false, false
		}
		ve = vs + k
		if escaped && ve > vs && t[ve-1] == '\\' {
			ve--
		}
		return vs, ve, true, true
	}
	if op != '=' {
		return 0, 0, false, false
	}
	vs = j
	ve = vs
	for ve < len(t) && ve-vs < maxValue && !unquotedEnd(t[ve]) {
		ve++
	}
	if ve < len(t) && (t[ve] == '(' || t[ve] == '[') {
		return 0, 0, false, false // a call or index expression in code
	}
	return vs, ve, false, ve > vs
}

// maxValue bounds an assigned value, maxKey the key before it.
const (
	maxValue = 256
	maxKey   = 64
)

func unquotedEnd(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\r', '&', ',', ';', ')', ']', '}', '(', '[', '"', '\'', '<', '>', '`', '\\':
		return true
	}
	return false
}

// password handles "assw"/"ASSW" at i: password='…', "password": "…",
// passwd=…, and libpq password=… inside a DSN-looking string.
func (s *scanner) password(i int) int {
	t := s.text
	// Keys are short; bounding both walks keeps a text made of repeated
	// anchors ("asswassw…") linear.
	ks := i
	for ks > 0 && i-ks < maxKey && (isWordByte(t[ks-1]) || t[ks-1] == '-') {
		ks--
	}
	e := i
	for e < len(t) && e-i < maxKey && isWordByte(t[e]) {
		e++
	}
	key := t[ks:e]
	for len(key) > 0 && isDigit(key[len(key)-1]) {
		key = key[:len(key)-1]
	}
	if !hasSuffixFold(key, "password") && !hasSuffixFold(key, "passwd") {
		return e
	}
	vs, ve, quoted, ok := assignment(t, e)
	if !ok || placeholder(t[vs:ve]) {
		return e
	}
	if !quoted && codeValue(t[vs:ve], t[ks:e]) {
		return ve
	}
	typ := SecretPassword
	if len(key) == len("password") && e-ks == len(key) && libpqContext(t, ks, ve) {
		typ = SecretDSNPassword
	}
	s.report(typ, vs, ve)
	return ve
}

// codeValue reports unquoted values that are code, not secrets: the key
// itself (password=password) or an attribute path (self.password).
func codeValue(v, key []byte) bool {
	if bytes.EqualFold(v, key) {
		return true
	}
	if !isAlpha(v[0]) || bytes.IndexByte(v, '.') < 0 {
		return false
	}
	for _, b := range v {
		if !isWordByte(b) && b != '.' {
			return false
		}
	}
	return true
}

func isAlpha(b byte) bool { return kindOf[b]&(kUpper|kLower) != 0 }

// libpqContext reports whether the key at ks is part of a libpq key/value
// connection string or a URL query: a '?' or '&' right before the key, or
// an unquoted host=, dbname=, port= or sslmode= within 256 bytes (quoted
// values are keyword arguments in code, which password_assignment covers).
func libpqContext(t []byte, ks, ve int) bool {
	if ks > 0 && (t[ks-1] == '?' || t[ks-1] == '&') {
		return true
	}
	lo := max(0, ks-256)
	window := t[lo:min(len(t), ve+256)]
	for _, key := range libpqKeys {
		for off := 0; off < len(window); {
			k := bytes.Index(window[off:], key)
			if k < 0 {
				break
			}
			p := off + k
			before := p == 0 || window[p-1] == ' ' || window[p-1] == '\t'
			after := p+len(key) < len(window) && window[p+len(key)] != '\'' && window[p+len(key)] != '"'
			if before && after {
				return true
			}
			off = p + 1
		}
	}
	return false
}

var libpqKeys = [][]byte{[]byte("host="), []byte("dbname="), []byte("port="), []byte("sslmode=")}

// secretKey handles "SECRET_KEY" at i: SECRET_KEY = '…', "SECRET_KEY":
// "…", DJANGO_SECRET_KEY=… with a long value.
func (s *scanner) secretKey(i int) int {
	t := s.text
	e := i + len(anchorSecretKey)
	if i > 0 && isWordByte(t[i-1]) && !bytes.HasSuffix(t[:i], []byte("DJANGO_")) {
		return e
	}
	if e < len(t) && isWordByte(t[e]) {
		return e // SECRET_KEY_FALLBACKS and friends
	}
	vs, ve, quoted, ok := assignment(t, e)
	if !ok {
		return e
	}
	v := t[vs:ve]
	if (quoted && len(v) < 20) || (!quoted && len(v) < 32) || placeholder(v) ||
		bytes.HasPrefix(v, djangoInsecure) || bytes.IndexByte(v, ' ') >= 0 {
		return ve // django-insecure- keys are reported by tokenRun
	}
	s.report(SecretDjangoKey, vs, ve)
	return ve
}
