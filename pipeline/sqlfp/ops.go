package sqlfp

import "bytes"

// opcode classifies operator and punctuation tokens.
type opcode uint8

const (
	opOther opcode = iota
	opLParen
	opRParen
	opLBrack
	opRBrack
	opComma
	opSemi
	opDot
	opCast
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opStar
	opAt
)

func (o opcode) compare() bool { return o >= opEq && o <= opGe }

// lexOp scans punctuation and operators, including Django's %s and
// %(name)s placeholders and runs of three or more '*'.
func lexOp(t *token, src []byte, i int) int {
	n := len(src)
	c := src[i]
	next := byte(0)
	if i+1 < n {
		next = src[i+1]
	}
	t.kind = tkOp
	t.op = opOther
	switch c {
	case '(':
		t.op = opLParen
	case ')':
		t.op = opRParen
	case '[':
		t.op = opLBrack
	case ']':
		t.op = opRBrack
	case ',':
		t.op = opComma
	case ';':
		t.op = opSemi
	case '.':
		t.op = opDot
	case '@':
		t.op = opAt
		if next == '>' {
			t.op = opOther
			return i + 2
		}
	case '=':
		t.op = opEq
	case ':':
		if next == ':' {
			t.op = opCast
			return i + 2
		}
	case '<':
		switch next {
		case '=':
			t.op = opLe
			return i + 2
		case '>':
			t.op = opNe
			return i + 2
		case '@', '<':
			return i + 2
		}
		t.op = opLt
	case '>':
		switch next {
		case '=':
			t.op = opGe
			return i + 2
		case '>':
			return i + 2
		}
		t.op = opGt
	case '!':
		if next == '=' {
			t.op = opNe
			return i + 2
		}
		if next == '~' {
			return i + 2
		}
	case '*':
		j := i
		for j < n && src[j] == '*' {
			j++
		}
		if j-i >= 3 {
			t.kind = tkStars
			return j
		}
		t.op = opStar
	case '-', '#':
		if next == '>' {
			if i+2 < n && src[i+2] == '>' {
				return i + 3
			}
			return i + 2
		}
	case '|', '&':
		if next == c {
			return i + 2
		}
	case '~':
		if next == '*' {
			return i + 2
		}
	case '%':
		if next == 's' && (i+2 >= n || identCont[src[i+2]] == 0) {
			t.kind = tkPlaceholder
			return i + 2
		}
		if next == '(' {
			if k := bytes.IndexByte(src[i+2:min(n, i+66)], ')'); k >= 0 && i+3+k < n && src[i+3+k] == 's' {
				t.kind = tkPlaceholder
				return i + 4 + k
			}
		}
	}
	return i + 1
}
