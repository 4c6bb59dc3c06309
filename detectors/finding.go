package detectors

import (
	"slices"
	"time"
)

// MaxEvidence is how many event ids a finding keeps as evidence; Count
// says how many occurrences there were in all.
const MaxEvidence = 20

// maxListed caps the tables and columns a finding lists.
const maxListed = 32

// Principal identifies who did it.
type Principal struct {
	User        string `json:"user,omitempty"`
	ClientAddr  string `json:"client_addr,omitempty"`
	Application string `json:"application,omitempty"`
}

// Finding is one incident: every occurrence of a rule with the same
// incident key in the same window, grouped. Its JSON form is described by
// schemas/finding.schema.json.
type Finding struct {
	ID              string            `json:"id"`
	RuleID          string            `json:"rule_id"`
	Severity        Severity          `json:"severity"`
	Title           string            `json:"title"`
	Summary         string            `json:"summary"`
	Principal       Principal         `json:"principal"`
	SessionID       string            `json:"session_id,omitempty"`
	Cluster         string            `json:"cluster,omitempty"`
	Node            string            `json:"node,omitempty"`
	FirstSeen       time.Time         `json:"first_seen"`
	LastSeen        time.Time         `json:"last_seen"`
	Count           int64             `json:"count"`
	Evidence        []string          `json:"evidence"`
	Fingerprint     string            `json:"fingerprint,omitempty"`
	FingerprintHash uint64            `json:"fingerprint_hash,omitempty,string"`
	Tables          []string          `json:"tables,omitempty"`
	Columns         []string          `json:"columns,omitempty"`
	Details         map[string]string `json:"details,omitempty"` // expected vs seen, thresholds, value classes
	CWE             []string          `json:"cwe"`
	OWASP           []string          `json:"owasp"`
	MITRE           []string          `json:"mitre,omitempty"`
	PCI             []string          `json:"pci_dss,omitempty"`
	Remediation     string            `json:"remediation"`
	Query           string            `json:"query"` // investigation query for the ClickHouse store
}

// Occurrence builds a one-event finding of rule r for ev's time with the
// rule's tags; detectors fill the rest.
func Occurrence(r Rule, id string, t int64, eventID string) Finding {
	ts := time.Unix(0, t).UTC()
	return Finding{
		ID:          id,
		RuleID:      r.ID,
		Severity:    r.Severity,
		Title:       r.Title,
		FirstSeen:   ts,
		LastSeen:    ts,
		Count:       1,
		Evidence:    []string{eventID},
		CWE:         r.CWE,
		OWASP:       r.OWASP,
		MITRE:       r.MITRE,
		PCI:         r.PCI,
		Remediation: r.Remediation,
	}
}

// merge folds occurrence o into f (same ID).
func (f *Finding) merge(o *Finding) {
	f.Count += o.Count
	if o.FirstSeen.Before(f.FirstSeen) {
		f.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(f.LastSeen) {
		f.LastSeen = o.LastSeen
	}
	if o.Severity > f.Severity {
		// The incident got worse: the description of the worse occurrence
		// is the one to show.
		f.Severity, f.Title, f.Summary = o.Severity, o.Title, o.Summary
	}
	for _, id := range o.Evidence {
		if len(f.Evidence) >= MaxEvidence {
			break
		}
		if !slices.Contains(f.Evidence, id) {
			f.Evidence = append(f.Evidence, id)
		}
	}
	f.Tables = union(f.Tables, o.Tables)
	f.Columns = union(f.Columns, o.Columns)
	for k, v := range o.Details {
		if f.Details == nil {
			f.Details = make(map[string]string, len(o.Details))
		}
		f.Details[k] = v
	}
	if f.SessionID != o.SessionID {
		f.SessionID = "" // several sessions: the query lists them
	}
	if f.Principal.Application == "" {
		f.Principal.Application = o.Principal.Application
	}
}

func union(a, b []string) []string {
	for _, s := range b {
		if len(a) >= maxListed {
			break
		}
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
