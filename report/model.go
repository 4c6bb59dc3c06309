package report

import (
	"time"

	"roachwatch/detectors"
)

// SchemaVersion is the version of the report's JSON form
// (schemas/report.schema.json). Adding a field keeps it; removing or
// changing the meaning of one bumps it.
const SchemaVersion = 1

// Report is one audit report. Its JSON form is public API, described by
// schemas/report.schema.json; the HTML and Markdown renderings show the
// same content.
type Report struct {
	SchemaVersion int             `json:"schema_version"`
	GeneratedAt   time.Time       `json:"generated_at"`
	Period        Period          `json:"period"`
	Previous      Period          `json:"previous_period"`
	DataSources   DataSources     `json:"data_sources"`
	Summary       Summary         `json:"summary"`
	FindingsByDay []DayCounts     `json:"findings_per_day"`
	TLS           TLSPosture      `json:"tls_posture"`
	Crypto        CryptoFailures  `json:"cryptographic_failures"`
	Groups        []FindingGroup  `json:"finding_groups"`
	Principals    []PrincipalRow  `json:"top_sensitive_principals"`
	Matrix        []MatrixRow     `json:"rule_severity_matrix"`
	Compliance    []ComplianceRow `json:"compliance"`
	Checklist     []ChecklistItem `json:"checklist"`
}

// Period is a closed time range [from, to] in UTC.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// DataSources says what the report was built from.
type DataSources struct {
	Findings    string `json:"findings"`     // "jsonl" or "clickhouse"
	SessionData bool   `json:"session_data"` // session (event) data was available
	TLSFrom     string `json:"tls_posture_from"`
	Note        string `json:"note"`
}

// SeverityCounts counts findings per severity.
type SeverityCounts struct {
	Critical int64 `json:"critical"`
	High     int64 `json:"high"`
	Medium   int64 `json:"medium"`
	Low      int64 `json:"low"`
	Info     int64 `json:"info"`
}

// Add counts one finding of severity s, n times.
func (c *SeverityCounts) Add(s detectors.Severity, n int64) {
	switch s {
	case detectors.SeverityCritical:
		c.Critical += n
	case detectors.SeverityHigh:
		c.High += n
	case detectors.SeverityMedium:
		c.Medium += n
	case detectors.SeverityLow:
		c.Low += n
	default:
		c.Info += n
	}
}

// Get returns the count of severity s.
func (c SeverityCounts) Get(s detectors.Severity) int64 {
	switch s {
	case detectors.SeverityCritical:
		return c.Critical
	case detectors.SeverityHigh:
		return c.High
	case detectors.SeverityMedium:
		return c.Medium
	case detectors.SeverityLow:
		return c.Low
	}
	return c.Info
}

// Total sums all severities.
func (c SeverityCounts) Total() int64 { return c.Critical + c.High + c.Medium + c.Low + c.Info }

// severities lists the severities most severe first, as reports show them.
var severities = []detectors.Severity{
	detectors.SeverityCritical, detectors.SeverityHigh, detectors.SeverityMedium, detectors.SeverityLow, detectors.SeverityInfo,
}

// Summary is the executive summary.
type Summary struct {
	Findings          int64          `json:"findings"`
	Occurrences       int64          `json:"occurrences"`
	PreviousFindings  int64          `json:"previous_findings"`
	Current           SeverityCounts `json:"current"`
	PreviousPeriod    SeverityCounts `json:"previous"`
	Trend             string         `json:"trend"` // up, down, flat
	RulesWithFindings int            `json:"rules_with_findings"`
	ChecklistNotDone  int            `json:"checklist_not_done"`
	Headline          string         `json:"headline"`
}

// DayCounts is the findings of one UTC day by severity.
type DayCounts struct {
	Day    string         `json:"day"`
	Counts SeverityCounts `json:"counts"`
}

// TLSPosture is the TLS section.
type TLSPosture struct {
	From           string       `json:"from"` // "events" or "findings"
	Note           string       `json:"note"`
	Sessions       int64        `json:"sessions"`
	TLSSessions    int64        `json:"tls_sessions"`
	NonTLSSessions int64        `json:"non_tls_sessions"`
	NonTLSShare    *float64     `json:"non_tls_share"` // null without session data
	ByUser         []ShareRow   `json:"by_user"`
	ByApplication  []ShareRow   `json:"by_application"`
	ByNetwork      []ShareRow   `json:"by_network"`
	Daily          []SessionDay `json:"daily"`
	NonTLS         []SessionRow `json:"non_tls"`
	NonTLSListed   int          `json:"non_tls_listed"`
	NonTLSTotal    int64        `json:"non_tls_total"`
}

// ShareRow is the non-TLS share of one user, application or network.
// Sessions and Share are set only with session data; from findings only
// NonTLS (occurrences of RW-TLS-001) is known.
type ShareRow struct {
	Key      string   `json:"key"`
	Sessions int64    `json:"sessions"`
	NonTLS   int64    `json:"non_tls"`
	Share    *float64 `json:"share"`
}

// SessionDay is one day of sessions by transport.
type SessionDay struct {
	Day    string `json:"day"`
	TLS    int64  `json:"tls"`
	NonTLS int64  `json:"non_tls"`
	Other  int64  `json:"other"` // local (unix socket) or transport not logged
}

// SessionRow is one non-TLS session (from events) or one RW-TLS-001
// incident (from findings; Count is its occurrences).
type SessionRow struct {
	Time        time.Time `json:"time"`
	SessionID   string    `json:"session_id"`
	User        string    `json:"user"`
	Application string    `json:"application"`
	ClientAddr  string    `json:"client_addr"`
	Transport   string    `json:"transport"`
	AuthMethod  string    `json:"auth_method"`
	Outcome     string    `json:"outcome"` // ok, failed, incident
	Count       int64     `json:"count"`
}

// CryptoFailures is the cryptographic failures section: what, where and
// how often - never a value.
type CryptoFailures struct {
	Columns []ColumnRow `json:"columns"`
	Secrets []SecretRow `json:"secrets_in_logs"`
}

// ColumnRow is one sensitive column used in plaintext by one rule.
type ColumnRow struct {
	Column      string   `json:"column"`
	RuleID      string   `json:"rule_id"`
	Access      string   `json:"access"`
	Findings    int64    `json:"findings"`
	Occurrences int64    `json:"occurrences"`
	Classes     []string `json:"value_classes"`
	Principals  []string `json:"principals"`
}

// SecretRow counts one type of secret or personal value found in logs.
type SecretRow struct {
	Type        string `json:"type"`
	Field       string `json:"field"` // where in the line: statement, params, message, ...
	Findings    int64  `json:"findings"`
	Occurrences int64  `json:"occurrences"`
}

// FindingGroup lists the findings of some rule families.
type FindingGroup struct {
	ID       string       `json:"id"`
	Title    string       `json:"title"`
	Rules    string       `json:"rules"` // the rule id prefixes it covers
	Total    int          `json:"total"` // findings in the period; at most MaxListedFindings are listed
	Findings []FindingRow `json:"findings"`
}

// FindingRow is one finding as the report lists it.
type FindingRow struct {
	ID          string    `json:"id"`
	RuleID      string    `json:"rule_id"`
	Severity    string    `json:"severity"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	User        string    `json:"user"`
	ClientAddr  string    `json:"client_addr"`
	Application string    `json:"application"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Count       int64     `json:"count"`
}

// PrincipalRow is a user's accesses to sensitive columns, as findings
// that name sensitive columns report them.
type PrincipalRow struct {
	User        string   `json:"user"`
	Occurrences int64    `json:"occurrences"`
	Findings    int64    `json:"findings"`
	Columns     []string `json:"columns"`
}

// MatrixRow is one rule of the rule x severity matrix.
type MatrixRow struct {
	RuleID string         `json:"rule_id"`
	Counts SeverityCounts `json:"counts"`
}

// ComplianceRow maps a rule of the catalog to the standards.
type ComplianceRow struct {
	RuleID   string   `json:"rule_id"`
	Title    string   `json:"title"`
	OWASP    []string `json:"owasp"`
	CWE      []string `json:"cwe"`
	PCI      []string `json:"pci_dss"`
	MITRE    []string `json:"mitre"`
	Findings int64    `json:"findings"`
	Status   string   `json:"status"` // findings, clear
}

// ChecklistItem is one remediation item, judged from the evidence.
type ChecklistItem struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Status       string `json:"status"` // done, not_done, unknown
	Evidence     string `json:"evidence"`
	EvidenceRule string `json:"evidence_rule"`
	Action       string `json:"action"`
}

// Checklist statuses.
const (
	StatusDone    = "done"
	StatusNotDone = "not_done"
	StatusUnknown = "unknown"
)
