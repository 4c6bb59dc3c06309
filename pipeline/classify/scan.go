package classify

import "bytes"

// ScanSecrets reports secrets and personal data in the clear inside free
// text: SQL statements, error messages, Django params and messages. fn
// receives the type (one of the Secret* constants) and the secret bytes,
// which alias text: the caller hashes them and must not keep them. fn is
// called synchronously, possibly several times, in no particular order.
// E-mail addresses are not reported here (they are too common in logs);
// Value still classifies them.
//
// The scan never allocates. It runs a few SIMD substring searches for rare
// anchors ("://", "eyJ", "-----BEGIN ", "SECRET_KEY", "assw"/"ASSW") and two
// skip scans for long runs of token bytes and of digits; the specific
// recognizers run only where one of those fired.
func (c *Classifier) ScanSecrets(text []byte, fn func(typ string, secret []byte)) {
	if fn == nil {
		return
	}
	c.ScanSecretSpans(text, func(typ string, start, end int) { fn(typ, text[start:end:end]) })
}

// ScanSecretSpans is ScanSecrets reporting where each secret is:
// text[start:end]. Callers that rewrite the text (redaction) need the
// positions; spans may come in any order and may overlap.
func (c *Classifier) ScanSecretSpans(text []byte, fn func(typ string, start, end int)) {
	if len(text) < 8 || fn == nil {
		return
	}
	s := scanner{text: text, fn: fn}
	s.forEach(anchorURL, 0, s.dsnURL)
	s.forEach(anchorJWT, 2, s.jwt)
	s.forEach(anchorPEM, 0, s.privateKey)
	s.forEach(anchorSecretKey, 7, s.secretKey)
	s.forEach(anchorPassLower, 3, s.password)
	s.forEach(anchorPassUpper, 3, s.password)
	s.runs(&tokenByte, tokenRunMin, s.tokenRun)
	s.runs(&digitRunByte, digitRunMin, s.digitRun)
}

var (
	anchorURL       = []byte("://")
	anchorJWT       = []byte("eyJ")
	anchorPEM       = []byte("-----BEGIN ")
	anchorSecretKey = []byte("SECRET_KEY")
	anchorPassLower = []byte("assw")
	anchorPassUpper = []byte("ASSW")
)

// scanner carries the text and callback through one ScanSecrets call.
type scanner struct {
	text []byte
	fn   func(typ string, start, end int)
	// ibanEnd is the end of the last IBAN reported from a digit run, so a
	// spaced IBAN split over two runs is reported once.
	ibanEnd int
}

// report calls fn with the span text[i:j].
func (s *scanner) report(typ string, i, j int) {
	if i < j {
		s.fn(typ, i, j)
	}
}

// forEach calls at(i) for every occurrence i of anchor. at returns where
// the search resumes (at least i+1). rare is the index of the anchor byte
// that is rarest in SQL and log text (J of eyJ, K of SECRET_KEY, w of
// assw): the search skips from one of those bytes to the next, where a
// search for the whole anchor would stop at every e, a or S.
func (s *scanner) forEach(anchor []byte, rare int, at func(i int) int) {
	for i := 0; i < len(s.text); {
		k := indexFrom(s.text, i, anchor, rare)
		if k < 0 {
			return
		}
		i = max(at(k), k+1)
	}
}

// indexFrom returns the first occurrence of anchor in t at or after from,
// or -1, looking for anchor[rare] first.
func indexFrom(t []byte, from int, anchor []byte, rare int) int {
	c := anchor[rare]
	for j := from + rare; j < len(t); j++ {
		k := bytes.IndexByte(t[j:], c)
		if k < 0 {
			return -1
		}
		j += k
		if i := j - rare; i+len(anchor) <= len(t) && bytes.Equal(t[i:i+len(anchor)], anchor) {
			return i
		}
	}
	return -1
}

// Run classes for the skip scans.
const (
	tokenRunMin = 15 // a compact IBAN (NO) is 15; every token prefix+body is longer
	digitRunMin = 11 // ddd-dd-dddd
)

// tokenByte holds [A-Za-z0-9_-], the bytes of API tokens and keys.
var tokenByte = func() (t [256]bool) {
	for i := range t {
		t[i] = kindOf[i]&(kDigit|kUpper|kLower|kUnderscore|kDash) != 0
	}
	return t
}()

// digitRunByte holds digits and the separators of SSNs and cards.
var digitRunByte = func() (t [256]bool) {
	for i := range t {
		t[i] = isDigit(byte(i)) || i == ' ' || i == '-'
	}
	return t
}()

// runs finds every maximal run of bytes in class of at least minLen bytes
// and calls at(start, end). It probes only every minLen-th byte while no
// run is in progress: a byte outside the class at probe p rules out any
// run of minLen bytes that would cover p, so the next probe can be minLen
// bytes further on. Text without long runs costs about len/minLen probes.
func (s *scanner) runs(class *[256]bool, minLen int, at func(start, end int)) {
	t := s.text
	i := 0
	for i+minLen <= len(t) {
		p := i + minLen - 1
		if !class[t[p]] {
			i = p + 1
			continue
		}
		start := p
		for start > i && class[t[start-1]] {
			start--
		}
		end := p + 1
		for end < len(t) && class[t[end]] {
			end++
		}
		if end-start >= minLen {
			at(start, end)
		}
		i = end + 1
	}
}

// placeholder reports values that stand for a secret without being one:
// masks (*****, xxxxx), format verbs and template variables, SQL
// placeholders, null-ish words and Django's unusable or hashed passwords.
func placeholder(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	same := true
	for _, b := range v {
		if b != v[0] {
			same = false
			break
		}
	}
	if same && (v[0] == '*' || v[0] == 'x' || v[0] == 'X' || v[0] == '#' || v[0] == '.' || v[0] == '?') {
		return true
	}
	switch v[0] {
	case '%', '$', '{', '<', ':', '!':
		// %s, %(password)s, $1, ${DB_PASSWORD}, {password}, <password>,
		// :password bind variables, Django's "!" unusable password.
		return true
	case '[':
		return hasPrefixFold(v, "[redacted") || hasPrefixFold(v, "[filtered") || hasPrefixFold(v, "[hidden")
	}
	for _, w := range placeholderWords {
		if len(v) == len(w) && hasPrefixFold(v, w) {
			return true
		}
	}
	for _, p := range hashPrefixes {
		if hasPrefixFold(v, p) {
			return true
		}
	}
	return false
}

var placeholderWords = []string{"none", "null", "nil", "undefined", "true", "false", "redacted", "filtered", "hidden"}

// hashPrefixes are Django password hasher prefixes: a stored hash is not a
// password in the clear.
var hashPrefixes = []string{"pbkdf2_sha256$", "pbkdf2_sha1$", "argon2$", "bcrypt$", "bcrypt_sha256$", "scrypt$", "md5$", "sha1$"}
