package sqlirule

// constTerm reads the boolean term that starts at token j (after OR, AND,
// WHERE or HAVING) up to the next connector or clause at the same depth,
// and reports whether it references no column at all: only literals,
// NULL, operators, casts and calls of non-aggregate functions. n counts
// the term's tokens other than parentheses. A column reference, a quoted
// name, a subquery (SELECT), an aggregate or a term longer than maxLook
// tokens make it non-constant.
//
// ORM predicates always compare a column ("auth_user"."username" = %s,
// a = ? OR b = ?); an injected OR 1=1, OR 'a'='a', OR (1 = 1) as
// CockroachDB renders it, OR TRUE or AND 1=2 does not.
func (s *scanner) constTerm(j int) (constant bool, n int) {
	depth := 0
	for k := j; k < len(s.toks); k++ {
		if k >= j+maxLook {
			return false, n
		}
		t := &s.toks[k]
		switch t.k {
		case kLParen:
			depth++
		case kRParen:
			if depth--; depth < 0 {
				return n > 0, n
			}
		case kSemi:
			return n > 0, n
		case kComma:
			if depth == 0 {
				return n > 0, n
			}
		case kLit:
			n++
		case kQIdent, kDot:
			return false, n
		case kOp:
			op := s.text(k)
			if op == "*" && s.kindAt(k-1) == kLParen {
				return false, n // count(*)
			}
			n++
			if (op == "::" || op == ":::") && s.kindAt(k+1) == kWord {
				k++ // the type name
			}
		case kWord:
			w := s.word(k)
			if depth == 0 && termEnd(w) && !t.band {
				return n > 0, n
			}
			switch {
			case w == "case":
				depth++
				n++
			case w == "end":
				if depth--; depth < 0 {
					return n > 0, n
				}
			case w == "as":
				n++
				if s.kindAt(k+1) == kWord {
					k++ // CAST(x AS type)
				}
			case s.kindAt(k+1) == kLParen:
				if rowFunc(w) {
					return false, n
				}
				n++
			case constWord(w):
				n++
			default:
				return false, n
			}
		}
	}
	return n > 0, n
}

// termEnd lists the words that end a boolean term at its own depth.
func termEnd(w string) bool {
	switch w {
	case "and", "or", "order", "group", "limit", "offset", "union", "intersect", "except", "having",
		"returning", "for", "window", "fetch", "when", "then", "else", "on", "join", "where", "from",
		"into", "values", "set", "do", "using", "inner", "left", "right", "full", "cross", "natural", "lateral":
		return true
	}
	return false
}

// constWord lists the keywords a constant term may contain.
func constWord(w string) bool {
	switch w {
	case "is", "not", "null", "like", "ilike", "in", "between", "symmetric", "asymmetric", "similar", "to",
		"escape", "distinct", "any", "some", "all", "array", "interval", "true", "false", "unknown", "isnull",
		"notnull", "collate", "when", "then", "else", "and", "or", "current_user", "session_user", "current_role",
		"current_date", "current_timestamp", "current_time", "localtime", "localtimestamp", "date", "time",
		"timestamp", "timestamptz", "xor", "div", "mod", "regexp", "rlike", "glob", "sounds", "select":
		return true
	}
	return false
}

// rowFunc lists aggregate and window functions: they depend on rows, so a
// predicate over them (HAVING COUNT(*) > %s) is not constant.
func rowFunc(w string) bool {
	switch w {
	case "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg", "bool_and",
		"bool_or", "every", "stddev", "variance", "row_number", "rank", "dense_rank", "lag", "lead", "ntile",
		"first_value", "last_value", "percent_rank", "cume_dist", "json_object_agg", "jsonb_object_agg":
		return true
	}
	return false
}

// selectEnd lists the words that end a SELECT list.
func selectEnd(w string) bool {
	switch w {
	case "from", "where", "union", "intersect", "except", "order", "group", "limit", "having", "into", "offset", "fetch":
		return true
	}
	return false
}

// unionProbe checks the SELECT list after the UNION at i. Column-count
// and data probes select literals or NULLs (UNION SELECT NULL, NULL; 1,2,3),
// information functions (version(), current_user), or unqualified names
// right after the literal the input closed (... = ” UNION SELECT
// username, password FROM users). Django's own combined queries
// (qs.union()) select qualified columns ("app_b"."id") or aliased values
// (%s AS "kind"), and parenthesize sliced parts, so they stay quiet.
func (s *scanner) unionProbe(i int) classSet {
	j := i + 1
	if w := s.word(j); w == "all" || w == "distinct" {
		j++
	}
	if s.word(j) != "select" {
		return 0
	}
	afterLit := s.kindAt(i-1) == kLit || s.kindAt(i-1) == kRParen && s.kindAt(i-2) == kLit
	j++
	if w := s.word(j); w == "distinct" || w == "all" {
		j++
	}
	depth, start := 0, j
	for k := j; k <= len(s.toks) && k < j+maxLook; k++ {
		end := k == len(s.toks)
		if !end {
			switch t := &s.toks[k]; t.k {
			case kLParen:
				depth++
			case kRParen:
				if depth == 0 {
					end = true
				} else {
					depth--
				}
			case kSemi:
				end = true
			case kComma:
				if depth == 0 {
					if s.itemProbe(start, k, afterLit) {
						return cUnion
					}
					start = k + 1
				}
			case kWord:
				end = depth == 0 && selectEnd(s.word(k))
			}
		}
		if end {
			if s.itemProbe(start, k, afterLit) {
				return cUnion
			}
			break
		}
	}
	return 0
}

// itemProbe reports whether the select-list item toks[a:b] is a probe.
func (s *scanner) itemProbe(a, b int, afterLit bool) bool {
	if a >= b {
		return false
	}
	for k := a; k < b; k++ {
		w := s.word(k)
		if w == "as" && !(k > a && s.isCallArg(a, k)) {
			return false // aliased: ORM annotation
		}
		if infoFunc(w) {
			return true
		}
	}
	if b-a == 1 && afterLit {
		switch t := s.toks[a]; {
		case t.k == kWord && !infoFunc(s.word(a)):
			return true // unqualified column after the closed literal
		case t.k == kOp && s.text(a) == "*":
			return true
		}
	}
	constant, n := s.constTerm(a)
	return constant && n >= 1
}

// isCallArg reports whether token k lies inside parentheses opened within
// toks[a:k] (so an AS there belongs to CAST, not to an alias).
func (s *scanner) isCallArg(a, k int) bool {
	depth := 0
	for j := a; j < k; j++ {
		switch s.toks[j].k {
		case kLParen:
			depth++
		case kRParen:
			depth--
		}
	}
	return depth > 0
}
