package sqlfp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func corpusBytes() ([][]byte, int) {
	stmts := make([][]byte, len(corpus))
	total := 0
	for i, s := range corpus {
		stmts[i] = []byte(s)
		total += len(s)
	}
	return stmts, total
}

// BenchmarkFingerprint measures the fingerprint-only path over the corpus
// mix; one op is one statement.
func BenchmarkFingerprint(b *testing.B) {
	stmts, total := corpusBytes()
	b.SetBytes(int64(total / len(stmts)))
	b.ReportAllocs()
	a := NewAnalyzer()
	for i := range stmts {
		a.Fingerprint(stmts[i]) // warm the buffers
	}
	i := 0
	for b.Loop() {
		a.Fingerprint(stmts[i])
		if i++; i == len(stmts) {
			i = 0
		}
	}
}

// BenchmarkAnalyze measures the full analysis over the corpus mix.
func BenchmarkAnalyze(b *testing.B) {
	stmts, total := corpusBytes()
	b.SetBytes(int64(total / len(stmts)))
	b.ReportAllocs()
	a := NewAnalyzer()
	for i := range stmts {
		a.Analyze(stmts[i])
	}
	i := 0
	for b.Loop() {
		a.Analyze(stmts[i])
		if i++; i == len(stmts) {
			i = 0
		}
	}
}

// bulkInsert returns an INSERT with rows tuples, about 60 B each.
func bulkInsert(rows int) []byte {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO ""."".readings(device, taken_at, value, note) VALUES `)
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(‹%d›, ‹'2025-06-11'›, ‹%d.5›, ‹'n%d'›)", i, i*7, i)
	}
	return []byte(sb.String())
}

// BenchmarkAnalyzeBulk1MB shows that a megabyte statement is one linear pass.
func BenchmarkAnalyzeBulk1MB(b *testing.B) {
	stmt := bulkInsert(17000)
	b.SetBytes(int64(len(stmt)))
	b.ReportAllocs()
	a := NewAnalyzer()
	for b.Loop() {
		a.Analyze(stmt)
	}
}

func TestAnalyzeMegabyte(t *testing.T) {
	a := NewAnalyzer()
	stmt := bulkInsert(17000)
	require.Greater(t, len(stmt), 1<<20)
	r := a.Analyze(stmt)
	require.Equal(t, `insert into readings(device, taken_at, value, note) values (?, ?, ?, ?)`, string(r.Fingerprint))
	require.Equal(t, 4*17000, r.Literals)
	require.Len(t, r.Bindings, MaxBindings)
	require.True(t, r.Truncated)

	var sb strings.Builder
	sb.WriteString("SELECT * FROM t WHERE id IN (")
	for i := range 150000 {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "$%d", i+1)
	}
	sb.WriteString(")")
	r = a.Analyze([]byte(sb.String()))
	require.Equal(t, `select * from t where id in (?)`, string(r.Fingerprint))
	require.True(t, r.Truncated)
}

func TestZeroAllocs(t *testing.T) {
	stmts, _ := corpusBytes()
	a := NewAnalyzer()
	for _, s := range stmts {
		a.Analyze(s)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, s := range stmts {
			a.Fingerprint(s)
		}
	})
	require.Zero(t, allocs, "Fingerprint")
	allocs = testing.AllocsPerRun(100, func() {
		for _, s := range stmts {
			a.Analyze(s)
		}
	})
	require.Zero(t, allocs, "Analyze")
}
