package alertsink

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
)

// AlertVersion is the version of the alert JSON (schemas/alert.schema.json).
const AlertVersion = 1

// Reasons an alert is sent.
const (
	ReasonNew           = "new"            // first alert for the incident key in the suppression window
	ReasonSeverityRose  = "severity_rose"  // re-alert: realert_on severity
	ReasonCountGrew     = "count_grew"     // re-alert: realert_on count
	ReasonWindowExpired = "window_expired" // the incident is still active after a whole suppression window
)

// Alert is what reaches a person: one finding version that the router
// decided to send, with everything needed to act on it and links back to
// the evidence. Its JSON form is schemas/alert.schema.json; field names and
// casing are public API.
type Alert struct {
	V                int                 `json:"v"`
	ID               string              `json:"id"`           // hash of finding id, severity and count: one per alert sent
	IncidentKey      string              `json:"incident_key"` // hash of rule and principal: the Kafka key, the dedup key across windows
	Reason           string              `json:"reason"`
	SentAt           time.Time           `json:"sent_at"` // wall clock
	FindingID        string              `json:"finding_id"`
	RuleID           string              `json:"rule_id"`
	Severity         detectors.Severity  `json:"severity"`
	PreviousSeverity *detectors.Severity `json:"previous_severity,omitempty"` // for severity_rose
	Title            string              `json:"title"`
	Summary          string              `json:"summary"`
	Explanation      string              `json:"explanation,omitempty"` // why it matters, from the rule catalog
	Remediation      string              `json:"remediation"`
	Principal        detectors.Principal `json:"principal"`
	Cluster          string              `json:"cluster,omitempty"`
	Count            int64               `json:"count"`
	FirstSeen        time.Time           `json:"first_seen"`
	LastSeen         time.Time           `json:"last_seen"`
	Query            string              `json:"query"` // ClickHouse query showing the evidence
	Evidence         []string            `json:"evidence"`
	Fingerprint      string              `json:"fingerprint,omitempty"`
	Tables           []string            `json:"tables,omitempty"`
	Columns          []string            `json:"columns,omitempty"`
	Route            string              `json:"route,omitempty"` // Django route
	CWE              []string            `json:"cwe"`
	OWASP            []string            `json:"owasp"`
	Link             string              `json:"link,omitempty"`
}

// IncidentKey is the alert key of f across windows: rule and principal.
// The finding id adds the rule's other key fields and the window.
func IncidentKey(f *detectors.Finding) string {
	h := sha256.New()
	for _, p := range []string{f.RuleID, f.Principal.User, f.Principal.Application, f.Principal.ClientAddr, f.Cluster} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// alertID identifies one finding version: a receiver that sees the same
// id twice (a replay after a restart) can drop the second.
func alertID(f *detectors.Finding) string {
	h := sha256.New()
	h.Write([]byte(f.ID))
	h.Write([]byte{0})
	h.Write([]byte(f.Severity.String()))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(f.Count, 10)))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// newAlert builds the alert of f. rule may be the zero Rule (unknown id).
func newAlert(f *detectors.Finding, rule detectors.Rule, key, reason string, prev *detectors.Severity, now time.Time, linkTmpl string) *Alert {
	a := &Alert{
		V:                AlertVersion,
		ID:               alertID(f),
		IncidentKey:      key,
		Reason:           reason,
		SentAt:           now.UTC(),
		FindingID:        f.ID,
		RuleID:           f.RuleID,
		Severity:         f.Severity,
		PreviousSeverity: prev,
		Title:            f.Title,
		Summary:          f.Summary,
		Explanation:      rule.Explanation,
		Remediation:      f.Remediation,
		Principal:        f.Principal,
		Cluster:          f.Cluster,
		Count:            f.Count,
		FirstSeen:        f.FirstSeen.UTC(),
		LastSeen:         f.LastSeen.UTC(),
		Query:            f.Query,
		Evidence:         append([]string(nil), f.Evidence...),
		Fingerprint:      f.Fingerprint,
		Tables:           append([]string(nil), f.Tables...),
		Columns:          append([]string(nil), f.Columns...),
		Route:            f.Details["route"],
		CWE:              append([]string{}, f.CWE...),
		OWASP:            append([]string{}, f.OWASP...),
	}
	if a.Title == "" {
		a.Title = rule.Title
	}
	if a.Remediation == "" {
		a.Remediation = rule.Remediation
	}
	if a.Evidence == nil {
		a.Evidence = []string{}
	}
	if linkTmpl != "" {
		a.Link = strings.NewReplacer("{finding_id}", f.ID, "{rule_id}", f.RuleID).Replace(linkTmpl)
	}
	return a
}

// family is the lower-case family of a rule id: RW-CRYPTO-002 -> crypto.
func family(ruleID string) string {
	parts := strings.Split(ruleID, "-")
	if len(parts) < 3 {
		return ""
	}
	return strings.ToLower(parts[1])
}
