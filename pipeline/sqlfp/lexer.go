package sqlfp

import "bytes"

// tokKind classifies a token. Kinds from tkString on are literals.
type tokKind uint8

const (
	tkOp          tokKind = iota // punctuation and operators; op holds the opcode
	tkIdent                      // unquoted word; value is its lower-cased text
	tkQIdent                     // "quoted" identifier; value is its unescaped text
	tkString                     // '..', e'..', $$..$$; value is the decoded text
	tkBytes                      // b'..', x'..'
	tkBits                       // B'0101'
	tkNumber                     // 1, -1.5e3, 0x1f
	tkPlaceholder                // $n, %s
	tkRedacted                   // ×, a value removed at the sink
	tkStars                      // ***** (v21-era password placeholder)
)

func (k tokKind) literal() bool { return k >= tkString }

// token is one lexeme. s:e is its span in the lexed source, v:ve the span
// of its value in Analyzer.vals (empty when not decoded).
type token struct {
	s, e  int32
	v, ve int32
	kind  tokKind
	op    opcode
	kw    kwID
	space bool // whitespace or a comment came before it
}

// Character classes for the lexer's dispatch.
const (
	clOther uint8 = iota
	clSpace
	clIdent // letters, _ and bytes >= 0x80
	clDigit
)

var charClass, identCont = func() (cls, cont [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			cls[c] = clSpace
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
			cls[c], cont[c] = clIdent, 1
		case c >= '0' && c <= '9':
			cls[c], cont[c] = clDigit, 1
		}
	}
	cont['$'] = 1
	return cls, cont
}()

// lowerASCII maps A-Z to a-z and every other byte to itself.
var lowerASCII = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
		if c >= 'A' && c <= 'Z' {
			t[c] = byte(c + 'a' - 'A')
		}
	}
	return t
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// isTimes reports whether src[i:] starts with U+00D7 '×'.
func isTimes(src []byte, i int) bool { return i+1 < len(src) && src[i] == 0xC3 && src[i+1] == 0x97 }

// lex tokenizes a.src into a.toks. In full mode it also decodes literal
// values and records comments; identifiers are always lower-cased into
// a.vals because the fingerprint is written from there.
func (a *Analyzer) lex() {
	src := a.src
	n := len(src)
	toks := a.toks[:0]
	// Every token's value is at most as long as its span and spans do not
	// overlap, so this capacity is never exceeded and slices stay valid.
	if cap(a.vals) < n {
		a.vals = make([]byte, 0, n+n/4)
	}
	a.vals = a.vals[:0]
	space := false
	for i := 0; i < n; {
		c := src[i]
		cls := charClass[c]
		if cls == clSpace {
			space = true
			i++
			continue
		}
		t := token{s: int32(i), space: space}
		switch {
		case cls == clIdent && !isTimes(src, i):
			i = a.lexWord(&t, i)
		case cls == clDigit || (c == '.' && i+1 < n && isDigit(src[i+1])):
			t.kind = tkNumber
			i = a.lexNumber(&t, i)
		case c == '-' && i+1 < n && src[i+1] == '-':
			i = a.lexLineComment(i)
			space = true
			continue
		case c == '/' && i+1 < n && src[i+1] == '*':
			i = a.lexBlockComment(i)
			space = true
			continue
		case c == '-' && a.unaryMinus(toks, i):
			t.kind = tkNumber
			i = a.lexNumber(&t, i)
		case c == '\'':
			t.kind = tkString
			i = a.lexString(&t, i, false)
		case c == '"':
			i = a.lexQuoted(&t, i)
			if t.v == t.ve && i < n && src[i] == '.' {
				// Empty catalog or schema prefix: "".""."t" is "t".
				i++
				continue
			}
		case c == '$':
			i = a.lexDollar(&t, i)
		case isTimes(src, i):
			t.kind = tkRedacted
			i += 2
		default:
			i = lexOp(&t, src, i)
		}
		t.e = int32(i)
		toks = append(toks, t)
		space = false
	}
	a.toks = toks
}

// unaryMinus reports whether the '-' at i starts a negative number: it is
// glued to a digit and follows an operator, a keyword, '(' or ','.
func (a *Analyzer) unaryMinus(toks []token, i int) bool {
	src := a.src
	j := i + 1
	if j < len(src) && src[j] == '.' {
		j++
	}
	if j >= len(src) || !isDigit(src[j]) {
		return false
	}
	if len(toks) == 0 {
		return true
	}
	p := &toks[len(toks)-1]
	switch p.kind {
	case tkOp:
		return p.op != opRParen && p.op != opRBrack
	case tkIdent:
		kw := lookupKeyword(a.vals[p.v:p.ve])
		return kw != kwNone && !kw.valueLike()
	}
	return false
}

// lexWord scans an unquoted identifier or keyword, or a prefixed string
// literal (e'..', b'..', B'..', x'..').
func (a *Analyzer) lexWord(t *token, i int) int {
	src := a.src
	j := i + 1
	for j < len(src) {
		c := src[j]
		if identCont[c] == 0 || c == 0xC3 && isTimes(src, j) {
			break
		}
		j++
	}
	if j == i+1 && j < len(src) && src[j] == '\'' {
		switch src[i] {
		case 'e', 'E':
			t.kind = tkString
			return a.lexString(t, j, true)
		case 'b':
			t.kind = tkBytes
			return a.lexString(t, j, true)
		case 'x', 'X':
			t.kind = tkBytes
			return a.lexString(t, j, false)
		case 'B':
			t.kind = tkBits
			return a.lexString(t, j, false)
		}
	}
	t.kind = tkIdent
	t.v = int32(len(a.vals))
	a.vals = append(a.vals, src[i:j]...)
	w := a.vals[t.v:]
	for k, c := range w {
		w[k] = lowerASCII[c]
	}
	t.ve = int32(len(a.vals))
	if a.full {
		t.kw = lookupKeyword(w)
	}
	return j
}

// lexNumber scans a number starting at i (which may be a unary '-').
func (a *Analyzer) lexNumber(t *token, i int) int {
	src := a.src
	n := len(src)
	start := i
	if src[i] == '-' {
		i++
	}
	if src[i] == '0' && i+2 < n && src[i+1]|0x20 == 'x' && isHex(src[i+2]) {
		i += 2
		for i < n && isHex(src[i]) {
			i++
		}
	} else {
		for i < n && isDigit(src[i]) {
			i++
		}
		if i < n && src[i] == '.' && !(i+1 < n && src[i+1] == '.') {
			i++
			for i < n && isDigit(src[i]) {
				i++
			}
		}
		if i < n && src[i]|0x20 == 'e' {
			j := i + 1
			if j < n && (src[j] == '+' || src[j] == '-') {
				j++
			}
			if j < n && isDigit(src[j]) {
				for i = j; i < n && isDigit(src[i]); i++ {
				}
			}
		}
	}
	if a.full {
		a.setValue(t, src[start:i])
	}
	return i
}

func (a *Analyzer) setValue(t *token, v []byte) {
	t.v = int32(len(a.vals))
	a.vals = append(a.vals, v...)
	t.ve = int32(len(a.vals))
}

// lexQuoted scans a "quoted identifier" with "" escapes; the unescaped text
// is always decoded because the fingerprint needs it.
func (a *Analyzer) lexQuoted(t *token, i int) int {
	src := a.src
	t.kind = tkQIdent
	t.v = int32(len(a.vals))
	i++
	for {
		k := bytes.IndexByte(src[i:], '"')
		if k < 0 {
			a.vals = append(a.vals, src[i:]...)
			i = len(src)
			break
		}
		a.vals = append(a.vals, src[i:i+k]...)
		i += k + 1
		if i < len(src) && src[i] == '"' {
			a.vals = append(a.vals, '"')
			i++
			continue
		}
		break
	}
	t.ve = int32(len(a.vals))
	return i
}

// lexDollar scans $n placeholders and $$...$$ / $tag$...$tag$ strings; any
// other '$' is an operator.
func (a *Analyzer) lexDollar(t *token, i int) int {
	src := a.src
	n := len(src)
	j := i + 1
	if j < n && isDigit(src[j]) {
		for j < n && isDigit(src[j]) {
			j++
		}
		t.kind = tkPlaceholder
		return j
	}
	for j < n && (charClass[src[j]] == clIdent || isDigit(src[j])) && src[j] < 0x80 {
		j++
	}
	if j >= n || src[j] != '$' {
		return lexOp(t, src, i)
	}
	tag := src[i : j+1]
	body := j + 1
	t.kind = tkString
	end := bytes.Index(src[body:], tag)
	if end < 0 {
		if a.full {
			a.setValue(t, src[body:])
		}
		return n
	}
	if a.full {
		a.setValue(t, src[body:body+end])
	}
	return body + end + len(tag)
}
