package posture

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"roachwatch/pipeline/classify"
)

// Column verdicts.
const (
	VerdictPlaintext = "plaintext" // at least one sampled value is not ciphertext or a hash
	VerdictEncrypted = "encrypted" // every non-empty sampled value is ciphertext (Fernet, armor, random bytes, ...)
	VerdictHashed    = "hashed"    // one-way password hashes (Django's algorithm$iterations$salt$hash)
	VerdictEmpty     = "empty"     // no non-empty value sampled: nothing to judge
	VerdictError     = "error"     // the sample failed; see Error
)

// classHash is the class the probe gives Django password hashes; they are
// one-way, so a column holding them is not plaintext.
const classHash classify.Class = "password_hash"

var hashPrefixes = []string{"pbkdf2_sha256$", "pbkdf2_sha1$", "argon2$", "bcrypt$", "bcrypt_sha256$", "scrypt$"}

// ColumnResult is the classification of one sensitive column. It holds
// counts per class only: sampled values are never kept, printed or stored.
type ColumnResult struct {
	Schema   string         `json:"schema"`
	Table    string         `json:"table"`
	Column   string         `json:"column"`
	DataType string         `json:"data_type"`
	Sampled  int            `json:"sampled"`
	Nulls    int            `json:"nulls"`
	Classes  map[string]int `json:"classes,omitempty"`
	Verdict  string         `json:"verdict"`
	Error    string         `json:"error,omitempty"`
}

// Qualified is schema.table.column.
func (c ColumnResult) Qualified() string { return c.Schema + "." + c.Table + "." + c.Column }

type tableRef struct{ schema, table string }

// probeSchema lists the columns the catalog calls sensitive and samples
// them, one bounded read-only query per table.
func (p *Prober) probeSchema(ctx context.Context, conn *pgx.Conn, q Queries) ([]ColumnResult, []tableRef, error) {
	rows, err := conn.Query(ctx, q.Columns)
	if err != nil {
		return nil, nil, fmt.Errorf("listing columns: %w", err)
	}
	byTable := map[tableRef][]ColumnResult{}
	var tables []tableRef
	seen := map[tableRef]bool{}
	for rows.Next() {
		var c ColumnResult
		if err := rows.Scan(&c.Schema, &c.Table, &c.Column, &c.DataType); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("listing columns: %w", err)
		}
		if len(p.cfg.Schemas) > 0 && !slices.Contains(p.cfg.Schemas, c.Schema) {
			continue
		}
		t := tableRef{c.Schema, c.Table}
		if !seen[t] {
			seen[t] = true
			tables = append(tables, t)
		}
		if p.cat.Sensitive(c.Schema+"."+c.Table, c.Column) {
			byTable[t] = append(byTable[t], c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("listing columns: %w", err)
	}
	var out []ColumnResult
	for _, t := range tables {
		cols := byTable[t]
		if len(cols) == 0 {
			continue
		}
		if p.cfg.SampleRows > 0 {
			p.sampleTable(ctx, conn, q, t, cols)
		}
		out = append(out, cols...)
	}
	return out, tables, nil
}

// sampleTable reads at most SampleRows rows of the sensitive columns of t
// and fills the class counts and verdicts of cols. The values live only in
// the scan buffers of this function.
func (p *Prober) sampleTable(ctx context.Context, conn *pgx.Conn, q Queries, t tableRef, cols []ColumnResult) {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = selectExpr(c.Column, c.DataType)
	}
	counts := make([]map[string]int, len(cols))
	nulls := make([]int, len(cols))
	sampled := 0
	run := func(asOf string) error {
		clear(nulls)
		sampled = 0
		for i := range counts {
			counts[i] = map[string]int{}
		}
		sql := sampleQuery(t.schema, t.table, exprs, asOf, p.cfg.SampleRows)
		return p.readOnly(ctx, conn, q, func(db querier) error {
			rows, err := db.Query(ctx, sql)
			if err != nil {
				return err
			}
			defer rows.Close()
			bufs := make([][]byte, len(cols))
			dest := make([]any, len(cols))
			for i := range bufs {
				dest[i] = &bufs[i]
			}
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				sampled++
				for i, v := range bufs {
					if v == nil {
						nulls[i]++
						continue
					}
					counts[i][string(p.classifyValue(v, isBinaryType(cols[i].DataType)))]++
					clear(v) // the value is not needed any more
				}
			}
			return rows.Err()
		})
	}
	var err error
	if len(q.AsOf) == 0 {
		err = run("")
	}
	for _, asOf := range q.AsOf {
		if err = run(asOf); err == nil {
			break
		}
	}
	for i := range cols {
		if err != nil {
			cols[i].Verdict, cols[i].Error = VerdictError, err.Error()
			continue
		}
		cols[i].Sampled, cols[i].Nulls, cols[i].Classes = sampled, nulls[i], counts[i]
		cols[i].Verdict = verdict(counts[i])
	}
}

// readOnly runs fn in a READ ONLY transaction with the statement timeout
// (PostgreSQL), or directly with the session read-only (CockroachDB, whose
// AS OF SYSTEM TIME reads are read-only and may not run inside a
// transaction begun without it).
func (p *Prober) readOnly(ctx context.Context, conn *pgx.Conn, q Queries, fn func(querier) error) error {
	if q.ReadOnlyTx {
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '"+strconv.FormatInt(p.cfg.StatementTimeout.Milliseconds(), 10)+"ms'"); err != nil {
			return err
		}
		return fn(tx)
	}
	return fn(conn)
}

// querier is what a sample needs: *pgx.Conn and pgx.Tx both are one.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// classifyValue classifies one sampled value with the detectors'
// recognizers. Binary values are ciphertext when their hex form is (high
// entropy, not printable); otherwise their bytes are classified as text.
func (p *Prober) classifyValue(v []byte, binary bool) classify.Class {
	if binary {
		if len(v) == 0 {
			return classify.ClassEmpty
		}
		if p.cls.Value([]byte(hex.EncodeToString(v))) == classify.ClassCiphertext {
			return classify.ClassCiphertext
		}
		// 16 random bytes in hex can look like a UUID (text); base64 cannot.
		if len(v) == 16 && p.cls.Value([]byte(base64.StdEncoding.EncodeToString(v))) == classify.ClassCiphertext {
			return classify.ClassCiphertext
		}
	}
	for _, pre := range hashPrefixes {
		if len(v) > len(pre)+16 && strings.HasPrefix(string(v[:len(pre)]), pre) {
			return classHash
		}
	}
	return p.cls.Value(v)
}

// verdict judges a column from its class counts.
func verdict(counts map[string]int) string {
	plain, cipher, hashed := 0, 0, 0
	for cl, n := range counts {
		switch c := classify.Class(cl); {
		case c == classify.ClassEmpty || c == classify.ClassRedacted:
		case c == classHash:
			hashed += n
		case classify.IsCiphertext(c):
			cipher += n
		default:
			plain += n
		}
	}
	switch {
	case plain > 0:
		return VerdictPlaintext
	case cipher > 0:
		return VerdictEncrypted
	case hashed > 0:
		return VerdictHashed
	}
	return VerdictEmpty
}

// classSummary renders counts as "pan: 25, ssn: 100" in class order.
func classSummary(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}
