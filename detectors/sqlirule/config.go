// Package sqlirule holds RW-SQLI-001: SQL injection seen in statement
// fingerprints (tautologies, UNION probing, stacked statements, comment
// truncation, time-based and error-based probes, catalog probing by an
// application principal) and in bursts of syntax and undefined-object
// errors from one principal or client address.
//
// Signatures are structural: they run on Event.Fingerprint, where every
// literal is already "?", so they work the same on CockroachDB's
// re-rendered statements (comments gone, keywords upper-case, extra
// parentheses) and on Django's raw SQL lines. See Match.
package sqlirule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"roachwatch/detectors"
)

// Rule001 is RW-SQLI-001.
var Rule001 = detectors.Rule{
	ID:       "RW-SQLI-001",
	Title:    "SQL injection",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-89"},
	OWASP:    []string{"A03:2021-Injection"},
	MITRE:    []string{"T1190"},
	PCI:      []string{"6.2.4"},
	Explanation: "A statement from an application principal has a shape the ORM never produces: a tautology " +
		"(OR 1=1), a UNION SELECT of literals or NULLs counting columns, a second statement after ';', a comment " +
		"cutting off the rest of the query, a sleep used as a timing oracle, a conversion error used to leak a value, " +
		"or a read of the system catalogs; or the principal produced a burst of syntax and undefined-column/table errors " +
		"while someone probed the query's structure. User input reached the SQL text instead of being bound as a parameter. " +
		"The finding is critical when a UNION reads a sensitive column, or when the same principal (and session) " +
		"successfully reads a sensitive column soon after a signature.",
	Remediation: "Find the view named by the route/controller tags and stop building SQL with string formatting: use the " +
		"QuerySet API, or cursor.execute(sql, params) / Model.objects.raw(sql, params) / RawSQL(sql, params) with %s " +
		"placeholders, never f-strings, % or .format() into the SQL text (and no user input in .extra() or order_by() " +
		"without an allowlist). Give the app's database role least privilege: GRANT only SELECT/INSERT/UPDATE/DELETE on " +
		"its own tables, no admin role, no reads of system catalogs beyond what the driver needs, and run migrations as " +
		"a separate role. A WAF rule is not a fix. Rotate anything the injected queries could have read.",
}

// Config tunes RW-SQLI-001 (config section detectors.sqli).
type Config struct {
	Window              time.Duration `mapstructure:"window"`                // incidents are grouped per user and client address per window
	ErrorBurst          int           `mapstructure:"error_burst"`           // errors within error_window that make a burst
	ErrorWindow         time.Duration `mapstructure:"error_window"`          // sliding window of the error burst
	ErrorDistinctShapes int           `mapstructure:"error_distinct_shapes"` // distinct statement shapes a burst needs
	ErrorSQLStates      []string      `mapstructure:"error_sqlstates"`       // SQLSTATEs that count toward a burst
	AdminUsers          []string      `mapstructure:"admin_users"`           // principals exempt from the rule
	AdminApplications   []string      `mapstructure:"admin_applications"`    // application names exempt ("prefix*" allowed)
	AppUsers            []string      `mapstructure:"app_users"`             // always application principals, even if also admin
	AppApplications     []string      `mapstructure:"app_applications"`      // always application principals ("prefix*" allowed)
	CatalogAllow        []string      `mapstructure:"catalog_allow"`         // fingerprints of benign catalog reads by the app
	MaxKeys             int           `mapstructure:"max_keys"`              // cap on tracked principals/addresses (LRU)
}

// DefaultCatalogAllow are catalog reads drivers and Django itself make as
// the application user: type OID lookups (psycopg TypeInfo for hstore,
// citext) and the server version.
var DefaultCatalogAllow = []string{
	"select version()",
	"select oid, typarray from pg_type where typname = ?",
	"select t.oid, typarray from pg_type t join pg_namespace ns on typnamespace = ns.oid where typname = ?",
	"show server_version_num",
}

// DefaultConfig is the documented default.
func DefaultConfig() Config {
	return Config{
		Window:              time.Hour,
		ErrorBurst:          5,
		ErrorWindow:         time.Minute,
		ErrorDistinctShapes: 2,
		ErrorSQLStates:      []string{"42601", "42703", "42P01", "22P02", "42P10", "42883"},
		AdminUsers:          []string{"root", "node", "migrator"},
		AdminApplications:   []string{"$ cockroach sql", "django-migrate", "cockroach"},
		AppUsers:            []string{},
		AppApplications:     []string{},
		CatalogAllow:        append([]string(nil), DefaultCatalogAllow...),
		MaxKeys:             100_000,
	}
}

// maxSQLStates bounds error_sqlstates (counts are kept in a fixed array).
const maxSQLStates = 16

// maxErrorBurst bounds error_burst (each key keeps that many timestamps).
const maxErrorBurst = 1000

// Validate checks the config; every message names its key and the fix.
func (c Config) Validate() error {
	var errs []error
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("detectors.sqli.window: must be positive (e.g. 1h), got %s", c.Window))
	}
	if c.ErrorBurst < 2 || c.ErrorBurst > maxErrorBurst {
		errs = append(errs, fmt.Errorf("detectors.sqli.error_burst: must be in 2..%d (default 5), got %d", maxErrorBurst, c.ErrorBurst))
	}
	if c.ErrorWindow <= 0 {
		errs = append(errs, fmt.Errorf("detectors.sqli.error_window: must be positive (e.g. 1m), got %s", c.ErrorWindow))
	}
	if c.ErrorDistinctShapes < 1 || c.ErrorDistinctShapes > c.ErrorBurst {
		errs = append(errs, fmt.Errorf("detectors.sqli.error_distinct_shapes: must be in 1..error_burst (%d), got %d", c.ErrorBurst, c.ErrorDistinctShapes))
	}
	if len(c.ErrorSQLStates) > maxSQLStates {
		errs = append(errs, fmt.Errorf("detectors.sqli.error_sqlstates: at most %d codes, got %d", maxSQLStates, len(c.ErrorSQLStates)))
	}
	for _, st := range c.ErrorSQLStates {
		if !validSQLState(st) {
			errs = append(errs, fmt.Errorf("detectors.sqli.error_sqlstates: %q is not a 5-character SQLSTATE like 42601", st))
		}
	}
	if c.MaxKeys < 1 || c.MaxKeys > 10_000_000 {
		errs = append(errs, fmt.Errorf("detectors.sqli.max_keys: must be in 1..10000000 (default 100000), got %d", c.MaxKeys))
	}
	for key, list := range map[string][]string{"admin_users": c.AdminUsers, "app_users": c.AppUsers,
		"admin_applications": c.AdminApplications, "app_applications": c.AppApplications, "catalog_allow": c.CatalogAllow} {
		for _, v := range list {
			if strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("detectors.sqli.%s: empty entry; remove it", key))
			}
		}
	}
	return errors.Join(errs...)
}

func validSQLState(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < 5; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// nameSet matches exact names and "prefix*" patterns.
type nameSet struct {
	exact    map[string]bool
	prefixes []string
}

func newNameSet(list []string) nameSet {
	ns := nameSet{exact: make(map[string]bool, len(list))}
	for _, v := range list {
		if p, ok := strings.CutSuffix(v, "*"); ok {
			ns.prefixes = append(ns.prefixes, p)
		} else {
			ns.exact[v] = true
		}
	}
	return ns
}

func (ns nameSet) has(s string) bool {
	if ns.exact[s] {
		return true
	}
	for _, p := range ns.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
