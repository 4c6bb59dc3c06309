package sqlfp

import "bytes"

// listFrame tracks one collapsible list (IN (...), ARRAY[...] or VALUES)
// while the fingerprint is written. Elements are byte ranges of the output;
// an element equal to the one before it is cut off again, so a list of any
// length costs one comparison per element and the output stays small.
type listFrame struct {
	depth              int32  // bracket depth of the list's elements
	closer             opcode // opRParen, opRBrack, or opOther for VALUES
	needStart          bool   // the next token at depth starts an element
	curStart           int32  // start of the current element, -1 if none
	prevStart, prevEnd int32  // the last kept element, prevStart -1 if none
}

// finish ends the current element, dropping it (and the separator before
// it) when it equals the previous one.
func (f *listFrame) finish(out []byte) []byte {
	if f.curStart < 0 || f.needStart {
		return out
	}
	end := int32(len(out))
	if f.prevStart >= 0 && bytes.Equal(out[f.prevStart:f.prevEnd], out[f.curStart:end]) {
		out = out[:f.prevEnd]
	} else {
		f.prevStart, f.prevEnd = f.curStart, end
	}
	f.curStart = -1
	return out
}

// Word classes the fingerprint writer reacts to.
const (
	wNone = iota
	wIn
	wArray
	wValues
	wBool
	wQuery // select or with: a list that starts with it is a subquery
)

func wordClass(w []byte) int {
	switch len(w) {
	case 2:
		if w[0] == 'i' && w[1] == 'n' {
			return wIn
		}
	case 4:
		if string(w) == "true" {
			return wBool
		}
		if string(w) == "with" {
			return wQuery
		}
	case 5:
		if string(w) == "array" {
			return wArray
		}
		if string(w) == "false" {
			return wBool
		}
	case 6:
		if string(w) == "values" {
			return wValues
		}
		if string(w) == "select" {
			return wQuery
		}
	}
	return wNone
}

// simpleName reports whether a quoted identifier can be written without
// quotes: a non-empty lower-case name of letters, digits, _ and $.
func simpleName(w []byte) bool {
	if len(w) == 0 || !(w[0] >= 'a' && w[0] <= 'z' || w[0] == '_') {
		return false
	}
	for _, c := range w[1:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '$') {
			return false
		}
	}
	return true
}

// writeFingerprint writes the fingerprint of a.toks to a.fp and counts
// literals.
func (a *Analyzer) writeFingerprint() {
	toks := a.toks
	src, vals := a.src, a.vals
	out := a.fp[:0]
	frames := a.lists[:0]
	n := len(toks)
	for n > 0 && toks[n-1].kind == tkOp && toks[n-1].op == opSemi {
		n--
	}
	var depth int32
	lits := 0
	prevWord := wNone
	for i := 0; i < n; i++ {
		t := &toks[i]
		isOp := t.kind == tkOp
		isClose := isOp && (t.op == opRParen || t.op == opRBrack)
		isComma := isOp && t.op == opComma
		if len(frames) > 0 {
			f := &frames[len(frames)-1]
			switch {
			case f.closer == opOther && depth == f.depth && (isClose || !isComma && !f.needStart):
				// Anything but a comma after a complete VALUES element ends it.
				out = f.finish(out)
				frames = frames[:len(frames)-1]
			case isClose && f.closer == t.op && depth == f.depth:
				out = f.finish(out)
				frames = frames[:len(frames)-1]
			case isComma && depth == f.depth:
				out = f.finish(out)
			}
		}
		if len(out) > 0 && !isClose && !isComma && !(isOp && t.op == opSemi) {
			last := out[len(out)-1]
			if last == ',' || t.space && last != '(' && last != '[' {
				out = append(out, ' ')
			}
		}
		if len(frames) > 0 {
			if f := &frames[len(frames)-1]; f.needStart && depth == f.depth && !isClose && !isComma {
				f.curStart = int32(len(out))
				f.needStart = false
			}
		}
		word := wNone
		switch t.kind {
		case tkIdent:
			w := vals[t.v:t.ve]
			word = wordClass(w)
			if word == wBool {
				out = append(out, '?')
				lits++
			} else {
				out = append(out, w...)
			}
		case tkQIdent:
			if w := vals[t.v:t.ve]; simpleName(w) {
				out = append(out, w...)
			} else {
				out = append(out, src[t.s:t.e]...)
			}
		case tkOp:
			if t.e-t.s == 1 {
				out = append(out, src[t.s])
			} else {
				out = append(out, src[t.s:t.e]...)
			}
		default:
			out = append(out, '?')
			lits++
		}
		if isOp {
			switch t.op {
			case opLParen, opLBrack:
				depth++
				if t.op == opLParen && prevWord == wIn && !a.startsQuery(i+1) || t.op == opLBrack && prevWord == wArray {
					closer := opRParen
					if t.op == opLBrack {
						closer = opRBrack
					}
					frames = append(frames, listFrame{depth: depth, closer: closer, needStart: true, curStart: -1, prevStart: -1})
				}
			case opRParen, opRBrack:
				if depth > 0 {
					depth--
				}
				// A mismatched closer can leave frames deeper than depth.
				for len(frames) > 0 && frames[len(frames)-1].depth > depth {
					frames = frames[:len(frames)-1]
				}
			case opComma:
				if len(frames) > 0 {
					if f := &frames[len(frames)-1]; depth == f.depth {
						f.needStart = true
					}
				}
			}
		}
		if word == wValues {
			frames = append(frames, listFrame{depth: depth, closer: opOther, needStart: true, curStart: -1, prevStart: -1})
		}
		prevWord = word
	}
	for len(frames) > 0 {
		if f := &frames[len(frames)-1]; f.depth == depth {
			out = f.finish(out)
		}
		frames = frames[:len(frames)-1]
	}
	a.fp = out
	a.lists = frames
	a.literals = lits
}

// startsQuery reports whether toks[i] is SELECT or WITH.
func (a *Analyzer) startsQuery(i int) bool {
	if i >= len(a.toks) || a.toks[i].kind != tkIdent {
		return false
	}
	t := &a.toks[i]
	return wordClass(a.vals[t.v:t.ve]) == wQuery
}
