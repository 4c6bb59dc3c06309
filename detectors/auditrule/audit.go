// Package auditrule holds RW-AUDIT-001: audit tampering — audit logging
// switched off on tables, logging cluster settings disabled, HBA loosened,
// and log streams that fall silent while the rest of the cluster logs on.
package auditrule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/detectors/internal/stmtdedup"
	"roachwatch/pipeline/event"
)

// Rule001 is RW-AUDIT-001.
var Rule001 = detectors.Rule{
	ID:       "RW-AUDIT-001",
	Title:    "Audit logging tampered with",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-778", "CWE-223", "CWE-284"},
	OWASP:    []string{"A09:2021-Security Logging and Monitoring Failures"},
	MITRE:    []string{"T1562.008", "T1562.001", "T1070"},
	PCI:      []string{"10.2.1", "10.2.1.6", "10.3.2", "8.3.1"},
	Explanation: "Someone reduced what CockroachDB records about itself: table auditing turned off with ALTER TABLE ... " +
		"EXPERIMENTAL_AUDIT SET OFF (critical on a sensitive table), the authentication, session, statement, admin or event log " +
		"switched off through SET CLUSTER SETTING, sql.log.user_audit emptied, or server.host_based_authentication.configuration " +
		"loosened to accept connections without TLS (hostnossl) or without a password (trust). Attackers do this right before " +
		"reading or changing data so that the access leaves no trace. A log stream (node, channel, event type) that was emitting " +
		"steadily and falls silent while the rest of the cluster keeps logging is reported too, joined to the change that caused it " +
		"when one precedes it. Turning logging back on is not reported.",
	Remediation: "Turn the logging back on at once (ALTER TABLE patients EXPERIMENTAL_AUDIT SET READ WRITE; " +
		"SET CLUSTER SETTING server.auth_log.sql_sessions.enabled = true; restore the previous HBA configuration, e.g. " +
		"'hostssl all all all cert-password'), then review what the principal and every session did during the gap with the " +
		"investigation query. Restrict MODIFYCLUSTERSETTING and admin to named operators, keep the Django app's database role " +
		"without them, ship CockroachDB logs to a store the database principals cannot write, and alert on the gap itself.",
}

// Config tunes RW-AUDIT-001 (section detectors.audit).
type Config struct {
	Window             time.Duration `mapstructure:"window"`               // tamper changes by one principal are one incident per window
	SensitiveTables    []string      `mapstructure:"sensitive_tables"`     // audit off on these tables is critical
	LoggingSettings    []string      `mapstructure:"logging_settings"`     // boolean settings whose false is high
	LowSettings        []string      `mapstructure:"low_settings"`         // boolean settings whose false is low
	SilenceAfter       time.Duration `mapstructure:"silence_after"`        // a steady stream silent this long is reported
	SteadyMinutes      int           `mapstructure:"steady_minutes"`       // a stream is steady when it logged in this many of the 64 minutes before its last event
	ClusterActiveRatio float64       `mapstructure:"cluster_active_ratio"` // share of the gap's minutes the rest of the cluster logged in
	MaxStreams         int           `mapstructure:"max_streams"`          // node × channel × type streams tracked (oldest dropped)
	MaxRecent          int           `mapstructure:"max_recent"`           // statements remembered to count copies once
}

// DefaultConfig is the documented default.
func DefaultConfig() Config {
	return Config{
		Window:          time.Hour,
		SensitiveTables: []string{"patients", "customers", "accounts"},
		LoggingSettings: []string{"server.auth_log.sql_connections.enabled", "server.auth_log.sql_sessions.enabled",
			"sql.log.all_statements.enabled", "sql.trace.log_statement_execute", "sql.log.admin_audit.enabled", "server.eventlog.enabled"},
		LowSettings:        []string{"sql.log.redact_names.enabled", "sql.telemetry.query_sampling.enabled"},
		SilenceAfter:       10 * time.Minute,
		SteadyMinutes:      48,
		ClusterActiveRatio: 0.5,
		MaxStreams:         1024,
		MaxRecent:          4096,
	}
}

// Validate checks the config; every error names its key and the fix.
func (c Config) Validate() error {
	var errs []error
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("detectors.audit.window: must be a positive duration such as 1h, got %s", c.Window))
	}
	if c.SilenceAfter < time.Minute {
		errs = append(errs, fmt.Errorf("detectors.audit.silence_after: must be at least 1m (silence is checked once a minute of event time), got %s", c.SilenceAfter))
	}
	if c.SteadyMinutes < 2 || c.SteadyMinutes > 64 {
		errs = append(errs, fmt.Errorf("detectors.audit.steady_minutes: must be between 2 and 64 (minutes of the last 64 with events), got %d", c.SteadyMinutes))
	}
	if c.ClusterActiveRatio <= 0 || c.ClusterActiveRatio > 1 {
		errs = append(errs, fmt.Errorf("detectors.audit.cluster_active_ratio: must be in (0, 1], got %g", c.ClusterActiveRatio))
	}
	if c.MaxStreams < 8 {
		errs = append(errs, fmt.Errorf("detectors.audit.max_streams: must be at least 8, got %d", c.MaxStreams))
	}
	if c.MaxRecent < 16 {
		errs = append(errs, fmt.Errorf("detectors.audit.max_recent: must be at least 16, got %d", c.MaxRecent))
	}
	return errors.Join(errs...)
}

// Detector implements RW-AUDIT-001 (see silence.go for streams).
type Detector struct {
	cfg      Config
	window   int64
	logging  map[string]bool
	low      map[string]bool
	tables   []string
	recent   *stmtdedup.Set
	tampers  [maxTampers]tamper // ring of the latest tamper incidents, for joining silences
	nTamper  int
	hba      map[string]string // last HBA configuration seen per cluster
	streams  map[streamKey]*stream
	activity activity
	maxTime  int64
	nextScan int64
}

// New returns the detector; cfg must be valid.
func New(cfg Config) *Detector {
	d := &Detector{cfg: cfg, window: int64(cfg.Window), logging: map[string]bool{}, low: map[string]bool{},
		recent: stmtdedup.New(cfg.MaxRecent), hba: map[string]string{}, streams: map[streamKey]*stream{}}
	for _, s := range cfg.LoggingSettings {
		d.logging[strings.ToLower(s)] = true
	}
	for _, s := range cfg.LowSettings {
		d.low[strings.ToLower(s)] = true
	}
	for _, t := range cfg.SensitiveTables {
		d.tables = append(d.tables, strings.ToLower(t))
	}
	return d
}

// Rules lists RW-AUDIT-001.
func (d *Detector) Rules() []detectors.Rule { return []detectors.Rule{Rule001} }

// Observe reports tamper changes and, as event time advances, silences.
func (d *Detector) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Source != event.SourceCRDB {
		return out
	}
	out = d.track(ev, out)
	if !ev.Internal {
		if c, ok := d.tamperOf(ev); ok && d.recent.Add(stmtdedup.Key{User: ev.User, Minute: ev.Time / int64(time.Minute), Sig: c.signature}) {
			out = append(out, d.tamperFinding(ev, &c))
		}
	}
	if ev.Time > d.maxTime {
		d.maxTime = ev.Time
		if d.maxTime >= d.nextScan {
			out = d.scan(d.maxTime, out)
			d.nextScan = d.maxTime + int64(time.Minute)
		}
	}
	return out
}

// Finish reports silences still open at the end of input. Only event time
// counts: a stream is silent up to the last event of the cluster, never up
// to a later lastTime, so a log that simply ends raises nothing.
func (d *Detector) Finish(lastTime int64, out []detectors.Finding) []detectors.Finding {
	return d.scan(d.maxTime, out)
}
