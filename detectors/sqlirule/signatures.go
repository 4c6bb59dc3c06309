package sqlirule

import (
	"strings"
	"sync"
)

// Signature classes, as findings name them in Details["classes"].
const (
	ClassStacked    = "stacked"     // a second statement after ';' (Django's raw SQL only)
	ClassUnion      = "union"       // UNION SELECT of literals/NULLs/unqualified names, ORDER BY <n> column counting
	ClassTime       = "time"        // pg_sleep and friends, foreign sleep functions, generate_series cross joins
	ClassErrorBased = "error_based" // CAST(version() AS INT), literal || (SELECT ...), XML error functions
	ClassTautology  = "tautology"   // OR <constant>, AND/WHERE <constant comparison>
	ClassQuoteBreak = "quote_break" // a literal glued to the next token: the input closed a quote
	ClassComment    = "comment"     // a non-sqlcommenter comment right after a literal (needs the parser's flag)
	ClassCatalog    = "catalog"     // system catalog tables or file functions
	ClassErrorBurst = "error_burst" // burst of syntax/undefined-object errors (not a fingerprint class)
)

// classSet is a set of classes, one bit each, in priority order: Match
// reports the lowest bit set.
type classSet uint16

const (
	cStacked classSet = 1 << iota
	cUnion
	cTime
	cErrorBased
	cTautology
	cQuoteBreak
	cComment
	cCatalog
	cErrorBurst
)

var classNames = [...]string{ClassStacked, ClassUnion, ClassTime, ClassErrorBased, ClassTautology,
	ClassQuoteBreak, ClassComment, ClassCatalog, ClassErrorBurst}

// first returns the name of the highest-priority class in cs.
func (cs classSet) first() string {
	for i, n := range classNames {
		if cs&(1<<i) != 0 {
			return n
		}
	}
	return ""
}

// String lists the classes, comma-separated, in priority order.
func (cs classSet) String() string {
	var b strings.Builder
	for i, n := range classNames {
		if cs&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

var scanners = sync.Pool{New: func() any { return &scanner{} }}

// Match classifies one fingerprint (as produced by pipeline/sqlfp, i.e.
// Event.Fingerprint) with the statement's tables (Event.Tables). It
// reports the highest-priority signature class found, in the order
// stacked, union, time, error_based, tautology, quote_break, catalog.
// Match knows nothing about the principal: the detector additionally
// ignores catalog reads by admin and migration tools, known-benign catalog
// fingerprints, and adds the comment and error-burst classes from other
// event fields. Safe for concurrent use.
func Match(fingerprint string, tables []string) (class string, ok bool) {
	s := scanners.Get().(*scanner)
	cs := s.classify(fingerprint, tables)
	s.fp = ""
	scanners.Put(s)
	return cs.first(), cs != 0
}

// classify runs every fingerprint signature.
func (s *scanner) classify(fp string, tables []string) classSet {
	s.fp = fp
	s.toks = tokenize(fp, s.toks)
	var cs classSet
	if catalogTables(tables) {
		cs |= cCatalog
	}
	for i := range s.toks {
		t := &s.toks[i]
		switch t.k {
		case kSemi:
			if i+1 < len(s.toks) {
				cs |= cStacked
			}
		case kLit:
			if i+1 < len(s.toks) && s.toks[i+1].glued && (s.toks[i+1].k == kWord || s.toks[i+1].k == kLit) {
				cs |= cQuoteBreak
			}
			// = '' ' ...: two literals in a row after an operator (the
			// JSON key operator "col ? 'k'" has a name before it).
			if s.kindAt(i+1) == kLit && (s.kindAt(i-1) == kOp && s.text(i-1) != "?" || s.kindAt(i-1) == kComma) {
				cs |= cQuoteBreak
			}
		case kOp:
			cs |= s.opSignature(i)
		case kWord:
			cs |= s.wordSignature(i)
		}
	}
	if cs&cTime == 0 && strings.Count(fp, "generate_series(") >= 2 {
		cs |= cTime // a cross join of series: a heavy query as a delay
	}
	return cs
}

// wordSignature checks the signatures anchored on the word at i.
func (s *scanner) wordSignature(i int) classSet {
	w := s.word(i)
	switch w {
	case "or", "and", "where", "having":
		if w == "and" && s.toks[i].band {
			return 0
		}
		constant, n := s.constTerm(i + 1)
		if constant && (n >= 2 || (w == "or" || w == "and") && n >= 1) {
			return cTautology
		}
	case "union":
		return s.unionProbe(i)
	case "order":
		// ' ORDER BY 9 --: a position right after the literal the input closed.
		if s.word(i+1) == "by" && s.kindAt(i+2) == kLit && s.kindAt(i-1) == kLit && s.kindAt(i-2) == kOp {
			switch s.kindAt(i + 3) {
			case kSemi, kComma, kWord:
				return cUnion
			}
		}
	case "pg_sleep", "pg_sleep_for", "pg_sleep_until", "sleep", "benchmark", "dbms_lock", "dbms_pipe":
		if s.isCall(i) || s.kindAt(i+1) == kDot {
			return cTime
		}
	case "waitfor":
		if nx := s.word(i + 1); nx == "delay" || nx == "time" {
			return cTime
		}
	case "cast":
		if s.kindAt(i+1) == kLParen && s.probesInside(i+1) {
			return cErrorBased
		}
	case "extractvalue", "updatexml", "xmltype", "utl_inaddr", "ctxsys", "json_keys", "gtid_subset":
		if s.isCall(i) || s.kindAt(i+1) == kDot {
			return cErrorBased // MySQL/Oracle error-based extraction sent to CockroachDB
		}
	case "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "lo_import", "lo_export", "pg_stat_file":
		if s.isCall(i) {
			return cCatalog
		}
	case "information_schema", "pg_catalog", "crdb_internal", "system":
		if s.kindAt(i+1) == kDot {
			return cCatalog
		}
	case "program":
		if strings.HasPrefix(s.fp, "copy ") {
			return cStacked | cCatalog
		}
	}
	return 0
}

// opSignature checks the signatures anchored on the operator at i.
func (s *scanner) opSignature(i int) classSet {
	switch s.text(i) {
	case "||":
		// 'x' || (SELECT password FROM users LIMIT 1) || '': a subquery
		// spliced into a string literal.
		if s.kindAt(i-1) == kLit && s.kindAt(i+1) == kLParen && s.word(i+2) == "select" {
			return cErrorBased
		}
	case "::", ":::":
		// (SELECT ...)::INT and version()::INT force a conversion error
		// that carries the value in its message.
		if !intType(s.word(i+1)) || s.kindAt(i-1) != kRParen {
			return 0
		}
		open := s.opening(i - 1)
		if open < 0 {
			return 0
		}
		if infoFunc(s.word(open-1)) || s.probesInside(open) {
			return cErrorBased
		}
	}
	return 0
}

// opening returns the index of the parenthesis opening the one closing at
// i, or -1.
func (s *scanner) opening(i int) int {
	depth := 0
	for j := i; j >= 0 && j > i-maxLook; j-- {
		switch s.toks[j].k {
		case kRParen:
			depth++
		case kLParen:
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}

// probesInside reports whether the parenthesized group opening at i holds
// a subquery or an information function.
func (s *scanner) probesInside(i int) bool {
	end := s.closing(i)
	if end < 0 {
		end = min(len(s.toks)-1, i+maxLook)
	}
	for j := i + 1; j < end; j++ {
		if w := s.word(j); w == "select" || infoFunc(w) {
			return true
		}
	}
	return false
}

func intType(w string) bool {
	switch w {
	case "int", "int2", "int4", "int8", "integer", "bigint", "smallint", "numeric", "decimal", "float", "float8", "float4", "real":
		return true
	}
	return false
}

// infoFunc names functions and constants that reveal the server, the
// session or the database: harmless alone (drivers ask for version()), a
// probe when spliced into a predicate or a UNION.
func infoFunc(w string) bool {
	switch w {
	case "version", "current_user", "session_user", "current_database", "current_schema", "current_setting",
		"inet_server_addr", "inet_server_port", "pg_backend_pid", "current_role", "database", "@@version":
		return true
	}
	return false
}

// catalogPrefixes and catalogNames are the system catalogs an application
// principal has no business reading.
var catalogPrefixes = []string{"information_schema.", "pg_catalog.", "crdb_internal.", "system.", "pg_extension."}

var catalogNames = map[string]bool{
	"pg_user": true, "pg_shadow": true, "pg_authid": true, "pg_roles": true, "pg_group": true, "pg_tables": true,
	"pg_class": true, "pg_namespace": true, "pg_attribute": true, "pg_database": true, "pg_proc": true,
	"pg_settings": true, "pg_stat_activity": true, "pg_auth_members": true, "pg_views": true, "pg_user_mappings": true,
	"pg_largeobject": true, "pg_file_settings": true, "pg_hba_file_rules": true, "pg_type": true, "pg_index": true,
	"pg_constraint": true, "pg_extension": true, "pg_stat_statements": true,
}

func catalogTables(tables []string) bool {
	for _, t := range tables {
		if catalogNames[t] {
			return true
		}
		for _, p := range catalogPrefixes {
			if strings.HasPrefix(t, p) {
				return true
			}
		}
	}
	return false
}
