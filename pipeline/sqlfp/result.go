package sqlfp

// Result is what Analyze learned about one statement. The Result and every
// slice in it are owned by the Analyzer and valid until its next call.
type Result struct {
	// Fingerprint is the normalized statement with literals replaced by ?.
	Fingerprint []byte
	// Hash is xxhash64 of Fingerprint.
	Hash uint64
	// Verb is the first keyword in upper case (SELECT, INSERT, WITH, ...),
	// or "" when the statement does not start with a word.
	Verb string
	// Tables are the referenced tables, lower-case, without quotes, markers
	// or the empty catalog/schema prefix, deduplicated, in order of
	// appearance.
	Tables []string
	// Columns are the referenced columns, deduplicated.
	Columns []Column
	// Star is true when SELECT * or t.* is present.
	Star bool
	// Bindings pair literals with the columns they are compared to or
	// written into.
	Bindings []Binding
	// Comments are the bodies of /* */ and -- comments, without delimiters.
	// They alias the statement passed to Analyze (or the Analyzer's
	// marker-free copy of it).
	Comments [][]byte
	// Literals counts literal and placeholder values, i.e. the ? in
	// Fingerprint before list collapsing.
	Literals int
	// Truncated is true when a cap (tables 64, columns 256, bindings 64,
	// comments 8) was hit.
	Truncated bool
}

// Caps on what one Result reports.
const (
	MaxTables   = 64
	MaxColumns  = 256
	MaxBindings = 64
	MaxComments = 8
)

// Clause says where in the statement a column was referenced.
type Clause uint8

// Clauses a column can be referenced in.
const (
	ClauseSelect    Clause = iota // SELECT list
	ClauseWhere                   // WHERE and HAVING predicates
	ClauseSet                     // UPDATE SET and ON CONFLICT DO UPDATE SET
	ClauseInsert                  // INSERT/UPSERT column list
	ClauseReturning               // RETURNING list
	ClauseJoin                    // JOIN ... ON / USING
	ClauseOther                   // ORDER BY, GROUP BY, ON CONFLICT target, ...
)

var clauseNames = [...]string{"select", "where", "set", "insert", "returning", "join", "other"}

// String returns the lower-case clause name.
func (c Clause) String() string {
	if int(c) < len(clauseNames) {
		return clauseNames[c]
	}
	return "unknown"
}

// Column is one referenced column. Table is resolved through aliases, or is
// the only table of the statement, else "".
type Column struct {
	Table  string
	Name   string
	Clause Clause
}

// Op says how a literal relates to its column.
type Op uint8

// Binding operations.
const (
	// OpCompare: col = lit, lit = col, col IN (...), col LIKE lit, other
	// comparisons and BETWEEN.
	OpCompare Op = iota
	// OpWrite: INSERT (cols) VALUES (...), UPSERT, SET col = lit and
	// ON CONFLICT DO UPDATE SET.
	OpWrite
)

// String returns "compare" or "write".
func (o Op) String() string {
	if o == OpWrite {
		return "write"
	}
	return "compare"
}

// LitKind is the kind of a literal value.
type LitKind uint8

// Literal kinds.
const (
	LitString      LitKind = iota // '...', e'...', $$...$$
	LitNumber                     // 42, -1.5e3, 0x1f
	LitBytes                      // b'..', x'..', '\x..'::BYTES and other BYTES casts
	LitBool                       // true, false
	LitNull                       // NULL
	LitPlaceholder                // $n (and Django's %s)
	LitRedacted                   // ‹×›, removed at the sink
	LitOther                      // B'0101' bit strings, ***** passwords
)

var litKindNames = [...]string{"string", "number", "bytes", "bool", "null", "placeholder", "redacted", "other"}

// String returns the lower-case kind name.
func (k LitKind) String() string {
	if int(k) < len(litKindNames) {
		return litKindNames[k]
	}
	return "unknown"
}

// Binding ties one literal to the column it is compared to or written into.
type Binding struct {
	Table, Column string
	Op            Op
	Kind          LitKind
	// Value is the literal's value: unquoted, '' and e'' escapes decoded,
	// markers removed. It aliases Analyzer memory. It is nil for
	// placeholders, redacted values and NULL.
	Value []byte
	// Placeholder is n of $n when Kind == LitPlaceholder (0 for %s).
	Placeholder int
}
