package sqlfp

import "strings"

// ref is a possibly qualified name: qual is everything before the last dot.
type ref struct{ qual, name string }

// full returns the dotted name.
func (r ref) full(a *Analyzer) string {
	if r.qual == "" {
		return r.name
	}
	b := append(a.scratch[:0], r.qual...)
	b = append(b, '.')
	b = append(b, r.name...)
	a.scratch = b
	return a.intern(b)
}

type rawCol struct {
	ref
	clause Clause
}

type rawBind struct {
	ref
	op  Op
	tok int
}

type aliasDef struct{ alias, table string }

// parseRef reads the dotted name at i (a.b.c, or a.* for star) and returns
// it lower-cased and interned with the index after it. When toks[i] is not
// a name it returns the zero ref and i.
func (a *Analyzer) parseRef(i int) (r ref, next int, star bool) {
	toks := a.toks
	if i >= len(toks) || toks[i].kind != tkIdent && toks[i].kind != tkQIdent {
		return ref{}, i, false
	}
	last := i
	j := i + 1
	for j+1 < len(toks) && toks[j].kind == tkOp && toks[j].op == opDot {
		n := &toks[j+1]
		if n.kind == tkOp && n.op == opStar {
			star = true
			j += 2
			break
		}
		if n.kind != tkIdent && n.kind != tkQIdent {
			break
		}
		last = j + 1
		j += 2
	}
	if star {
		return ref{}, j, true
	}
	r.name = a.internLower(last, last+1)
	if last > i {
		r.qual = a.internLower(i, last-1)
	}
	return r, j, false
}

// internLower interns the names of toks[from:to] joined by dots (the dot
// tokens in between are skipped), lower-cased.
func (a *Analyzer) internLower(from, to int) string {
	b := a.scratch[:0]
	for k := from; k < to; k++ {
		t := &a.toks[k]
		if t.kind == tkOp {
			continue
		}
		if k > from {
			b = append(b, '.')
		}
		start := len(b)
		b = append(b, a.vals[t.v:t.ve]...)
		if t.kind == tkQIdent {
			for x := start; x < len(b); x++ {
				if c := b[x]; c >= 'A' && c <= 'Z' {
					b[x] = c + ('a' - 'A')
				}
			}
		}
	}
	a.scratch = b
	return a.intern(b)
}

func (a *Analyzer) addTable(name string) {
	for _, t := range a.tables {
		if t == name {
			return
		}
	}
	if len(a.tables) >= MaxTables {
		a.truncated = true
		return
	}
	a.tables = append(a.tables, name)
}

func (a *Analyzer) addAlias(alias, table string) {
	if len(a.walk.aliases) < MaxTables {
		a.walk.aliases = append(a.walk.aliases, aliasDef{alias, table})
	}
}

// maxRawColumns bounds unresolved column references; several raw
// references can resolve to one column.
const maxRawColumns = 4 * MaxColumns

// smallSet is the size up to which raw columns are deduplicated by a scan.
const smallSet = 16

func (a *Analyzer) addColumn(r ref, c Clause) {
	w := &a.walk
	rc := rawCol{r, c}
	if len(w.cols) < smallSet {
		for _, x := range w.cols {
			if x == rc {
				return
			}
		}
	} else {
		if w.colSet == nil {
			w.colSet = make(map[rawCol]struct{}, 4*smallSet)
		}
		if len(w.colSet) == 0 {
			for _, x := range w.cols {
				w.colSet[x] = struct{}{}
			}
		}
		if _, ok := w.colSet[rc]; ok {
			return
		}
	}
	if len(w.cols) >= maxRawColumns {
		a.truncated = true
		return
	}
	w.cols = append(w.cols, rc)
	if len(w.colSet) > 0 {
		w.colSet[rc] = struct{}{}
	}
}

// resolve maps a column qualifier to a table: an alias, a table name or
// the last parts of one, EXCLUDED in an upsert, or with no qualifier the
// statement's only table.
func (a *Analyzer) resolve(qual string) string {
	if qual == "" {
		if len(a.tables) == 1 {
			return a.tables[0]
		}
		return ""
	}
	for _, al := range a.walk.aliases {
		if al.alias == qual {
			return al.table
		}
	}
	for _, t := range a.tables {
		if t == qual {
			return t
		}
	}
	for _, t := range a.tables {
		if len(t) > len(qual) && t[len(t)-len(qual)-1] == '.' && strings.HasSuffix(t, qual) {
			return t
		}
	}
	if qual == "excluded" {
		return a.walk.target
	}
	return ""
}

// finishRefs drops CTE names from the tables and resolves columns and
// bindings into the Result slices.
func (a *Analyzer) finishRefs() {
	w := &a.walk
	if len(w.ctes) > 0 {
		kept := a.tables[:0]
		for _, t := range a.tables {
			cte := false
			for _, c := range w.ctes {
				cte = cte || c == t
			}
			if !cte {
				kept = append(kept, t)
			}
		}
		a.tables = kept
	}
	for _, rc := range w.cols {
		c := Column{Table: a.resolve(rc.qual), Name: rc.name, Clause: rc.clause}
		dup := false
		for _, x := range a.columns {
			if x == c {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if len(a.columns) >= MaxColumns {
			a.truncated = true
			break
		}
		a.columns = append(a.columns, c)
	}
	for _, rb := range w.binds {
		b := Binding{Table: a.resolve(rb.qual), Column: rb.name, Op: rb.op}
		a.literal(rb.tok, &b)
		a.bindings = append(a.bindings, b)
	}
}
