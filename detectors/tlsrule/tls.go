// Package tlsrule holds RW-TLS-001: SQL sessions without TLS.
package tlsrule

import (
	"fmt"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// Rule001 is RW-TLS-001.
var Rule001 = detectors.Rule{
	ID:       "RW-TLS-001",
	Title:    "SQL session without TLS",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-319"},
	OWASP:    []string{"A02:2021-Cryptographic Failures"},
	MITRE:    []string{"T1040", "T1557"},
	PCI:      []string{"4.2.1"},
	Explanation: "CockroachDB authenticated a SQL session over a plaintext TCP connection (HBA connection type hostnossl). " +
		"Everything on that connection - the password or token used to log in, every statement, every row returned - " +
		"crosses the network in the clear and can be read or altered by anyone on the path (man-in-the-middle). " +
		"When the session also touches a column the catalog marks sensitive, that data was exposed: the finding is critical.",
	Remediation: "Make the Django app connect with TLS and verify the server: in settings.DATABASES set " +
		"'OPTIONS': {'sslmode': 'verify-full', 'sslrootcert': '/path/to/ca.crt'} (plus 'sslcert'/'sslkey' for client certificates). " +
		"On CockroachDB remove hostnossl and trust entries from server.host_based_authentication.configuration " +
		"(e.g. 'hostssl all all all cert-password'), and never start nodes with --accept-sql-without-tls or --insecure.",
}

// Config tunes RW-TLS-001.
type Config struct {
	Window    time.Duration `mapstructure:"window"`     // incidents are grouped per principal per window
	FlagLocal bool          `mapstructure:"flag_local"` // also flag unix-socket (local) sessions
}

// DefaultConfig is the documented default.
func DefaultConfig() Config { return Config{Window: 24 * time.Hour} }

// Validate checks the config.
func (c Config) Validate() error {
	if c.Window <= 0 {
		return fmt.Errorf("detectors.tls.window: must be positive, got %s", c.Window)
	}
	return nil
}

// Detector implements RW-TLS-001. Any event of a session whose transport
// is hostnossl is an occurrence: SESSIONS events carry the Transport field,
// every other event of the session carries it as a log tag. Events are
// grouped per user and client address per window; a session that touches
// a sensitive column (or an audited table) makes the incident critical.
type Detector struct {
	cfg    Config
	window int64
}

// New returns the detector. It is stateless: grouping is the engine's.
func New(cfg Config) *Detector { return &Detector{cfg: cfg, window: int64(cfg.Window)} }

// Rules lists RW-TLS-001.
func (d *Detector) Rules() []detectors.Rule { return []detectors.Rule{Rule001} }

// Observe reports an occurrence for every non-TLS client event.
func (d *Detector) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	switch ev.Transport {
	case event.TransportPlain:
	case event.TransportLocal:
		if !d.cfg.FlagLocal {
			return out
		}
	default:
		return out
	}
	if ev.Internal || ev.Source != event.SourceCRDB {
		return out
	}
	user, app := ev.User, ev.Application
	if user == "" {
		// Connection events before authentication (client_connection_*
		// carry no user tag) add nothing the authentication event of the
		// same session does not already say. Ignoring them also keeps the
		// rule per-principal: in the streaming mode such events are keyed
		// by client address, not by user, and land in another partition.
		return out
	}
	ws := detectors.WindowStart(ev.Time, d.window)
	f := detectors.Occurrence(Rule001, detectors.IncidentID(Rule001.ID, ws, ev.Cluster, user, ev.ClientAddr, ev.Transport), ev.Time, ev.ID)
	f.Principal = detectors.Principal{User: user, ClientAddr: ev.ClientAddr, Application: app}
	f.SessionID = ev.SessionID
	f.Cluster, f.Node = ev.Cluster, ev.Node
	f.Details = map[string]string{"transport": ev.Transport}
	sensitive := len(ev.SensitiveColumns) > 0 || ev.Type == "sensitive_table_access"
	what := "authenticated"
	if ev.AuthFailure != "" {
		what = "attempted to authenticate"
	}
	f.Summary = fmt.Sprintf("User %s from %s %s over %s: credentials and statements cross the network in the clear.",
		user, orUnknown(ev.ClientAddr), what, ev.Transport)
	if sensitive {
		f.Severity = detectors.SeverityCritical
		f.Title = "SQL session without TLS touched sensitive data"
		f.Columns = ev.SensitiveColumns
		if ev.Object != "" {
			f.Tables = []string{ev.Object}
		}
		cols := strings.Join(ev.SensitiveColumns, ", ")
		if cols == "" {
			cols = "audited table " + ev.Object
		}
		f.Summary = fmt.Sprintf("User %s from %s read or wrote %s over a %s connection: the values crossed the network in the clear.",
			user, orUnknown(ev.ClientAddr), cols, ev.Transport)
	}
	f.Query = query(ev.Transport, user, ev.ClientAddr, f.FirstSeen)
	return append(out, f)
}

func query(transport, user, client string, t time.Time) string {
	day := t.Truncate(24 * time.Hour)
	return "SELECT time, type, session_id, application, fingerprint, sensitive_columns, rows FROM roachwatch.events WHERE " +
		"transport = " + detectors.Quote(transport) + " AND user = " + detectors.Quote(user) +
		" AND client_addr = " + detectors.Quote(client) + " AND " + detectors.TimeRange(day, day.Add(24*time.Hour)) + " ORDER BY time"
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
