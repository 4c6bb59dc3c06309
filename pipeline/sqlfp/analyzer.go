package sqlfp

import (
	"bytes"

	"github.com/cespare/xxhash/v2"
)

// maxInterned bounds the per-Analyzer string table; it is cleared when full.
const maxInterned = 8192

// Analyzer fingerprints and analyzes statements. It keeps every buffer
// between calls, so steady-state use does not allocate. Analyzer is
// reusable and not safe for concurrent use.
type Analyzer struct {
	full      bool   // decode values and run the clause walk
	src       []byte // the statement being lexed, markers removed
	clean     []byte // marker-free copy of the statement, when one was needed
	toks      []token
	vals      []byte // decoded token values; see lex for why slices stay valid
	fp        []byte
	lists     []listFrame
	literals  int
	truncated bool
	comments  [][]byte

	scratch  []byte
	names    map[string]string
	walk     walker
	tables   []string
	columns  []Column
	bindings []Binding
	res      Result
}

// NewAnalyzer returns an Analyzer with empty buffers.
func NewAnalyzer() *Analyzer {
	return &Analyzer{names: make(map[string]string, 64)}
}

// Fingerprint lexes stmt once and returns only its fingerprint and xxhash64,
// skipping value decoding and the table, column and binding walk. The slice
// is owned by the Analyzer and valid until its next call. It equals
// Analyze(stmt).Fingerprint.
func (a *Analyzer) Fingerprint(stmt []byte) ([]byte, uint64) {
	a.full = false
	a.prepare(stmt)
	a.lex()
	a.writeFingerprint()
	return a.fp, xxhash.Sum64(a.fp)
}

// Analyze lexes stmt once. The Result and every slice in it are owned by
// the Analyzer and valid until the next Analyze call.
func (a *Analyzer) Analyze(stmt []byte) *Result {
	a.full = true
	a.truncated = false
	a.comments = a.comments[:0]
	a.prepare(stmt)
	a.lex()
	a.writeFingerprint()
	a.analyze()
	r := &a.res
	*r = Result{
		Fingerprint: a.fp,
		Hash:        xxhash.Sum64(a.fp),
		Verb:        a.walk.verb,
		Tables:      a.tables,
		Columns:     a.columns,
		Star:        a.walk.star,
		Bindings:    a.bindings,
		Comments:    a.comments,
		Literals:    a.literals,
		Truncated:   a.truncated,
	}
	return r
}

// prepare sets a.src to stmt, or to a copy without redaction markers when
// stmt contains any.
func (a *Analyzer) prepare(stmt []byte) {
	k := markerIndex(stmt)
	if k < 0 {
		a.src = stmt
		return
	}
	out := append(a.clean[:0], stmt[:k]...)
	rest := stmt[k+3:]
	for {
		k = markerIndex(rest)
		if k < 0 {
			out = append(out, rest...)
			break
		}
		out = append(out, rest[:k]...)
		rest = rest[k+3:]
	}
	a.clean = out
	a.src = out
}

// markerIndex returns the index of the first ‹ (E2 80 B9) or › (E2 80 BA)
// in b, or -1.
func markerIndex(b []byte) int {
	off := 0
	for {
		k := bytes.IndexByte(b[off:], 0xE2)
		if k < 0 {
			return -1
		}
		k += off
		if k+2 < len(b) && b[k+1] == 0x80 && (b[k+2] == 0xB9 || b[k+2] == 0xBA) {
			return k
		}
		off = k + 1
	}
}

// intern returns b as a string, allocating only the first time a name is
// seen (and again after the bounded table is cleared).
func (a *Analyzer) intern(b []byte) string {
	if s, ok := a.names[string(b)]; ok {
		return s
	}
	if len(a.names) >= maxInterned {
		clear(a.names)
	}
	s := string(b)
	a.names[s] = s
	return s
}

// tokValue returns the decoded value of toks[i].
func (a *Analyzer) tokValue(i int) []byte {
	t := &a.toks[i]
	return a.vals[t.v:t.ve]
}
