package sqlirule

// This file splits a fingerprint (the output of pipeline/sqlfp: keywords
// and names lower-cased, every literal already "?", comments gone, one
// space between tokens where the source had whitespace) into tokens the
// signatures walk. It is not an SQL parser: signatures are written against
// token shapes that both CockroachDB's re-rendered statements and Django's
// raw SQL produce once fingerprinted.

// kind of a fingerprint token.
type kind uint8

const (
	kWord   kind = iota // keyword, name or function name
	kLit                // ? (any literal or placeholder)
	kQIdent             // "Quoted Name" that kept its quotes
	kOp                 // operator run: = <> :: ||  ->> ...
	kLParen             // ( or [
	kRParen             // ) or ]
	kComma
	kSemi
	kDot
)

// tok is one token: a byte range of the fingerprint.
type tok struct {
	k     kind
	glued bool  // no space between the previous token and this one
	band  bool  // an AND that belongs to BETWEEN ... AND
	s, e  int32 // fp[s:e]
}

// maxTokens bounds the tokens looked at in one fingerprint. Fingerprints
// collapse IN and VALUES lists, so real statements stay far below it; the
// rest of a longer one is not examined.
const maxTokens = 1 << 14

// maxLook bounds every forward or backward look from one token, which
// keeps the whole scan linear in the fingerprint length.
const maxLook = 256

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func isOpByte(c byte) bool {
	switch c {
	case '<', '>', '=', '!', '~', '+', '-', '*', '/', '%', '^', '&', '|', '#', '@', ':', '\\', '`':
		return true
	}
	return false
}

// tokenize fills toks from fp, reusing its capacity.
func tokenize(fp string, toks []tok) []tok {
	toks = toks[:0]
	space := true
	for i := 0; i < len(fp) && len(toks) < maxTokens; {
		c := fp[i]
		t := tok{s: int32(i), glued: !space && len(toks) > 0}
		space = false
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			i++
			continue
		case c == '?':
			t.k = kLit
			i++
		case c == '"':
			t.k = kQIdent
			i++
			for i < len(fp) {
				if fp[i] == '"' {
					if i+1 < len(fp) && fp[i+1] == '"' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
		case c == '\'':
			// sqlfp never leaves a string literal; treat one as a literal.
			t.k = kLit
			i++
			for i < len(fp) && fp[i] != '\'' {
				i++
			}
			if i < len(fp) {
				i++
			}
		case c == '(' || c == '[':
			t.k = kLParen
			i++
		case c == ')' || c == ']':
			t.k = kRParen
			i++
		case c == ',':
			t.k = kComma
			i++
		case c == ';':
			t.k = kSemi
			i++
		case c == '.':
			t.k = kDot
			i++
		case c >= '0' && c <= '9':
			t.k = kLit
			for i < len(fp) && isWordByte(fp[i]) {
				i++
			}
		case isWordByte(c):
			t.k = kWord
			for i < len(fp) && isWordByte(fp[i]) {
				i++
			}
		case isOpByte(c):
			t.k = kOp
			for i < len(fp) && isOpByte(fp[i]) {
				i++
			}
		default:
			t.k = kOp
			i++
		}
		t.e = int32(i)
		toks = append(toks, t)
	}
	markBetweenAnds(fp, toks)
	return toks
}

// markBetweenAnds flags the AND of every BETWEEN x AND y, so the
// tautology signature does not read it as a boolean connector.
func markBetweenAnds(fp string, toks []tok) {
	for i := range toks {
		if toks[i].k != kWord || fp[toks[i].s:toks[i].e] != "between" {
			continue
		}
		depth := 0
		for j := i + 1; j < len(toks) && j < i+maxLook; j++ {
			t := &toks[j]
			if t.k == kLParen {
				depth++
			} else if t.k == kRParen {
				if depth--; depth < 0 {
					break
				}
			} else if depth == 0 && t.k == kWord && fp[t.s:t.e] == "and" {
				t.band = true
				break
			}
		}
	}
}

// scanner holds one fingerprint and its tokens while signatures run.
type scanner struct {
	fp   string
	toks []tok
}

// word returns the text of token i if it is a word, else "".
func (s *scanner) word(i int) string {
	if i < 0 || i >= len(s.toks) || s.toks[i].k != kWord {
		return ""
	}
	return s.fp[s.toks[i].s:s.toks[i].e]
}

// text returns the text of token i ("" out of range).
func (s *scanner) text(i int) string {
	if i < 0 || i >= len(s.toks) {
		return ""
	}
	return s.fp[s.toks[i].s:s.toks[i].e]
}

// kindAt returns the kind of token i, or kSemi past either end (a
// statement boundary).
func (s *scanner) kindAt(i int) kind {
	if i < 0 || i >= len(s.toks) {
		return kSemi
	}
	return s.toks[i].k
}

// isCall reports whether token i is a word directly followed by "(".
func (s *scanner) isCall(i int) bool {
	return s.kindAt(i) == kWord && s.kindAt(i+1) == kLParen
}

// closing returns the index of the parenthesis closing the one at i, or -1
// when it is not found within maxLook tokens.
func (s *scanner) closing(i int) int {
	depth := 0
	for j := i; j < len(s.toks) && j < i+maxLook; j++ {
		switch s.toks[j].k {
		case kLParen:
			depth++
		case kRParen:
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}
