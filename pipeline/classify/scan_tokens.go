package classify

import (
	"bytes"
	"strings"
)

// Recognizers for bearer tokens and keys with a recognisable shape: JWTs,
// PEM private keys, and the prefixed API keys of AWS, Google, GitHub, Slack,
// Stripe and Django.

var (
	djangoInsecure = []byte("django-insecure-")
	pemPrivate     = []byte("PRIVATE KEY-----")
	pemEnd         = []byte("-----END ")
	pemDashes      = []byte("-----")
)

// pemKinds are the key types allowed between "-----BEGIN " and
// "PRIVATE KEY-----".
var pemKinds = []string{"", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED "}

// maxPEM caps a reported private key block.
const maxPEM = 4096

// privateKey handles "-----BEGIN " at i. The secret is the block through
// its END line, or the first maxPEM bytes when no END line follows soon.
func (s *scanner) privateKey(i int) int {
	t := s.text
	j := i + len(anchorPEM)
	ok := false
	for _, k := range pemKinds {
		if bytes.HasPrefix(t[j:], []byte(k)) && bytes.HasPrefix(t[j+len(k):], pemPrivate) {
			j += len(k) + len(pemPrivate)
			ok = true
			break
		}
	}
	if !ok {
		return j
	}
	limit := min(len(t), i+maxPEM)
	end := limit
	if k := bytes.Index(t[j:limit], pemEnd); k >= 0 {
		e := j + k + len(pemEnd)
		if d := bytes.Index(t[e:limit], pemDashes); d >= 0 {
			end = e + d + len(pemDashes)
		}
	}
	s.report(SecretPrivateKey, i, end)
	return end
}

// maxJWTHeader bounds the decoded JOSE header we inspect.
const maxJWTHeader = 512

// jwt handles "eyJ" at i: header.payload.signature in base64url, where the
// header decodes to a JSON object with an "alg" member.
func (s *scanner) jwt(i int) int {
	t := s.text
	if i > 0 && (tokenByte[t[i-1]] || t[i-1] == '.') {
		return i + 3
	}
	h := b64urlRun(t, i)
	if h >= len(t) || t[h] != '.' {
		return h
	}
	p := b64urlRun(t, h+1)
	if p == h+1 || p >= len(t) || t[p] != '.' {
		return p
	}
	sig := b64urlRun(t, p+1)
	if !jwtHeader(t[i:h]) {
		return sig
	}
	s.report(SecretJWT, i, sig)
	return sig
}

// b64urlRun returns the end of the run of base64url bytes starting at i.
func b64urlRun(t []byte, i int) int {
	for i < len(t) && b64val[t[i]] != 0xff && t[i] != '+' && t[i] != '/' {
		i++
	}
	return i
}

// jwtHeader decodes an unpadded base64url header into a stack buffer and
// checks for a JSON object with "alg".
func jwtHeader(seg []byte) bool {
	if len(seg)%4 == 1 || len(seg)/4*3+2 > maxJWTHeader {
		return false
	}
	var buf [maxJWTHeader]byte
	n := 0
	var acc uint32
	bits := 0
	for _, b := range seg {
		acc = acc<<6 | uint32(b64val[b])
		bits += 6
		if bits >= 8 {
			bits -= 8
			buf[n] = byte(acc >> bits)
			n++
		}
	}
	hdr := bytes.TrimSpace(buf[:n])
	return len(hdr) > 0 && hdr[0] == '{' && bytes.Contains(hdr, []byte(`"alg"`))
}

// tokenRun inspects a run t[a:b] of at least tokenRunMin token bytes.
func (s *scanner) tokenRun(a, b int) {
	t := s.text
	run := t[a:b]
	n := len(run)
	switch {
	case n == 20 && (bytes.HasPrefix(run, []byte("AKIA")) || bytes.HasPrefix(run, []byte("ASIA"))):
		if allUpperAlnum(run[4:]) {
			s.report(SecretAWSAccessKey, a, b)
		}
	case n == 39 && bytes.HasPrefix(run, []byte("AIza")):
		s.report(SecretGCPAPIKey, a, b)
	case n >= 40 && n <= 255 && run[0] == 'g' && run[1] == 'h' && run[3] == '_' &&
		strings.IndexByte("pousr", run[2]) >= 0 && allAlnum(run[4:]):
		s.report(SecretGitHubToken, a, b)
	case n >= 60 && bytes.HasPrefix(run, []byte("github_pat_")):
		s.report(SecretGitHubToken, a, b)
	case n >= 24 && run[0] == 'x' && run[1] == 'o' && run[2] == 'x' && run[4] == '-' &&
		strings.IndexByte("abprs", run[3]) >= 0 && hasDigit(run[5:]):
		s.report(SecretSlackToken, a, b)
	case n >= 28 && (bytes.HasPrefix(run, []byte("sk_live_")) || bytes.HasPrefix(run, []byte("rk_live_"))):
		s.report(SecretStripeKey, a, b)
	case bytes.HasPrefix(run, djangoInsecure):
		e := a + len(djangoInsecure)
		for e < len(t) && djangoKeyByte(t[e]) {
			e++
		}
		if e-a >= len(djangoInsecure)+20 {
			s.report(SecretDjangoKey, a, e)
		}
	case hasSuffixFold(run, "secret_access_key"):
		s.awsSecret(b)
	case isUpper(run[0]) && n <= 34 && allUpperAlnum(run):
		if end, ok := parseIBAN(t, a, false, false); ok && end == b {
			s.report(SecretIBAN, a, b)
		}
	}
}

// awsSecret checks for a 40-character base64 value assigned after an
// aws_secret_access_key key ending at e.
func (s *scanner) awsSecret(e int) {
	t := s.text
	vs, ve, _, ok := assignment(t, e)
	if !ok || ve-vs != 40 {
		return
	}
	for _, b := range t[vs:ve] {
		if b64val[b] == 0xff || b == '-' || b == '_' {
			return
		}
	}
	s.report(SecretAWSSecretKey, vs, ve)
}

// djangoKeyByte reports the characters of get_random_secret_key().
func djangoKeyByte(b byte) bool {
	if isDigit(b) || (b >= 'a' && b <= 'z') {
		return true
	}
	return strings.IndexByte("!@#$%^&*(-_=+)", b) >= 0
}

func allUpperAlnum(v []byte) bool {
	for _, b := range v {
		if !isUpper(b) && !isDigit(b) {
			return false
		}
	}
	return true
}

func allAlnum(v []byte) bool {
	for _, b := range v {
		if !isAlnum(b) {
			return false
		}
	}
	return true
}

func hasDigit(v []byte) bool {
	for _, b := range v {
		if isDigit(b) {
			return true
		}
	}
	return false
}
