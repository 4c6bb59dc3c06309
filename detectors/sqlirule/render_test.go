package sqlirule

import (
	"strings"

	"roachwatch/pipeline/sqlfp"
)

// This file turns a statement in Django's SQL log form into what
// CockroachDB would log for it, for the corpus tests: comments dropped
// (and everything after a line comment), one event per statement of a
// multi-statement string, keywords upper-case, simple quoted names bare,
// literals inside redaction markers, spaces around operators, table names
// after FROM/JOIN prefixed with "".""., and the operands of a top-level
// AND/OR in WHERE parenthesized. An unterminated string literal is a
// syntax error CockroachDB logs no statement for: render returns nil.

type rtok struct {
	kind byte // w word, q quoted name, s string, n number, o operator, ( ) , ;
	text string
}

var crdbKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`select from where and or not null is in like ilike between union all distinct order by
		group having limit offset as on join inner left right outer cross insert into values update set delete returning
		case when then else end exists cast true false asc desc for similar to any array interval nulls last first
		drop table create user with password grant alter truncate copy program show users tables database cascade
		backup experimental_audit off cluster setting string text int numeric delay waitfor savepoint release rollback
		time zone over partition extract at date timestamptz jsonb`) {
		crdbKeywords[k] = true
	}
}

// lexRaw splits raw SQL into tokens; ok is false on an unterminated string.
func lexRaw(s string) (toks []rtok, ok bool) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.HasPrefix(s[i:], "--"):
			return toks, true
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return toks, true
			}
			i += j + 4
		case c == '\'':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			if j >= len(s) {
				return nil, false
			}
			toks = append(toks, rtok{'s', s[i : j+1]})
			i = j + 1
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, false
			}
			toks = append(toks, rtok{'q', s[i+1 : i+1+j]})
			i += j + 2
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++
			}
			toks = append(toks, rtok{'n', s[i:j]})
			i = j
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, rtok{'w', s[i:j]})
			i = j
		case strings.ContainsRune("(),;.[]", rune(c)):
			k := c
			if c == '[' {
				k = '('
			} else if c == ']' {
				k = ')'
			}
			toks = append(toks, rtok{k, string(c)})
			i++
		default:
			j := i
			for j < len(s) && isOpByte(s[j]) && !strings.HasPrefix(s[j:], "--") && !strings.HasPrefix(s[j:], "/*") {
				j++
			}
			if j == i {
				j++
			}
			toks = append(toks, rtok{'o', s[i:j]})
			i = j
		}
	}
	return toks, true
}

// crdbRender renders raw as CockroachDB's logged statements.
func crdbRender(raw string) []string {
	toks, ok := lexRaw(raw)
	if !ok {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i <= len(toks); i++ {
		if i == len(toks) || toks[i].kind == ';' {
			if i > start {
				out = append(out, renderOne(parenWhere(toks[start:i])))
			}
			start = i + 1
		}
	}
	return out
}

// parenWhere wraps the operands of a top-level AND/OR in WHERE in parens.
func parenWhere(toks []rtok) []rtok {
	lw := func(i int) string { return strings.ToLower(toks[i].text) }
	w := -1
	depth := 0
	for i, t := range toks {
		switch t.kind {
		case '(':
			depth++
		case ')':
			depth--
		case 'w':
			if depth == 0 && lw(i) == "where" {
				w = i
			}
		}
		if w >= 0 {
			break
		}
	}
	if w < 0 {
		return toks
	}
	end := len(toks)
	var cuts []int
	depth, between := 0, false
	for i := w + 1; i < len(toks); i++ {
		switch toks[i].kind {
		case '(':
			depth++
		case ')':
			depth--
		case 'w':
			if depth != 0 {
				continue
			}
			switch lw(i) {
			case "between":
				between = true
			case "and":
				if between {
					between = false
				} else {
					cuts = append(cuts, i)
				}
			case "or":
				cuts = append(cuts, i)
			case "order", "group", "limit", "union", "having", "returning", "for", "offset":
				end = i
			}
		}
		if end != len(toks) || depth < 0 {
			if depth < 0 {
				end = i
			}
			break
		}
	}
	if len(cuts) == 0 {
		return toks
	}
	res := append([]rtok(nil), toks[:w+1]...)
	from := w + 1
	for _, c := range append(cuts, end) {
		res = append(res, rtok{'(', "("})
		res = append(res, toks[from:c]...)
		res = append(res, rtok{')', ")"})
		if c < end {
			res = append(res, toks[c])
		}
		from = c + 1
	}
	return append(res, toks[end:]...)
}

func renderOne(toks []rtok) string {
	var b strings.Builder
	prev := byte(0)
	prevWord := ""
	for _, t := range toks {
		text := t.text
		switch t.kind {
		case 'w':
			if crdbKeywords[strings.ToLower(text)] {
				text = strings.ToUpper(text)
			} else {
				text = strings.ToLower(text)
			}
			if lw := strings.ToLower(prevWord); (lw == "from" || lw == "join") && !strings.Contains(text, ".") {
				text = `"".""."` + text + `"`
			}
		case 'q':
			if simpleLower(text) {
				text = strings.ToLower(text)
			} else {
				text = `"` + text + `"`
			}
		case 's', 'n':
			text = "‹" + text + "›"
		}
		glue := prev == 0 || prev == '(' || prev == '.' || t.kind == ')' || t.kind == ',' || t.kind == '.' ||
			t.kind == '(' && prev == 'w' && !crdbKeywords[strings.ToLower(prevWord)] || prev == ':' || t.kind == 'o' && strings.HasPrefix(text, "::")
		if !glue {
			b.WriteByte(' ')
		}
		b.WriteString(text)
		prev = t.kind
		if t.kind == 'o' && strings.HasPrefix(text, "::") {
			prev = ':'
		}
		prevWord = ""
		if t.kind == 'w' {
			prevWord = t.text
		}
	}
	return b.String()
}

func simpleLower(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// commentAfterLiteral emulates the parse-stage flag the detector reads
// (AttrSQLComment): a comment that is not sqlcommenter-shaped right after
// a string or numeric literal.
func commentAfterLiteral(raw string) bool {
	lastLit := false
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\'':
			j := i + 1
			for ; j < len(raw); j++ {
				if raw[j] == '\'' {
					if j+1 < len(raw) && raw[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			i, lastLit = j+1, true
		case strings.HasPrefix(raw[i:], "--") || strings.HasPrefix(raw[i:], "/*"):
			body := raw[i+2:]
			if c == '/' {
				if j := strings.Index(body, "*/"); j >= 0 {
					body = body[:j]
				}
			}
			return lastLit && !sqlCommenterShaped(body)
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c >= '0' && c <= '9':
			for i < len(raw) && isWordByte(raw[i]) {
				i++
			}
			lastLit = true
		default:
			i++
			lastLit = false
		}
	}
	return false
}

// sqlCommenterShaped: ParseSQLCommenter accepts it and every key is a
// plain name (a comment cutting off "LIMIT 21 /*controller=..." is not).
func sqlCommenterShaped(body string) bool {
	tags := sqlfp.ParseSQLCommenter([]byte(body))
	if tags == nil {
		return false
	}
	for k := range tags {
		for i := 0; i < len(k); i++ {
			if c := k[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
				return false
			}
		}
	}
	return true
}
