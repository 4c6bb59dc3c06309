package posture

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// RoleResult is what the grant checks found for one application role.
type RoleResult struct {
	Role       string            `json:"role"`
	Exists     bool              `json:"exists"`
	Superuser  bool              `json:"superuser,omitempty"`
	CreateRole bool              `json:"createrole,omitempty"`
	CreateDB   bool              `json:"createdb,omitempty"`
	MemberOf   []string          `json:"member_of,omitempty"` // powerful roles only
	Tables     []TablePrivileges `json:"tables,omitempty"`    // audit-relevant and sensitive tables only
	Error      string            `json:"error,omitempty"`
}

// TablePrivileges are a role's privileges on one table of interest.
type TablePrivileges struct {
	Schema     string   `json:"schema"`
	Table      string   `json:"table"`
	Audit      bool     `json:"audit,omitempty"`     // matches probe.audit_tables
	Sensitive  bool     `json:"sensitive,omitempty"` // has a sensitive column
	Privileges []string `json:"privileges"`          // upper case; OWNER for ownership, ALL on CockroachDB
}

// pgTablePrivileges are PostgreSQL's table privileges: holding all of them
// is ALL PRIVILEGES.
var pgTablePrivileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}

// auditDestructive are the privileges that let a role erase audit rows.
var auditDestructive = []string{"ALL", "OWNER", "DROP", "DELETE", "TRUNCATE"}

// HasAll reports whether the privileges amount to ALL on the table.
func (t TablePrivileges) HasAll() bool {
	if slices.Contains(t.Privileges, "ALL") || slices.Contains(t.Privileges, "OWNER") {
		return true
	}
	for _, p := range pgTablePrivileges {
		if !slices.Contains(t.Privileges, p) {
			return false
		}
	}
	return true
}

// Destructive returns the privileges among auditDestructive the role holds.
func (t TablePrivileges) Destructive() []string {
	var out []string
	for _, p := range auditDestructive {
		if slices.Contains(t.Privileges, p) {
			out = append(out, p)
		}
	}
	return out
}

// isAuditTable matches schema.table and the bare table name against the
// audit_tables globs, case-insensitively.
func (p *Prober) isAuditTable(schema, table string) bool {
	q, bare := strings.ToLower(schema+"."+table), strings.ToLower(table)
	for _, g := range p.cfg.AuditTables {
		g = strings.ToLower(g)
		if m, _ := path.Match(g, bare); m {
			return true
		}
		if m, _ := path.Match(g, q); m {
			return true
		}
	}
	return false
}

// probeGrants reads the privileges of every configured application role.
// sensitive holds the tables with a sensitive column.
func (p *Prober) probeGrants(ctx context.Context, conn *pgx.Conn, q Queries, sensitive map[tableRef]bool) []RoleResult {
	out := make([]RoleResult, 0, len(p.cfg.AppRoles))
	for _, role := range p.cfg.AppRoles {
		r := RoleResult{Role: role}
		if err := p.probeRole(ctx, conn, q, sensitive, &r); err != nil {
			r.Error = err.Error()
		}
		out = append(out, r)
	}
	return out
}

func (p *Prober) probeRole(ctx context.Context, conn *pgx.Conn, q Queries, sensitive map[tableRef]bool, r *RoleResult) error {
	err := conn.QueryRow(ctx, q.RoleAttrs, r.Role).Scan(&r.Superuser, &r.CreateRole, &r.CreateDB)
	if err == pgx.ErrNoRows {
		return nil // no such role: nothing to report
	}
	if err != nil {
		return fmt.Errorf("role attributes: %w", err)
	}
	r.Exists = true
	rows, err := conn.Query(ctx, q.Memberships, r.Role, p.cfg.PowerfulRoles)
	if err != nil {
		return fmt.Errorf("role memberships: %w", err)
	}
	r.MemberOf, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("role memberships: %w", err)
	}
	sort.Strings(r.MemberOf)
	rows, err = conn.Query(ctx, q.TablePrivileges, r.Role)
	if err != nil {
		return fmt.Errorf("table privileges: %w", err)
	}
	byTable := map[tableRef]*TablePrivileges{}
	var order []tableRef
	var schema, table, priv string
	_, err = pgx.ForEachRow(rows, []any{&schema, &table, &priv}, func() error {
		t := tableRef{schema, table}
		audit, sens := p.isAuditTable(schema, table), sensitive[t]
		if !audit && !sens {
			return nil
		}
		tp, ok := byTable[t]
		if !ok {
			tp = &TablePrivileges{Schema: schema, Table: table, Audit: audit, Sensitive: sens}
			byTable[t] = tp
			order = append(order, t)
		}
		priv = strings.ToUpper(priv)
		if !slices.Contains(tp.Privileges, priv) {
			tp.Privileges = append(tp.Privileges, priv)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("table privileges: %w", err)
	}
	for _, t := range order {
		tp := byTable[t]
		sort.Strings(tp.Privileges)
		r.Tables = append(r.Tables, *tp)
	}
	return nil
}
