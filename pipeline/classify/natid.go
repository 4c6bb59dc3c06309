package classify

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// nationalID is a compiled Config.NationalIDs entry with a cheap prefilter:
// the byte length range the pattern can match and the set of bytes that can
// occur in a match. Most values fail the prefilter, so the regexp runs only
// on plausible candidates.
type nationalID struct {
	name    string
	re      *regexp.Regexp
	minLen  int
	maxLen  int // unbounded when maxLen == unbounded
	allowed [4]uint64
}

const unbounded = 1 << 30

// match reports whether v is a whole match of the pattern.
func (n *nationalID) match(v []byte) bool {
	if len(v) < n.minLen || len(v) > n.maxLen {
		return false
	}
	for _, b := range v {
		if n.allowed[b>>6]&(1<<(b&63)) == 0 {
			return false
		}
	}
	return n.re.Match(v)
}

// derivePrefilter walks the parsed pattern to fill minLen, maxLen and
// allowed. It over-approximates: anything it cannot bound is unbounded or
// allows every byte, so the prefilter never rejects a real match.
func (n *nationalID) derivePrefilter(expr string) error {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return fmt.Errorf("parsing regex: %w", err)
	}
	re = re.Simplify()
	n.minLen, n.maxLen = n.walk(re)
	return nil
}

func (n *nationalID) allow(b byte) { n.allowed[b>>6] |= 1 << (b & 63) }

func (n *nationalID) allowRange(lo, hi rune, fold bool) {
	if hi >= utf8.RuneSelf {
		for b := 0x80; b <= 0xff; b++ {
			n.allow(byte(b))
		}
		hi = utf8.RuneSelf - 1
	}
	for r := lo; r <= hi; r++ {
		n.allow(byte(r))
		if fold {
			n.allow(lowerASCII(byte(r)))
			if b := byte(r); b >= 'a' && b <= 'z' {
				n.allow(b - 'a' + 'A')
			}
		}
	}
}

func addLen(a, b int) int {
	if a >= unbounded || b >= unbounded {
		return unbounded
	}
	return a + b
}

func mulLen(a, k int) int {
	if a >= unbounded || k < 0 {
		return unbounded
	}
	if a != 0 && k > unbounded/a {
		return unbounded
	}
	return a * k
}

// walk returns the byte length bounds of re and records its bytes.
func (n *nationalID) walk(re *syntax.Regexp) (lo, hi int) {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpNoMatch:
		return unbounded, 0
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, 0
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			w := utf8.RuneLen(r)
			if w < 0 {
				w = 3
			}
			lo, hi = lo+w, hi+w
			n.allowRange(r, r, fold)
		}
		return lo, hi
	case syntax.OpCharClass:
		lo, hi = 1, 1
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1] >= utf8.RuneSelf {
				hi = utf8.UTFMax
			}
			n.allowRange(re.Rune[i], re.Rune[i+1], false)
		}
		return lo, hi
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		for b := 0; b < 256; b++ {
			n.allow(byte(b))
		}
		return 1, utf8.UTFMax
	case syntax.OpCapture:
		return n.walk(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		l, h := n.walk(re.Sub[0])
		switch re.Op {
		case syntax.OpStar:
			return 0, unbounded
		case syntax.OpPlus:
			return l, unbounded
		}
		return 0, h
	case syntax.OpRepeat:
		l, h := n.walk(re.Sub[0])
		return mulLen(l, re.Min), mulLen(h, re.Max)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			l, h := n.walk(sub)
			lo, hi = addLen(lo, l), addLen(hi, h)
		}
		return lo, hi
	case syntax.OpAlternate:
		lo, hi = unbounded, 0
		for _, sub := range re.Sub {
			l, h := n.walk(sub)
			lo, hi = min(lo, l), max(hi, h)
		}
		return lo, hi
	}
	// Unknown operator: give up on the prefilter for this pattern.
	for b := 0; b < 256; b++ {
		n.allow(byte(b))
	}
	return 0, unbounded
}
