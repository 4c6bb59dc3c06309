// Package privrule holds RW-PRIV-001: privilege escalation through role
// grants, role options and object privileges on sensitive tables.
package privrule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/detectors/internal/stmtdedup"
	"roachwatch/pipeline/event"
)

// Rule001 is RW-PRIV-001.
var Rule001 = detectors.Rule{
	ID:       "RW-PRIV-001",
	Title:    "Privilege escalation",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-269", "CWE-250"},
	OWASP:    []string{"A01:2021-Broken Access Control"},
	MITRE:    []string{"T1098", "T1078.004"},
	PCI:      []string{"7.2.1", "7.2.2", "10.2.1.5"},
	Explanation: "A principal gained powerful privileges: membership of admin (or another configured powerful role), a role option " +
		"that lets it create roles or logins, change cluster settings or control jobs, or ALL/UPDATE/DELETE/SELECT on a sensitive " +
		"table or for every role through public. Application principals (the Django app's database users) should hold only the table " +
		"privileges the app needs; when an application principal receives such a privilege, or grants one, a compromised web " +
		"process can read or destroy every record and cover its tracks: the finding is critical. An operator granting a powerful " +
		"privilege to a non-application role is reported at medium severity so the change is reviewed. Revokes are not reported.",
	Remediation: "Revoke what was granted (REVOKE admin FROM web; ALTER ROLE web WITH NOCREATEROLE NOCREATELOGIN; " +
		"REVOKE ALL ON patients FROM public) and find who ran it with the investigation query. Give the Django app a dedicated role " +
		"with least privilege (GRANT SELECT, INSERT, UPDATE ON TABLE clinic.patients TO web; no DDL, no admin) and run migrations " +
		"with a separate migrator role whose credentials are not deployed to web servers. Keep membership of admin to named " +
		"operators, require change review for GRANT/ALTER ROLE, and list the application roles in detectors.priv.app_users.",
}

// Config tunes RW-PRIV-001 (section detectors.priv).
type Config struct {
	Window          time.Duration `mapstructure:"window"`           // grants by one principal are grouped per window
	AppUsers        []string      `mapstructure:"app_users"`        // application principals (Django and service DB users); may be empty
	Operators       []string      `mapstructure:"operators"`        // operator principals: their grants to non-app roles are medium
	PowerfulRoles   []string      `mapstructure:"powerful_roles"`   // roles whose grant to anyone is an escalation
	RoleOptions     []string      `mapstructure:"role_options"`     // role options that are an escalation in CREATE/ALTER ROLE
	SensitiveTables []string      `mapstructure:"sensitive_tables"` // table names (or db.schema.table) whose grants matter
	Privileges      []string      `mapstructure:"privileges"`       // object privileges that matter on sensitive tables and to public
	MaxRecent       int           `mapstructure:"max_recent"`       // statements remembered to count structured + SQL copies once
}

// DefaultConfig is the documented default.
func DefaultConfig() Config {
	return Config{
		Window:        time.Hour,
		AppUsers:      []string{"web", "billing_app", "reporting"},
		Operators:     []string{"root", "admin"},
		PowerfulRoles: []string{"admin"},
		RoleOptions: []string{"CREATEROLE", "CREATELOGIN", "CREATEDB", "CONTROLJOB", "MODIFYCLUSTERSETTING",
			"MODIFYSQLCLUSTERSETTING", "CONTROLCHANGEFEED", "VIEWCLUSTERSETTING", "REPLICATION", "BYPASSRLS"},
		SensitiveTables: []string{"patients", "customers", "accounts"},
		Privileges:      []string{"ALL", "UPDATE", "DELETE", "SELECT"},
		MaxRecent:       4096,
	}
}

// Validate checks the config; every error names its key and the fix.
func (c Config) Validate() error {
	var errs []error
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("detectors.priv.window: must be a positive duration such as 1h, got %s", c.Window))
	}
	if c.MaxRecent < 16 {
		errs = append(errs, fmt.Errorf("detectors.priv.max_recent: must be at least 16, got %d", c.MaxRecent))
	}
	if len(c.PowerfulRoles) == 0 {
		errs = append(errs, errors.New("detectors.priv.powerful_roles: list at least admin"))
	}
	for key, list := range map[string][]string{"app_users": c.AppUsers, "operators": c.Operators, "powerful_roles": c.PowerfulRoles,
		"role_options": c.RoleOptions, "sensitive_tables": c.SensitiveTables, "privileges": c.Privileges} {
		for _, s := range list {
			if strings.TrimSpace(s) == "" {
				errs = append(errs, fmt.Errorf("detectors.priv.%s: empty entry; remove it", key))
			}
		}
	}
	for _, o := range c.RoleOptions {
		if strings.HasPrefix(strings.ToUpper(o), "NO") {
			errs = append(errs, fmt.Errorf("detectors.priv.role_options: %q removes a privilege; list the granting form (e.g. CREATEROLE)", o))
		}
	}
	return errors.Join(errs...)
}

// Detector implements RW-PRIV-001. It reads the structured USER_ADMIN and
// PRIVILEGES events (grant_role, create_role, alter_role,
// change_*_privilege) and, when those channels are not collected, the
// statement fingerprints of SQL_EXEC / TELEMETRY events tagged GRANT,
// CREATE/ALTER ROLE or USER. One statement seen in several events counts
// once: changes are remembered by principal, minute and content (a ring
// of MaxRecent entries, the only state).
type Detector struct {
	cfg        Config
	window     int64
	apps, ops  set
	powerful   set
	options    set
	privileges set
	tables     []string
	recent     *stmtdedup.Set
}

type set map[string]bool

func lowerSet(list []string) set {
	s := set{}
	for _, v := range list {
		s[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return s
}

// New returns the detector; cfg must be valid.
func New(cfg Config) *Detector {
	d := &Detector{cfg: cfg, window: int64(cfg.Window), apps: lowerSet(cfg.AppUsers), ops: lowerSet(cfg.Operators),
		powerful: lowerSet(cfg.PowerfulRoles), options: lowerSet(cfg.RoleOptions), privileges: lowerSet(cfg.Privileges),
		recent: stmtdedup.New(cfg.MaxRecent)}
	for _, t := range cfg.SensitiveTables {
		d.tables = append(d.tables, strings.ToLower(strings.TrimSpace(t)))
	}
	return d
}

// Rules lists RW-PRIV-001.
func (d *Detector) Rules() []detectors.Rule { return []detectors.Rule{Rule001} }

// Observe reports escalating grants and role changes.
func (d *Detector) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Source != event.SourceCRDB || ev.Internal {
		return out
	}
	var c change
	switch ev.Type {
	case "grant_role":
		c = change{kind: kindRoleGrant, what: ev.Roles, targets: ev.Members}
	case "create_role", "alter_role":
		c = change{kind: kindRoleOption, what: ev.Options, targets: []string{ev.RoleName}}
		if len(c.what) == 0 {
			// Older versions carry no Options: read them from the statement.
			if p, ok := parseFingerprint(ev.Fingerprint); ok && p.kind == kindRoleOption {
				c.what = p.what
			}
		}
	case "change_table_privilege", "change_database_privilege", "change_schema_privilege", "change_type_privilege",
		"change_function_privilege":
		if len(ev.GrantedPrivileges) == 0 {
			return out // a revoke
		}
		c = change{kind: kindObjectGrant, what: ev.GrantedPrivileges, targets: []string{ev.Grantee}, object: ev.Object,
			table: ev.Type == "change_table_privilege"}
	default:
		if !fallbackTag(ev.StatementTag) || ev.Fingerprint == "" {
			return out
		}
		var ok bool
		if c, ok = parseFingerprint(ev.Fingerprint); !ok {
			return out
		}
		c.fallback = true
	}
	v, ok := d.judge(ev, &c)
	if !ok {
		return out
	}
	if !d.recent.Add(stmtdedup.Key{User: ev.User, Minute: ev.Time / int64(time.Minute), Sig: v.signature}) {
		return out // the same statement, already counted from another event
	}
	return append(out, d.finding(ev, &c, v))
}

// fallbackTag reports statement tags whose fingerprint may carry a grant.
func fallbackTag(tag string) bool {
	switch tag {
	case "GRANT", "CREATE ROLE", "CREATE USER", "ALTER ROLE", "ALTER USER":
		return true
	}
	return false
}
