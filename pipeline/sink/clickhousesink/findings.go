package clickhousesink

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"roachwatch/detectors"
)

// Statuses of a finding, as analysts triage it.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusSuppressed   = "suppressed"
)

// updatedBySystem is findings.updated_by of versions written by the
// detectors (analysts write their own name).
const updatedBySystem = "roachwatch"

var findingColumnNames = []string{
	"id", "version", "rule_id", "severity", "title", "summary", "user", "client_addr", "application",
	"session_id", "cluster", "node", "first_seen", "last_seen", "count", "evidence", "fingerprint",
	"fingerprint_hash", "tables", "columns", "details", "cwe", "owasp", "mitre", "pci", "remediation",
	"query", "status", "status_note", "updated_by", "updated_at",
}

// triage is the analyst-owned part of a stored finding.
type triage struct{ status, note, by string }

// findingRow is one findings row in findingColumnNames order.
func findingRow(f *detectors.Finding, version uint64, t triage, now time.Time) []any {
	sev := f.Severity.String()
	if f.Severity < detectors.SeverityInfo || f.Severity > detectors.SeverityCritical {
		sev = "info"
	}
	details := cloneMap(f.Details)
	return []any{
		f.ID, version, f.RuleID, sev, f.Title, f.Summary, f.Principal.User, ParseClientAddr(f.Principal.ClientAddr),
		f.Principal.Application, f.SessionID, f.Cluster, f.Node, f.FirstSeen.UTC(), f.LastSeen.UTC(),
		uint64(max(f.Count, 0)), nonNil(f.Evidence), f.Fingerprint, f.FingerprintHash, nonNil(f.Tables), nonNil(f.Columns),
		details, nonNil(f.CWE), nonNil(f.OWASP), nonNil(f.MITRE), nonNil(f.PCI), f.Remediation, f.Query,
		t.status, t.note, t.by, now,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// WriteFindings writes a new version of each finding, with the same
// guarantees as WriteEvents (whole batch or error, retries, deduplication
// token over the finding ids and their contents).
//
// The status an analyst gave a finding (acknowledged, suppressed, with its
// note) is carried forward into the new version, so new occurrences do not
// reopen a triaged finding. The version is the write time in ns; a replay
// of the same findings collapses to the newest version in v_findings.
func (s *Store) WriteFindings(ctx context.Context, fs []detectors.Finding) error {
	for start := 0; start < len(fs); start += s.cfg.BatchSize {
		chunk := fs[start:min(start+s.cfg.BatchSize, len(fs))]
		if err := s.writeFindings(ctx, chunk); err != nil {
			return fmt.Errorf("clickhouse: writing findings %d..%d of %d: %w", start, start+len(chunk)-1, len(fs), err)
		}
	}
	return nil
}

func (s *Store) writeFindings(ctx context.Context, fs []detectors.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	ids := make([]string, len(fs))
	for i := range fs {
		ids[i] = fs[i].ID
	}
	stored, err := s.triages(ctx, ids)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	version := uint64(now.UnixNano())
	rows := make([][]any, len(fs))
	keys := make([]string, len(fs))
	for i := range fs {
		t, ok := stored[fs[i].ID]
		if !ok {
			t = triage{status: StatusOpen, by: updatedBySystem}
		}
		rows[i] = findingRow(&fs[i], version, t, now)
		// The token covers what a replay repeats exactly: id, occurrence
		// count and last occurrence. A grown finding is a new version.
		keys[i] = fmt.Sprintf("%s/%d/%d", fs[i].ID, fs[i].Count, fs[i].LastSeen.UnixNano())
	}
	token := batchToken("findings", slices.Values(keys))
	return s.insert(ctx, "findings", findingColumnNames, token, len(rows), func(b driver.Batch) error {
		for _, r := range rows {
			if err := b.Append(r...); err != nil {
				return err
			}
		}
		return nil
	})
}

// triages reads the stored status of the given findings.
func (s *Store) triages(ctx context.Context, ids []string) (map[string]triage, error) {
	out := map[string]triage{}
	q := "SELECT id, toString(status), status_note, updated_by FROM " + s.table("findings") + " FINAL WHERE id IN ?"
	err := s.retry(ctx, "reading finding status", func(ctx context.Context) error {
		rows, err := s.conn.Query(ctx, q, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var t triage
			if err := rows.Scan(&id, &t.status, &t.note, &t.by); err != nil {
				return err
			}
			out[id] = t
		}
		return rows.Err()
	})
	return out, err
}

// SetStatus records an analyst's triage of finding id as a new version
// (a copy of the newest version with status, note and analyst changed).
func (s *Store) SetStatus(ctx context.Context, id, status, note, analyst string) error {
	switch status {
	case StatusOpen, StatusAcknowledged, StatusSuppressed:
	default:
		return fmt.Errorf("clickhouse: status %q is not open, acknowledged or suppressed: %w", status, ErrPermanent)
	}
	if strings.TrimSpace(analyst) == "" {
		return fmt.Errorf("clickhouse: setting the status of %s: the analyst's name is required: %w", id, ErrPermanent)
	}
	now := time.Now().UTC()
	cols := joinColumns(findingColumnNames)
	var sel []string
	for _, c := range findingColumnNames {
		switch c {
		case "version":
			sel = append(sel, fmt.Sprintf("toUInt64(%d)", now.UnixNano()))
		case "status", "status_note", "updated_by":
			sel = append(sel, "{"+c+":String}")
		case "updated_at":
			sel = append(sel, "now64(3)")
		default:
			sel = append(sel, "`"+c+"`")
		}
	}
	q := "INSERT INTO " + s.table("findings") + " (" + cols + ") SELECT " + strings.Join(sel, ", ") +
		" FROM " + s.table("findings") + " FINAL WHERE id = {id:String}"
	params := map[string]string{"id": id, "status": status, "status_note": note, "updated_by": analyst}
	return s.retry(ctx, "setting finding status", func(ctx context.Context) error {
		return s.conn.Exec(withParams(ctx, params), q)
	})
}
