package posture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"roachwatch/pipeline/secret"
)

// Endpoint is one server to probe (config probe.endpoints[]): every node
// and the load balancer of a cluster are separate endpoints. The password
// is never in the config file: it comes from the environment variable
// PasswordEnv or the file PasswordFile.
type Endpoint struct {
	Name         string `mapstructure:"name"`
	Host         string `mapstructure:"host"`
	Port         int    `mapstructure:"port"`
	Database     string `mapstructure:"database"`
	User         string `mapstructure:"user"`
	PasswordEnv  string `mapstructure:"password_env"`
	PasswordFile string `mapstructure:"password_file"`
	SSLRootCert  string `mapstructure:"sslrootcert"` // CA bundle for verify-full; "" = system roots
	SSLCert      string `mapstructure:"sslcert"`     // client certificate (optional)
	SSLKey       string `mapstructure:"sslkey"`
}

// Config is the probe section.
type Config struct {
	Endpoints          []Endpoint    `mapstructure:"endpoints"`
	AppRoles           []string      `mapstructure:"app_roles"`             // application roles whose grants are checked
	PowerfulRoles      []string      `mapstructure:"powerful_roles"`        // membership of these is critical
	AuditTables        []string      `mapstructure:"audit_tables"`          // globs over table names (schema.table or bare)
	Schemas            []string      `mapstructure:"schemas"`               // schemas to inspect; empty = every non-system schema
	CertExpiryWarnDays int           `mapstructure:"cert_expiry_warn_days"` // a valid certificate expiring sooner is a finding
	SampleRows         int           `mapstructure:"sample_rows"`           // rows sampled per table with sensitive columns
	StatementTimeout   time.Duration `mapstructure:"statement_timeout"`     // per catalog query and sample
	ConnectTimeout     time.Duration `mapstructure:"connect_timeout"`       // per connection attempt
	CatalogFile        string        `mapstructure:"catalog_file"`          // where the schema results are written; "" = not written
}

// DefaultConfig is the documented default.
func DefaultConfig() Config {
	return Config{
		Endpoints:          []Endpoint{},
		AppRoles:           []string{},
		PowerfulRoles:      []string{"admin", "pg_write_all_data", "pg_read_all_data", "pg_execute_server_program", "pg_write_server_files", "pg_read_server_files"},
		AuditTables:        []string{"*audit*", "django_admin_log", "*_log", "*_history"},
		Schemas:            []string{},
		CertExpiryWarnDays: 30,
		SampleRows:         100,
		StatementTimeout:   5 * time.Second,
		ConnectTimeout:     10 * time.Second,
		CatalogFile:        "catalog.probe.json",
	}
}

// Validate reports every invalid key, naming it as probe.<key>.
func (c Config) Validate() error {
	var errs []error
	names := map[string]bool{}
	for i, e := range c.Endpoints {
		key := fmt.Sprintf("probe.endpoints[%d]", i)
		if e.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required (it names the endpoint in findings)", key))
		} else if names[e.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", key, e.Name))
		}
		names[e.Name] = true
		if e.Host == "" {
			errs = append(errs, fmt.Errorf("%s.host: required", key))
		}
		if e.Port < 1 || e.Port > 65535 {
			errs = append(errs, fmt.Errorf("%s.port: must be 1-65535, got %d", key, e.Port))
		}
		if e.User == "" {
			errs = append(errs, fmt.Errorf("%s.user: required (the probe's own least-privilege role)", key))
		}
		if e.PasswordEnv != "" && e.PasswordFile != "" {
			errs = append(errs, fmt.Errorf("%s.password_file: set password_env or password_file, not both", key))
		}
		if (e.SSLCert == "") != (e.SSLKey == "") {
			errs = append(errs, fmt.Errorf("%s.sslkey: sslcert and sslkey go together", key))
		}
	}
	for _, g := range c.AuditTables {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("probe.audit_tables: %q is not a valid glob (%v)", g, err))
		}
	}
	if c.CertExpiryWarnDays < 0 {
		errs = append(errs, fmt.Errorf("probe.cert_expiry_warn_days: must be 0 or more (default 30), got %d", c.CertExpiryWarnDays))
	}
	if c.SampleRows < 0 || c.SampleRows > 100_000 {
		errs = append(errs, fmt.Errorf("probe.sample_rows: must be 0-100000 (0 disables sampling; default 100), got %d", c.SampleRows))
	}
	if c.StatementTimeout <= 0 {
		errs = append(errs, fmt.Errorf("probe.statement_timeout: must be positive (default 5s), got %s", c.StatementTimeout))
	}
	if c.ConnectTimeout <= 0 {
		errs = append(errs, fmt.Errorf("probe.connect_timeout: must be positive (default 10s), got %s", c.ConnectTimeout))
	}
	return errors.Join(errs...)
}

// Target is a resolved endpoint: a libpq connection string without sslmode
// (the probe sets it per check) and the password kept apart so it never
// reaches a message.
type Target struct {
	Name          string
	Address       string // host:port, for findings
	DSN           string // never printed: --dsn strings may hold a password
	Password      secret.String
	HasClientCert bool
}

// Targets resolves the configured endpoints, reading their passwords.
func (c Config) Targets() ([]Target, error) {
	out := make([]Target, 0, len(c.Endpoints))
	for _, e := range c.Endpoints {
		pw, err := e.password()
		if err != nil {
			return nil, fmt.Errorf("probe endpoint %s: %w", e.Name, err)
		}
		parts := []string{kvPair("host", e.Host), kvPair("port", strconv.Itoa(e.Port)), kvPair("user", e.User)}
		if e.Database != "" {
			parts = append(parts, kvPair("dbname", e.Database))
		}
		for k, v := range map[string]string{"sslrootcert": e.SSLRootCert, "sslcert": e.SSLCert, "sslkey": e.SSLKey} {
			if v != "" {
				parts = append(parts, kvPair(k, v))
			}
		}
		out = append(out, Target{Name: e.Name, Address: net.JoinHostPort(e.Host, strconv.Itoa(e.Port)),
			DSN: strings.Join(parts, " "), Password: pw, HasClientCert: e.SSLCert != ""})
	}
	return out, nil
}

// kvPair renders one libpq keyword=value pair, quoting the value.
func kvPair(k, v string) string {
	return k + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func (e Endpoint) password() (secret.String, error) {
	switch {
	case e.PasswordEnv != "":
		v, ok := os.LookupEnv(e.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("password_env: environment variable %s is not set", e.PasswordEnv)
		}
		return secret.String(v), nil
	case e.PasswordFile != "":
		b, err := os.ReadFile(e.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("password_file: %w", err)
		}
		return secret.String(strings.TrimRight(string(b), "\r\n")), nil
	}
	return "", nil
}
