// Package detectors holds the detector contract, the finding model, the
// rule catalog and the aggregation that groups occurrences into incidents.
// Rule families live in subpackages that import this one.
package detectors

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"

	"roachwatch/pipeline/event"
)

// Detector looks at events one at a time and reports occurrences of its
// rules.
//
// Observe must not modify ev (it is shared with the other detectors and
// the sinks) and must take time only from ev.Time, never from the wall
// clock, so that replaying the same input gives identical findings. It
// appends occurrences to out and returns the extended slice; the
// Aggregator groups occurrences with the same Finding.ID into one finding.
// Detectors are called from one goroutine; they need not be safe for
// concurrent use. Their state must be bounded.
type Detector interface {
	Rules() []Rule
	Observe(ev *event.Event, out []Finding) []Finding
}

// Finisher is implemented by detectors that hold findings until a window
// closes (bursts, silences). Finish is called once at the end of input with
// the last event time seen.
type Finisher interface {
	Finish(lastTime int64, out []Finding) []Finding
}

// Severity of a finding, ordered.
type Severity int

// Severities, lowest first.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "sev(" + strconv.Itoa(int(s)) + ")"
	}
	return severityNames[s]
}

// ParseSeverity parses "info" … "critical".
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if n == s {
			return Severity(i), true
		}
	}
	return 0, false
}

// MarshalText writes the severity name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return &SeverityError{Value: string(b)}
	}
	*s = v
	return nil
}

// SeverityError reports an unknown severity name.
type SeverityError struct{ Value string }

func (e *SeverityError) Error() string {
	return "unknown severity " + strconv.Quote(e.Value) + " (want info, low, medium, high or critical)"
}

// Rule describes one detection rule of the catalog.
type Rule struct {
	ID          string   `json:"rule_id"`
	Title       string   `json:"title"`
	Severity    Severity `json:"severity"` // default severity
	CWE         []string `json:"cwe"`
	OWASP       []string `json:"owasp"`
	MITRE       []string `json:"mitre,omitempty"`
	PCI         []string `json:"pci_dss,omitempty"`
	Explanation string   `json:"explanation"`
	Remediation string   `json:"remediation"`
}

// IncidentID returns the deterministic id of the incident of rule keyed by
// parts within the window starting at windowStart (ns): replays of the same
// input give the same ids, and a finding stored twice replaces itself.
func IncidentID(rule string, windowStart int64, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(windowStart, 10)))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// WindowStart returns the start of the tumbling window of size window (ns)
// that contains t.
func WindowStart(t, window int64) int64 {
	if window <= 0 {
		return 0
	}
	w := t - t%window
	if t < 0 && t%window != 0 {
		w -= window
	}
	return w
}

// Stateful is implemented by detectors whose state (baselines, windows)
// must survive a restart. Snapshot writes the whole state; Restore
// replaces the state with a snapshot. Both are called between Observe
// calls, never concurrently with them. The format is the detector's own
// and versioned by it; Restore rejects snapshots it cannot read.
type Stateful interface {
	Snapshot(w io.Writer) error
	Restore(r io.Reader) error
}
