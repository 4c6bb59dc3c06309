package clickhousesink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"roachwatch/schemas"
)

// ErrUnknownQuery is returned by Query for a name that is not in the pack.
var ErrUnknownQuery = errors.New("clickhousesink: unknown query")

// ErrBadParameter is returned by Query for an unknown or missing
// parameter, or a time range that ends before it starts.
var ErrBadParameter = errors.New("clickhousesink: bad query parameter")

// Param is a parameter of an analyst query, declared in its header as
//
//	-- @param NAME TYPE [= DEFAULT]: DESCRIPTION
//
// and used in the SQL as {NAME:TYPE} (a ClickHouse query parameter).
type Param struct {
	Name        string
	Type        string
	Default     string
	HasDefault  bool
	Description string
}

// AnalystQuery is one file of schemas/clickhouse/queries.
type AnalystQuery struct {
	Name     string  // file name without .sql
	Question string  // the header comment above the parameters
	Params   []Param // since and until are always first
	SQL      string  // template ({{db}})
}

var paramLine = regexp.MustCompile(`^--\s*@param\s+([a-z_][a-z0-9_]*)\s+([A-Za-z0-9(), ]+?)(?:\s*=\s*([^:]*?))?\s*:\s*(.*)$`)

// Queries returns the embedded analyst query pack, sorted by name.
func Queries() ([]AnalystQuery, error) {
	return loadQueries(schemas.ClickHouse, schemas.ClickHouseQueries)
}

func loadQueries(fsys fs.FS, dir string) ([]AnalystQuery, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading queries %s: %w", dir, err)
	}
	var out []AnalystQuery
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		q, err := parseQuery(strings.TrimSuffix(e.Name(), ".sql"), string(b))
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", e.Name(), err)
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// parseQuery reads the header comment and checks that every declared
// parameter is used, every used parameter declared, and since/until exist.
func parseQuery(name, text string) (AnalystQuery, error) {
	q := AnalystQuery{Name: name}
	var question []string
	lines := strings.Split(text, "\n")
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "--"); i++ {
		if m := paramLine.FindStringSubmatch(lines[i]); m != nil {
			p := Param{Name: m[1], Type: strings.TrimSpace(m[2]), Description: m[4]}
			if m[3] != "" {
				p.HasDefault, p.Default = true, strings.Trim(strings.TrimSpace(m[3]), "'")
			}
			q.Params = append(q.Params, p)
			continue
		}
		if strings.Contains(lines[i], "@param") {
			return q, fmt.Errorf("malformed parameter line %q: want -- @param NAME TYPE [= DEFAULT]: DESCRIPTION", lines[i])
		}
		question = append(question, strings.TrimSpace(strings.TrimPrefix(lines[i], "--")))
	}
	q.Question = strings.Join(question, " ")
	q.SQL = strings.TrimRight(strings.TrimSpace(strings.Join(lines[i:], "\n")), ";")
	if q.Question == "" {
		return q, errors.New("the header comment must say what question the query answers")
	}
	declared := map[string]string{}
	for _, p := range q.Params {
		declared[p.Name] = p.Type
	}
	if declared["since"] != "DateTime64(9)" || declared["until"] != "DateTime64(9)" {
		return q, errors.New("every query declares since and until as DateTime64(9)")
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{([a-z_][a-z0-9_]*):([^}]+)\}`).FindAllStringSubmatch(q.SQL, -1) {
		if declared[m[1]] == "" {
			return q, fmt.Errorf("{%s:%s} is used but not declared with -- @param", m[1], m[2])
		}
		if declared[m[1]] != m[2] {
			return q, fmt.Errorf("{%s:%s} does not match its declared type %s", m[1], m[2], declared[m[1]])
		}
		used[m[1]] = true
	}
	for _, p := range q.Params {
		if !used[p.Name] {
			return q, fmt.Errorf("parameter %s is declared but not used", p.Name)
		}
	}
	return q, nil
}

// Table is the result of an analyst query: column names and types, and
// rows of typed Go values (time.Time, string, []string, uint64, ...).
type Table struct {
	Columns []string
	Types   []string
	Rows    [][]any
}

// timeParam renders t as a DateTime64(9) query parameter (UTC).
func timeParam(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000000") }

func withParams(ctx context.Context, params map[string]string) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters(params)))
}

// Query runs the analyst query name over [since, until) with params (the
// query's other parameters; missing ones take their declared defaults).
// Unknown names and parameters are errors that say what exists.
func (s *Store) Query(ctx context.Context, name string, since, until time.Time, params map[string]string) (*Table, error) {
	qs, err := Queries()
	if err != nil {
		return nil, err
	}
	i := queryIndex(qs, name)
	if i < 0 {
		var names []string
		for _, q := range qs {
			names = append(names, q.Name)
		}
		return nil, fmt.Errorf("%w %q; the pack has: %s", ErrUnknownQuery, name, strings.Join(names, ", "))
	}
	q := qs[i]
	if !until.After(since) {
		return nil, fmt.Errorf("%w: query %s: until (%s) must be after since (%s)", ErrBadParameter, name, until.UTC().Format(time.RFC3339), since.UTC().Format(time.RFC3339))
	}
	values := map[string]string{"since": timeParam(since), "until": timeParam(until)}
	for k := range params {
		if k == "since" || k == "until" || !hasParam(q, k) {
			return nil, fmt.Errorf("%w: query %s: unknown parameter %q (it takes: %s)", ErrBadParameter, name, k, paramNames(q))
		}
	}
	for _, p := range q.Params {
		if p.Name == "since" || p.Name == "until" {
			continue
		}
		v, ok := params[p.Name]
		if !ok {
			if !p.HasDefault {
				return nil, fmt.Errorf("%w: query %s: parameter %s (%s) is required: %s", ErrBadParameter, name, p.Name, p.Type, p.Description)
			}
			v = p.Default
		}
		values[p.Name] = v
	}
	sql, err := render(q.SQL, s.vars)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	var t *Table
	err = s.retry(ctx, "query "+name, func(ctx context.Context) error {
		t, err = s.runTable(withParams(ctx, values), sql)
		return err
	})
	return t, err
}

// runTable runs sql and reads every row into typed values.
func (s *Store) runTable(ctx context.Context, sql string) (*Table, error) {
	rows, err := s.conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &Table{}
	cts := rows.ColumnTypes()
	for _, ct := range cts {
		t.Columns = append(t.Columns, ct.Name())
		t.Types = append(t.Types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		ptrs := make([]any, len(cts))
		for i, ct := range cts {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(cts))
		for i, p := range ptrs {
			row[i] = reflect.ValueOf(p).Elem().Interface()
		}
		t.Rows = append(t.Rows, row)
	}
	return t, rows.Err()
}

func queryIndex(qs []AnalystQuery, name string) int {
	for i, q := range qs {
		if q.Name == name {
			return i
		}
	}
	return -1
}

func hasParam(q AnalystQuery, name string) bool {
	for _, p := range q.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

func paramNames(q AnalystQuery) string {
	var out []string
	for _, p := range q.Params {
		if p.Name != "since" && p.Name != "until" {
			out = append(out, p.Name)
		}
	}
	if len(out) == 0 {
		return "only --since/--until"
	}
	return strings.Join(out, ", ")
}
