package posture

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/classify"
	"roachwatch/pipeline/secret"
)

// Result is everything the probe learned about one endpoint. It holds no
// sampled value and no password.
type Result struct {
	Endpoint      string            `json:"endpoint"`
	Address       string            `json:"address"`
	ProbedAt      time.Time         `json:"probed_at"`
	Flavor        Flavor            `json:"flavor,omitempty"`
	ServerVersion string            `json:"server_version,omitempty"`
	User          string            `json:"user,omitempty"`
	Database      string            `json:"database,omitempty"` // current_database() (the DSN's until connected)
	Transport     TransportResult   `json:"transport"`
	Settings      map[string]string `json:"settings,omitempty"`
	Columns       []ColumnResult    `json:"columns,omitempty"`
	Roles         []RoleResult      `json:"roles,omitempty"`
	Notes         []string          `json:"notes,omitempty"` // checks skipped or failed, and why

	passwordUsed bool // the target authenticates with a password
}

// Prober runs the posture checks. Safe for sequential use; Probe may be
// called for several targets one after the other.
type Prober struct {
	cfg Config
	cat *catalog.Catalog
	cls *classify.Classifier
	log *slog.Logger
	now func() time.Time
}

// New returns a prober. cat decides which columns are sensitive (nil = the
// default catalog); cls classifies sampled values (nil = no national-id
// patterns); log receives start/stop lines only.
func New(cfg Config, cat *catalog.Catalog, cls *classify.Classifier, log *slog.Logger) *Prober {
	if cat == nil {
		cat = catalog.New(catalog.Config{})
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Prober{cfg: cfg, cat: cat, cls: cls, log: log.With("component", "probe"), now: time.Now}
}

// TargetFromDSN builds an ad-hoc target from a libpq connection string or
// URL (--dsn). The name is the host:port; sslmode in the string is
// overridden by each check.
func TargetFromDSN(dsn string) (Target, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password in its parse errors.
		return Target{}, fmt.Errorf("--dsn: %w", err)
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	hasCert := cfg.TLSConfig != nil && len(cfg.TLSConfig.Certificates) > 0
	return Target{Name: addr, Address: addr, DSN: dsn, Password: secret.String(cfg.Password), HasClientCert: hasCert}, nil
}

// Probe runs every check against t. Failures of single checks become
// notes; Probe itself does not fail.
func (p *Prober) Probe(ctx context.Context, t Target) *Result {
	start := p.now()
	r := &Result{Endpoint: t.Name, Address: t.Address, ProbedAt: start.UTC(), passwordUsed: t.Password != ""}
	if cfg, err := pgx.ParseConfig(t.DSN); err == nil {
		r.User, r.Database = cfg.User, cfg.Database
	}
	p.log.Info("probe started", "endpoint", t.Name)
	conn := p.probeTransport(ctx, t, &r.Transport)
	if conn == nil {
		r.Notes = append(r.Notes, "schema and grant checks skipped: no verified (verify-full) connection")
		p.log.Info("probe finished", "endpoint", t.Name, "connected", false)
		return r
	}
	defer conn.Close(ctx)
	p.probeServer(ctx, conn, r)
	p.log.Info("probe finished", "endpoint", t.Name, "connected", true, "columns", len(r.Columns),
		"elapsed", time.Since(start).Round(time.Millisecond))
	return r
}

// probeServer runs the checks that need the verified connection.
func (p *Prober) probeServer(ctx context.Context, conn *pgx.Conn, r *Result) {
	var version, database string
	if err := conn.QueryRow(ctx, "SELECT version(), current_database()").Scan(&version, &database); err != nil {
		r.Notes = append(r.Notes, "version(): "+err.Error())
		return
	}
	r.Database = database
	r.Flavor, r.ServerVersion = DetectFlavor(version)
	q := QueriesFor(r.Flavor)
	timeout := "'" + strconv.FormatInt(p.cfg.StatementTimeout.Milliseconds(), 10) + "ms'"
	for _, stmt := range []string{"SET statement_timeout = " + timeout, "SET default_transaction_read_only = on"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			r.Notes = append(r.Notes, "session setup: "+err.Error())
			return
		}
	}
	for name, stmt := range q.Settings {
		var v string
		if err := conn.QueryRow(ctx, stmt).Scan(&v); err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("setting %s not readable: %v", name, err))
			continue
		}
		if r.Settings == nil {
			r.Settings = map[string]string{}
		}
		r.Settings[name] = v
	}
	cols, _, err := p.probeSchema(ctx, conn, q)
	if err != nil {
		r.Notes = append(r.Notes, err.Error())
	}
	r.Columns = cols
	sensitive := map[tableRef]bool{}
	for _, c := range cols {
		sensitive[tableRef{c.Schema, c.Table}] = true
	}
	if len(p.cfg.AppRoles) == 0 {
		r.Notes = append(r.Notes, "grant checks skipped: probe.app_roles is empty")
		return
	}
	r.Roles = p.probeGrants(ctx, conn, q, sensitive)
}

// scrub removes the target's password from a message, in case a server
// or driver ever echoed it (pgx itself masks it).
func (p *Prober) scrub(msg string, t Target) string {
	if pw := t.Password.Reveal(); len(pw) >= 3 {
		msg = strings.ReplaceAll(msg, pw, "[redacted]")
	}
	return msg
}

// ProbeFile assembles the catalog enrichment from the results.
func ProbeFile(results []*Result, now time.Time) *catalog.ProbeFile {
	pf := &catalog.ProbeFile{GeneratedAt: now.UTC(), Endpoints: []string{}, Plaintext: []string{}, Encrypted: []string{},
		Hashed: []string{}, Columns: []catalog.ProbeColumn{}}
	seen := map[string]map[string]bool{}
	add := func(list *[]string, kind, col string) {
		if seen[kind] == nil {
			seen[kind] = map[string]bool{}
		}
		if !seen[kind][col] {
			seen[kind][col] = true
			*list = append(*list, col)
		}
	}
	for _, r := range results {
		pf.Endpoints = append(pf.Endpoints, r.Endpoint)
		for _, c := range r.Columns {
			q := c.Qualified()
			switch c.Verdict {
			case VerdictPlaintext:
				add(&pf.Plaintext, "p", q)
			case VerdictEncrypted:
				add(&pf.Encrypted, "e", q)
			case VerdictHashed:
				add(&pf.Hashed, "h", q)
			}
			pf.Columns = append(pf.Columns, catalog.ProbeColumn{Endpoint: r.Endpoint, Column: q, DataType: c.DataType,
				Verdict: c.Verdict, Sampled: c.Sampled, Nulls: c.Nulls, Classes: c.Classes})
		}
	}
	// A column plaintext on one endpoint is plaintext, whatever another says.
	enc := pf.Encrypted[:0]
	for _, c := range pf.Encrypted {
		if !seen["p"][c] {
			enc = append(enc, c)
		}
	}
	pf.Encrypted = enc
	return pf
}
