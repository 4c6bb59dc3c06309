package clickhousesink

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Migration is one embedded schemas/clickhouse/NNNN_name.sql file.
type Migration struct {
	Version  int    // NNNN
	Name     string // name, without version and extension
	File     string // base name, e.g. 0002_events.sql
	Template string // the file as embedded, with {{...}} placeholders
	Checksum string // SHA-256 of Template, hex
}

var migrationFile = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads the migrations in dir of fsys, ordered by version.
// Versions must run 1, 2, 3, ... without gaps or duplicates, so a file
// that was renamed or dropped is noticed before anything is applied.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql (4-digit version, lower-case name)", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: m[2], File: e.Name(), Template: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %04d (versions run 0001, 0002, ... without gaps or duplicates)", m.File, i+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return out, nil
}

// templateVars are what {{...}} placeholders render to.
type templateVars struct {
	Database   string
	Cluster    string
	Replicated bool
	TTLDays    int
}

func (c Config) templateVars() templateVars {
	return templateVars{Database: c.Database, Cluster: c.Cluster, Replicated: c.Replicated, TTLDays: c.TTLDays}
}

var (
	placeholder = regexp.MustCompile(`\{\{([a-z_]+)(?::([^}]*))?\}\}`)
	engineExpr  = regexp.MustCompile(`^([A-Za-z]*MergeTree)(?:\((.*)\))?$`)
)

// replicaPath is the Keeper path of Replicated tables; {shard} and
// {replica} are the server's macros, {database} and {table} expand at
// CREATE time.
const replicaPath = `'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'`

// render replaces the placeholders of a migration or query template:
//
//	{{db}}          the database
//	{{on_cluster}}  "" or ON CLUSTER <cluster>
//	{{engine:E}}    E, or Replicated<E> with the replica path first
//	{{ttl:expr}}    "" or TTL expr + INTERVAL <ttl_days> DAY
//
// Unknown placeholders are errors, so a typo cannot reach the server.
func render(tmpl string, v templateVars) (string, error) {
	var errs []string
	out := placeholder.ReplaceAllStringFunc(tmpl, func(s string) string {
		m := placeholder.FindStringSubmatch(s)
		name, arg := m[1], strings.TrimSpace(m[2])
		switch name {
		case "db":
			return v.Database
		case "on_cluster":
			if v.Cluster == "" {
				return ""
			}
			return "ON CLUSTER " + v.Cluster
		case "engine":
			e := engineExpr.FindStringSubmatch(arg)
			if e == nil {
				errs = append(errs, fmt.Sprintf("{{engine:%s}}: not a MergeTree engine", arg))
				return s
			}
			if !v.Replicated {
				return arg
			}
			if e[2] == "" {
				return "Replicated" + e[1] + "(" + replicaPath + ")"
			}
			return "Replicated" + e[1] + "(" + replicaPath + ", " + e[2] + ")"
		case "ttl":
			if arg == "" {
				errs = append(errs, "{{ttl:EXPR}} needs the time expression")
				return s
			}
			if v.TTLDays == 0 {
				return ""
			}
			return fmt.Sprintf("TTL %s + INTERVAL %d DAY", arg, v.TTLDays)
		}
		errs = append(errs, fmt.Sprintf("unknown placeholder %s", s))
		return s
	})
	if len(errs) > 0 {
		return "", fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// splitStatements splits SQL text into statements at semicolons outside
// quotes and comments. Statements holding nothing but comments are
// dropped; comments inside statements are kept (ClickHouse accepts them).
func splitStatements(sql string) []string {
	var out []string
	start, code := 0, false
	flush := func(end int) {
		if code {
			out = append(out, strings.TrimSpace(sql[start:end]))
		}
		start, code = end+1, false
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 3
			}
		case c == '\'' || c == '"' || c == '`':
			code = true
			for i++; i < len(sql) && sql[i] != c; i++ {
				if sql[i] == '\\' {
					i++
				}
			}
		case c == ';':
			flush(i)
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			code = true
		}
	}
	flush(len(sql))
	return out
}

// statements renders m for v and splits it into statements.
func (m Migration) statements(v templateVars) ([]string, error) {
	sql, err := render(m.Template, v)
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", m.File, err)
	}
	return splitStatements(sql), nil
}
