package sqlfp

// clauseState is where the walk is inside a statement (or subquery).
type clauseState uint8

const (
	stNone       clauseState = iota
	stSelect                 // SELECT list
	stFrom                   // FROM/JOIN/UPDATE table references
	stInto                   // INSERT/UPSERT INTO: one table follows
	stTarget                 // after INSERT INTO t: column list, VALUES or SELECT follow
	stInsertCols             // inside the INSERT column list
	stValues                 // INSERT ... VALUES tuples
	stWhere                  // WHERE and HAVING
	stJoinOn                 // JOIN ... ON / USING
	stSet                    // UPDATE SET, ON CONFLICT DO UPDATE SET
	stReturning              // RETURNING list
	stOrder                  // ORDER/GROUP BY, ON CONFLICT target: columns are ClauseOther
	stTableList              // TRUNCATE, TABLE, ALTER/DROP/CREATE TABLE, GRANT ON: names are tables
	stWith                   // CTE header: names are CTE names
	stOther                  // nothing to collect (LIMIT, DDL bodies, SET var, ...)
)

// level is the walk state of one query level; subqueries push a new one.
type level struct {
	clause  clauseState
	dml     kwID
	base    int  // len(frames) when the level began
	expect  bool // stFrom, stInto, stTableList: the next name is a table
	setExpr bool // stSet: past the target, inside its expression
	setTgt  ref
	tuple   int // stValues: index of the open tuple frame, -1 if none
	elem    int // stValues: element index within the tuple
}

type frameKind uint8

const (
	frGroup frameKind = iota
	frFunc
	frQuery
	frInsertCols
	frTuple
)

// frame is one open parenthesis or bracket.
type frame struct {
	kind  frameKind
	saved level // frQuery: the enclosing level, restored at ')'
}

// walker is the clause state machine's memory, reused between calls.
type walker struct {
	verb       string
	star       bool
	lv         level
	frames     []frame
	aliases    []aliasDef
	ctes       []string
	cols       []rawCol
	colSet     map[rawCol]struct{}
	binds      []rawBind
	insertCols []string
	target     string // the INSERT/UPSERT/UPDATE table
}

func (w *walker) reset() {
	w.verb, w.star, w.target = "", false, ""
	w.lv = level{tuple: -1}
	w.frames = w.frames[:0]
	w.aliases = w.aliases[:0]
	w.ctes = w.ctes[:0]
	w.cols = w.cols[:0]
	w.binds = w.binds[:0]
	w.insertCols = w.insertCols[:0]
	if len(w.colSet) > 0 {
		clear(w.colSet)
	}
}

// analyze walks a.toks once and fills tables, columns and bindings.
func (a *Analyzer) analyze() {
	w := &a.walk
	w.reset()
	a.tables = a.tables[:0]
	a.columns = a.columns[:0]
	a.bindings = a.bindings[:0]
	w.verb = a.verbOf()
	toks := a.toks
	for i := 0; i < len(toks); {
		t := &toks[i]
		switch {
		case t.kind == tkOp:
			i = a.onOp(i)
		case t.kind == tkIdent && t.kw != kwNone:
			i = a.onKeyword(i)
		case t.kind == tkIdent || t.kind == tkQIdent:
			i = a.onName(i)
		default:
			i = a.onLiteral(i)
		}
	}
	a.finishRefs()
}

// verbOf returns the statement's first word in upper case.
func (a *Analyzer) verbOf() string {
	for i := range a.toks {
		t := &a.toks[i]
		if t.kind == tkOp && t.op == opLParen {
			continue
		}
		if t.kind != tkIdent {
			return ""
		}
		if t.kw != kwNone && kwVerbs[t.kw] != "" {
			return kwVerbs[t.kw]
		}
		b := append(a.scratch[:0], a.tokValue(i)...)
		for k, c := range b {
			if c >= 'a' && c <= 'z' {
				b[k] = c - ('a' - 'A')
			}
		}
		a.scratch = b
		return a.intern(b)
	}
	return ""
}

// onOp tracks brackets, list separators, SELECT * and statement ends.
func (a *Analyzer) onOp(i int) int {
	w := &a.walk
	lv := &w.lv
	t := &a.toks[i]
	switch t.op {
	case opLParen:
		if a.isKw(i+1, kwSelect) || a.isKw(i+1, kwWith) || a.isKw(i+1, kwValues) {
			w.frames = append(w.frames, frame{kind: frQuery, saved: *lv})
			w.lv = level{base: len(w.frames), tuple: -1}
			return i + 1
		}
		kind := frGroup
		top := len(w.frames) == lv.base
		switch {
		case lv.clause == stTarget && top:
			kind = frInsertCols
			lv.clause = stInsertCols
			w.insertCols = w.insertCols[:0]
		case lv.clause == stValues && top:
			kind = frTuple
			lv.tuple = len(w.frames)
			lv.elem = 0
		case a.isName(i - 1):
			kind = frFunc
		}
		w.frames = append(w.frames, frame{kind: kind})
	case opRParen:
		if len(w.frames) == 0 {
			return i + 1 // unbalanced ')'
		}
		f := w.frames[len(w.frames)-1]
		w.frames = w.frames[:len(w.frames)-1]
		switch f.kind {
		case frQuery:
			w.lv = f.saved
		case frInsertCols:
			lv.clause = stTarget
		case frTuple:
			lv.tuple = -1
		}
	case opComma:
		if len(w.frames) == lv.base {
			switch lv.clause {
			case stFrom, stTableList:
				lv.expect = true
			case stSet:
				lv.setExpr = false
			}
		}
		if lv.clause == stValues && lv.tuple >= 0 && len(w.frames)-1 == lv.tuple {
			lv.elem++
		}
	case opStar:
		if lv.clause == stSelect && len(w.frames) == lv.base {
			if i == 0 || a.toks[i-1].kind == tkOp && a.toks[i-1].op == opComma ||
				a.isKw(i-1, kwSelect) || a.isKw(i-1, kwDistinct) || a.isKw(i-1, kwAll) {
				w.star = true
			}
		}
	case opSemi:
		w.lv = level{tuple: -1}
		w.frames = w.frames[:0]
	}
	return i + 1
}

// isKw reports whether toks[i] is the keyword kw.
func (a *Analyzer) isKw(i int, kw kwID) bool {
	return i >= 0 && i < len(a.toks) && a.toks[i].kind == tkIdent && a.toks[i].kw == kw
}

// isName reports whether toks[i] can name a table, column or function.
func (a *Analyzer) isName(i int) bool {
	if i < 0 || i >= len(a.toks) {
		return false
	}
	t := &a.toks[i]
	return t.kind == tkQIdent || t.kind == tkIdent && !t.kw.reserved()
}

func (a *Analyzer) isOp(i int, op opcode) bool {
	return i >= 0 && i < len(a.toks) && a.toks[i].kind == tkOp && a.toks[i].op == op
}

// inFunc reports whether the innermost open bracket is a function call.
func (a *Analyzer) inFunc() bool {
	w := &a.walk
	return len(w.frames) > w.lv.base && w.frames[len(w.frames)-1].kind == frFunc
}
