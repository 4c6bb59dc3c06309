package sqlfp

// onKeyword moves the clause state machine on a keyword. Non-reserved
// keywords that play no role at their position are treated as names.
func (a *Analyzer) onKeyword(i int) int {
	w := &a.walk
	lv := &w.lv
	kw := a.toks[i].kw
	privileges := lv.dml == kwGrant || lv.dml == kwRevoke
	switch kw {
	case kwSelect:
		if privileges {
			break
		}
		lv.clause = stSelect
		if lv.dml == kwNone || lv.dml == kwWith {
			lv.dml = kwSelect
		}
	case kwInsert, kwUpsert, kwDelete:
		if !privileges {
			lv.dml, lv.clause = kw, stOther
		}
	case kwUpdate:
		switch {
		case privileges:
		case a.isKw(i-1, kwDo):
			lv.clause = stOther // ON CONFLICT DO UPDATE: SET follows
		default:
			lv.dml, lv.clause, lv.expect = kwUpdate, stFrom, true
		}
	case kwInto:
		if lv.dml == kwInsert || lv.dml == kwUpsert {
			lv.clause, lv.expect = stInto, true
		}
	case kwFrom:
		switch {
		case a.inFunc() || a.isKw(i-1, kwDistinct): // EXTRACT(x FROM y), IS DISTINCT FROM
		case lv.dml == kwRevoke:
			lv.clause = stOther
		default:
			lv.clause, lv.expect = stFrom, true
		}
	case kwJoin:
		lv.clause, lv.expect = stFrom, true
	case kwOn:
		switch {
		case privileges || lv.dml == kwShow || lv.dml == kwCreate:
			lv.clause, lv.expect = stTableList, true
		case lv.clause == stFrom || lv.clause == stJoinOn:
			lv.clause = stJoinOn
		case lv.dml == kwInsert || lv.dml == kwUpsert:
			lv.clause = stOrder // ON CONFLICT (target)
		}
	case kwUsing:
		if lv.dml == kwDelete && lv.clause == stFrom {
			lv.expect = true
		} else if lv.clause == stFrom || lv.clause == stJoinOn {
			lv.clause = stJoinOn
		}
	case kwWhere, kwHaving:
		lv.clause = stWhere
	case kwGroup, kwOrder, kwWindow:
		lv.clause = stOrder
	case kwLimit, kwOffset, kwFetch:
		lv.clause = stOther
	case kwReturning:
		lv.clause = stReturning
	case kwSet:
		if lv.dml == kwUpdate || lv.dml == kwInsert || lv.dml == kwUpsert {
			lv.clause, lv.setExpr = stSet, false
		} else {
			lv.clause = stOther
		}
	case kwValues:
		if lv.clause == stTarget {
			lv.clause, lv.tuple = stValues, -1
		} else {
			lv.clause = stOther
		}
	case kwTruncate:
		lv.dml, lv.clause, lv.expect = kwTruncate, stTableList, true
	case kwTable:
		switch {
		case lv.clause == stTableList:
		case i == 0 || lv.dml == kwAlter || lv.dml == kwDrop || lv.dml == kwCreate:
			lv.clause, lv.expect = stTableList, true
		}
	case kwDatabase, kwSchema:
		if lv.clause != stTableList || !lv.expect {
			return a.onName(i)
		}
		lv.clause = stOther // GRANT ... ON DATABASE d
	case kwIf:
		if lv.clause != stTableList || !lv.expect {
			return a.onName(i)
		}
	case kwGrant, kwRevoke, kwCreate, kwAlter, kwDrop, kwShow:
		if !privileges {
			lv.dml, lv.clause = kw, stOther
		}
	case kwWith:
		if lv.dml == kwNone && lv.clause == stNone {
			lv.dml, lv.clause = kwWith, stWith
		}
	case kwAs:
		return a.onAs(i)
	case kwUnion, kwIntersect, kwExcept:
		lv.clause = stNone
	case kwTrue, kwFalse, kwNull:
		return a.onLiteral(i)
	case kwAt:
		// AT TIME ZONE: "time" is not a keyword but is not a column here.
		if a.isKw(i+2, kwByWord["zone"]) {
			return i + 3
		}
		return a.onName(i)
	default:
		if !kw.reserved() {
			return a.onName(i)
		}
	}
	return i + 1
}

// onAs skips AS and the alias after it, recording table aliases.
func (a *Analyzer) onAs(i int) int {
	if !a.isName(i + 1) {
		return i + 1 // AS (subquery), AS OF SYSTEM TIME, ...
	}
	return i + 2
}

// onName handles a name: a table where one is expected, a CTE name in a
// WITH header, else a column reference (or a function, type or alias,
// which are skipped).
func (a *Analyzer) onName(i int) int {
	w := &a.walk
	lv := &w.lv
	if a.isOp(i-1, opCast) {
		return i + 1 // type name
	}
	switch lv.clause {
	case stFrom, stInto, stTableList:
		if lv.expect {
			return a.onTable(i)
		}
		return i + 1
	case stWith:
		if len(w.frames) == lv.base && len(w.ctes) < MaxTables {
			w.ctes = append(w.ctes, a.internLower(i, i+1))
		}
		return i + 1
	case stSelect, stWhere, stJoinOn, stSet, stInsertCols, stReturning, stOrder:
	default:
		return i + 1
	}
	r, j, star := a.parseRef(i)
	if star {
		w.star = true
		return j
	}
	switch {
	case a.isOp(j, opLParen):
		// A function call. fn(col) cmp lit still binds lit to col.
		if r2, j2, star2 := a.parseRef(j + 1); !star2 && j2 > j+1 && a.isOp(j2, opRParen) && r2.name != "" {
			a.bindForward(r2, j2+1)
		}
		return j
	case r.qual == "" && j < len(a.toks) && a.toks[j].kind == tkString:
		return j // typed literal: DATE '2024-01-01'
	case a.isKw(j, kwFrom) && a.inFunc():
		return j // EXTRACT(YEAR FROM ts)
	case lv.clause == stSelect && len(w.frames) == lv.base && a.endsOperand(i-1):
		return j // implicit alias: SELECT a b
	}
	switch {
	case lv.clause == stSet && !lv.setExpr && len(w.frames) == lv.base:
		if r.qual == "" {
			r.qual = w.target // SET writes the UPDATE or INSERT target
		}
		a.addColumn(r, ClauseSet)
		lv.setTgt, lv.setExpr = r, true
		return j
	case lv.clause == stInsertCols:
		a.addColumn(r, ClauseInsert)
		if len(w.insertCols) < MaxColumns {
			w.insertCols = append(w.insertCols, r.name)
		}
		return j
	}
	a.addColumn(r, clauseOf(lv.clause))
	a.bindForward(r, j)
	return j
}

// onTable records the table name at i and an alias after it.
func (a *Analyzer) onTable(i int) int {
	w := &a.walk
	lv := &w.lv
	r, j, _ := a.parseRef(i)
	lv.expect = false
	if lv.clause == stFrom && a.isOp(j, opLParen) {
		return j // table function: FROM unnest(...)
	}
	name := r.full(a)
	a.addTable(name)
	if lv.dml == kwUpdate && w.target == "" {
		w.target = name
	}
	if a.isOp(j, opAt) && a.isName(j+1) {
		j += 2 // index hint t@idx
	}
	switch lv.clause {
	case stInto:
		lv.clause = stTarget
		w.target = name
		if a.isKw(j, kwAs) && a.isName(j+1) {
			a.addAlias(a.internLower(j+1, j+2), name)
			j += 2
		}
	case stFrom:
		switch {
		case a.isKw(j, kwAs) && a.isName(j+1):
			a.addAlias(a.internLower(j+1, j+2), name)
			j += 2
		case j < len(a.toks) && a.toks[j].kind == tkQIdent,
			j < len(a.toks) && a.toks[j].kind == tkIdent && a.toks[j].kw == kwNone:
			a.addAlias(a.internLower(j, j+1), name)
			j++
		}
	case stTableList:
		if !a.isOp(j, opComma) {
			lv.clause = stOther
		}
	}
	return j
}

// endsOperand reports whether toks[i] ends an operand, so that a name
// after it is an alias.
func (a *Analyzer) endsOperand(i int) bool {
	if i < 0 {
		return false
	}
	t := &a.toks[i]
	switch t.kind {
	case tkOp:
		return t.op == opRParen || t.op == opRBrack
	case tkIdent:
		return t.kw == kwNone || !t.kw.reserved() || t.kw.valueLike()
	}
	return true
}

func clauseOf(st clauseState) Clause {
	switch st {
	case stSelect:
		return ClauseSelect
	case stWhere:
		return ClauseWhere
	case stJoinOn:
		return ClauseJoin
	case stSet:
		return ClauseSet
	case stInsertCols:
		return ClauseInsert
	case stReturning:
		return ClauseReturning
	}
	return ClauseOther
}
