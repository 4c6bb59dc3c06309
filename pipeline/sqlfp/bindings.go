package sqlfp

// isLiteral reports whether toks[i] is a literal value token (including
// TRUE, FALSE and NULL).
func (a *Analyzer) isLiteral(i int) bool {
	if i < 0 || i >= len(a.toks) {
		return false
	}
	t := &a.toks[i]
	return t.kind.literal() || t.kind == tkIdent && (t.kw == kwTrue || t.kw == kwFalse || t.kw == kwNull)
}

// literalAt parses a literal operand at i: an optional type prefix
// (DATE '...'), the literal, optional ::casts. It returns the literal's
// token index and the index after the operand.
func (a *Analyzer) literalAt(i int) (lit, end int, ok bool) {
	toks := a.toks
	if i+1 < len(toks) && toks[i].kind == tkIdent && toks[i+1].kind == tkString &&
		(toks[i].kw == kwNone || toks[i].kw == kwInterval) {
		i++
	}
	if !a.isLiteral(i) {
		return 0, i, false
	}
	return i, a.skipCasts(i + 1), true
}

// skipCasts skips ::type and ::type[] suffixes starting at i.
func (a *Analyzer) skipCasts(i int) int {
	for a.isOp(i, opCast) && i+1 < len(a.toks) && a.toks[i+1].kind == tkIdent {
		i += 2
		if a.isOp(i, opLBrack) && a.isOp(i+1, opRBrack) {
			i += 2
		}
	}
	return i
}

// bindForward binds the literal after a column reference that ends at j:
// col = lit (and other comparisons), col [NOT] LIKE/ILIKE lit,
// col [NOT] IN (lit, ...), col BETWEEN lit AND lit.
func (a *Analyzer) bindForward(r ref, j int) {
	toks := a.toks
	j = a.skipCasts(j)
	if j >= len(toks) {
		return
	}
	if t := &toks[j]; t.kind == tkOp {
		if t.op.compare() {
			if lit, _, ok := a.literalAt(j + 1); ok {
				a.bind(r, OpCompare, lit)
			}
		}
		return
	}
	if a.isKw(j, kwNot) {
		j++
	}
	switch {
	case a.isKw(j, kwLike) || a.isKw(j, kwIlike):
		if lit, _, ok := a.literalAt(j + 1); ok {
			a.bind(r, OpCompare, lit)
		}
	case a.isKw(j, kwSimilar) && a.isKw(j+1, kwTo):
		if lit, _, ok := a.literalAt(j + 2); ok {
			a.bind(r, OpCompare, lit)
		}
	case a.isKw(j, kwIn) && a.isOp(j+1, opLParen):
		// Stop at the first element that is not a literal, and once the
		// cap is hit: the walk visits these tokens anyway.
		for m := j + 2; len(a.walk.binds) < MaxBindings; {
			lit, end, ok := a.literalAt(m)
			if !ok {
				return
			}
			a.bind(r, OpCompare, lit)
			if !a.isOp(end, opComma) {
				return
			}
			m = end + 1
		}
		a.truncated = true
	case a.isKw(j, kwBetween):
		lit, end, ok := a.literalAt(j + 1)
		if !ok {
			return
		}
		a.bind(r, OpCompare, lit)
		if a.isKw(end, kwAnd) {
			if lit, _, ok := a.literalAt(end + 1); ok {
				a.bind(r, OpCompare, lit)
			}
		}
	}
}

// colOperand parses a column operand at i for lit = col: col, t.col,
// fn(col), each with optional casts.
func (a *Analyzer) colOperand(i int) (ref, bool) {
	if !a.isName(i) {
		return ref{}, false
	}
	r, j, star := a.parseRef(i)
	if star {
		return ref{}, false
	}
	if a.isOp(j, opLParen) {
		r2, j2, star2 := a.parseRef(j + 1)
		if star2 || j2 == j+1 || !a.isOp(j2, opRParen) {
			return ref{}, false
		}
		return r2, true
	}
	return r, true
}

// onLiteral binds a literal by position: an INSERT VALUES element, a SET
// expression, or the left side of lit = col.
func (a *Analyzer) onLiteral(i int) int {
	w := &a.walk
	lv := &w.lv
	switch lv.clause {
	case stValues:
		if lv.tuple >= 0 && len(w.frames) > lv.tuple && lv.elem < len(w.insertCols) {
			a.bind(ref{w.target, w.insertCols[lv.elem]}, OpWrite, i)
		}
	case stSet:
		if lv.setExpr {
			a.bind(lv.setTgt, OpWrite, i)
		}
	case stWhere, stJoinOn, stSelect, stOrder, stReturning:
		if p := i - 1; p >= 0 && a.toks[p].kind == tkOp && a.toks[p].op.compare() {
			break // right side of a comparison: bound from the column
		}
		end := a.skipCasts(i + 1)
		if end < len(a.toks) && a.toks[end].kind == tkOp && a.toks[end].op.compare() {
			if r, ok := a.colOperand(end + 1); ok {
				a.bind(r, OpCompare, i)
			}
		}
	}
	return i + 1
}

func (a *Analyzer) bind(r ref, op Op, lit int) {
	if r.name == "" {
		return
	}
	if len(a.walk.binds) >= MaxBindings {
		a.truncated = true
		return
	}
	a.walk.binds = append(a.walk.binds, rawBind{r, op, lit})
}

// literal fills b's Kind, Value and Placeholder from toks[i].
func (a *Analyzer) literal(i int, b *Binding) {
	t := &a.toks[i]
	switch t.kind {
	case tkString:
		b.Kind = LitString
		if a.castToBytes(i) {
			b.Kind = LitBytes
		}
	case tkBytes:
		b.Kind = LitBytes
	case tkBits, tkStars:
		b.Kind = LitOther
	case tkNumber:
		b.Kind = LitNumber
	case tkPlaceholder:
		b.Kind = LitPlaceholder
		b.Placeholder = placeholderNumber(a.src[t.s:t.e])
		return
	case tkRedacted:
		b.Kind = LitRedacted
		return
	case tkIdent:
		if t.kw == kwNull {
			b.Kind = LitNull
			return
		}
		b.Kind = LitBool
	}
	if t.kind != tkStars {
		b.Value = a.vals[t.v:t.ve:t.ve]
	}
}

// castToBytes reports whether the string at i is BYTES: '\x..'::BYTES or
// BYTES '...'.
func (a *Analyzer) castToBytes(i int) bool {
	isBytes := func(k int) bool {
		if k < 0 || k >= len(a.toks) || a.toks[k].kind != tkIdent {
			return false
		}
		w := a.tokValue(k)
		return string(w) == "bytes" || string(w) == "bytea"
	}
	if isBytes(i - 1) {
		return true
	}
	for k := i + 1; a.isOp(k, opCast); k += 2 {
		if isBytes(k + 1) {
			return true
		}
	}
	return false
}

// placeholderNumber returns n of "$n" (0 for %s or an absurdly long n).
func placeholderNumber(b []byte) int {
	if len(b) < 2 || b[0] != '$' || len(b) > 10 {
		return 0
	}
	n := 0
	for _, c := range b[1:] {
		n = n*10 + int(c-'0')
	}
	return n
}
