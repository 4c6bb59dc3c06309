package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"roachwatch/detectors"
)

// MaxListedFindings caps the findings a group lists.
const MaxListedFindings = 100

// maxPrincipals is how many principals the top-principals chart shows.
const maxPrincipals = 10

// Options says what to report on.
type Options struct {
	// Since is the length of the period; the previous period, for trends,
	// has the same length and ends just before it.
	Since time.Duration
	// Until ends the period. Zero: the newest data of the source.
	Until time.Time
	// GeneratedAt is printed as the generation time; pin it for golden
	// output. Zero: the report omits a meaningful time (the Unix epoch).
	GeneratedAt time.Time
	// Rules is the rule catalog (all.Rules()) for the compliance table.
	Rules []detectors.Rule
	// SourceName names the findings source: "jsonl" or "clickhouse".
	SourceName string
}

// ErrNoData is returned when Until is zero and the source has no data to
// take a default from.
var ErrNoData = errors.New("report: no findings or events to take the end of the period from; pass --until")

// Build reads the period's data from src and computes the report.
func Build(ctx context.Context, src Source, o Options) (*Report, error) {
	if o.Since <= 0 {
		return nil, fmt.Errorf("report: since must be positive, got %s", o.Since)
	}
	until := o.Until.UTC()
	if until.IsZero() {
		t, ok, err := Newest(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("finding the newest data: %w", err)
		}
		if !ok {
			return nil, ErrNoData
		}
		until = t.UTC()
	}
	cur := Period{From: until.Add(-o.Since), To: until}
	prev := Period{From: cur.From.Add(-o.Since), To: cur.From.Add(-time.Nanosecond)}
	fs, err := src.Findings(ctx, cur.From, cur.To)
	if err != nil {
		return nil, fmt.Errorf("reading findings: %w", err)
	}
	pfs, err := src.Findings(ctx, prev.From, prev.To)
	if err != nil {
		return nil, fmt.Errorf("reading findings of the previous period: %w", err)
	}
	ss, err := src.Sessions(ctx, cur.From, cur.To)
	if err != nil {
		return nil, fmt.Errorf("reading sessions: %w", err)
	}
	sortFindings(fs)
	r := &Report{
		SchemaVersion: SchemaVersion,
		GeneratedAt:   o.GeneratedAt.UTC(),
		Period:        cur,
		Previous:      prev,
		DataSources:   dataSources(o.SourceName, ss),
	}
	r.Summary = summarize(fs, pfs)
	r.FindingsByDay = findingsByDay(fs, cur)
	r.TLS = tlsPosture(fs, ss, cur)
	r.Crypto = cryptoFailures(fs)
	r.Groups = findingGroups(fs)
	r.Principals = topPrincipals(fs)
	rules := catalog(o.Rules, fs)
	r.Matrix = matrix(rules, fs)
	r.Compliance = compliance(rules, fs)
	r.Checklist = checklist(fs, ss, rules)
	for _, c := range r.Checklist {
		if c.Status == StatusNotDone {
			r.Summary.ChecklistNotDone++
		}
	}
	r.Summary.Headline = headline(r)
	return r, nil
}

// sortFindings orders findings most severe first, then oldest first.
func sortFindings(fs []detectors.Finding) {
	slices.SortStableFunc(fs, func(a, b detectors.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), a.FirstSeen.Compare(b.FirstSeen),
			cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.ID, b.ID))
	})
}

func dataSources(name string, ss SessionStats) DataSources {
	if name == "" {
		name = "jsonl"
	}
	d := DataSources{Findings: name, SessionData: ss.Available, TLSFrom: "events"}
	if ss.Available {
		d.Note = "Findings and session events were given: TLS posture is computed from the SQL sessions themselves."
	} else {
		d.TLSFrom = "findings"
		d.Note = "Only findings were given (no --events): TLS posture is derived from RW-TLS-001 findings, so the share of " +
			"sessions without TLS cannot be computed and checklist items that need session data are unknown."
	}
	return d
}

func summarize(fs, pfs []detectors.Finding) Summary {
	var s Summary
	rules := map[string]bool{}
	for _, f := range fs {
		s.Current.Add(f.Severity, 1)
		s.Occurrences += f.Count
		rules[f.RuleID] = true
	}
	for _, f := range pfs {
		s.PreviousPeriod.Add(f.Severity, 1)
	}
	s.Findings, s.PreviousFindings = int64(len(fs)), int64(len(pfs))
	s.RulesWithFindings = len(rules)
	s.Trend = trend(s.Findings, s.PreviousFindings)
	return s
}

func trend(cur, prev int64) string {
	switch {
	case cur > prev:
		return "up"
	case cur < prev:
		return "down"
	}
	return "flat"
}

func headline(r *Report) string {
	s := r.Summary
	if s.Findings == 0 {
		return fmt.Sprintf("No findings between %s and %s (previous period: %d).",
			r.Period.From.Format(time.DateOnly), r.Period.To.Format(time.DateOnly), s.PreviousFindings)
	}
	return fmt.Sprintf("%d findings (%d critical, %d high) between %s and %s, %s from %d in the previous period; %d checklist items not done.",
		s.Findings, s.Current.Critical, s.Current.High, r.Period.From.Format(time.DateOnly), r.Period.To.Format(time.DateOnly),
		s.Trend, s.PreviousFindings, s.ChecklistNotDone)
}

// days lists the UTC days that p touches.
func days(p Period) []string {
	var out []string
	end := p.To.Truncate(24 * time.Hour)
	for d := p.From.Truncate(24 * time.Hour); !d.After(end); d = d.Add(24 * time.Hour) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func findingsByDay(fs []detectors.Finding, p Period) []DayCounts {
	ds := days(p)
	idx := make(map[string]int, len(ds))
	out := make([]DayCounts, len(ds))
	for i, d := range ds {
		idx[d] = i
		out[i].Day = d
	}
	for _, f := range fs {
		if i, ok := idx[f.FirstSeen.UTC().Format(time.DateOnly)]; ok {
			out[i].Counts.Add(f.Severity, 1)
		}
	}
	return out
}

// family returns the rule family prefix of a rule id: RW-TLS-001 -> RW-TLS.
func family(ruleID string) string {
	if i := strings.LastIndexByte(ruleID, '-'); i > 0 {
		return ruleID[:i]
	}
	return ruleID
}

// groupDefs are the finding sections, in report order. Families not
// named here are listed under "other"; RW-CRYPTO findings are only
// aggregated (cryptographic failures section).
var groupDefs = []FindingGroup{
	{ID: "tls", Title: "SQL sessions without TLS", Rules: "RW-TLS"},
	{ID: "injection", Title: "SQL injection", Rules: "RW-SQLI"},
	{ID: "auth", Title: "Authentication attacks", Rules: "RW-AUTH"},
	{ID: "privilege", Title: "Privilege escalation", Rules: "RW-PRIV"},
	{ID: "audit", Title: "Audit tampering", Rules: "RW-AUDIT"},
	{ID: "anomalies", Title: "Anomalies", Rules: "RW-ANOM"},
	{ID: "other", Title: "Other rules", Rules: "any other"},
}

func findingGroups(fs []detectors.Finding) []FindingGroup {
	out := slices.Clone(groupDefs)
	byFamily := map[string]int{}
	for i, g := range out {
		byFamily[g.Rules] = i
		out[i].Findings = []FindingRow{}
	}
	for _, f := range fs {
		fam := family(f.RuleID)
		if fam == "RW-CRYPTO" {
			continue
		}
		i, ok := byFamily[fam]
		if !ok {
			i = len(out) - 1
		}
		out[i].Total++
		if len(out[i].Findings) < MaxListedFindings {
			out[i].Findings = append(out[i].Findings, FindingRow{
				ID: f.ID, RuleID: f.RuleID, Severity: f.Severity.String(), Title: f.Title, Summary: f.Summary,
				User: f.Principal.User, ClientAddr: f.Principal.ClientAddr, Application: f.Principal.Application,
				FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(), Count: f.Count,
			})
		}
	}
	return out
}

// sensitiveColumns lists the sensitive columns a finding names.
func sensitiveColumns(f *detectors.Finding) []string {
	if len(f.Columns) > 0 {
		return f.Columns
	}
	if c := f.Details["column"]; c != "" {
		return []string{c}
	}
	return nil
}

func topPrincipals(fs []detectors.Finding) []PrincipalRow {
	by := map[string]*PrincipalRow{}
	for i := range fs {
		f := &fs[i]
		cols := sensitiveColumns(f)
		if len(cols) == 0 || f.RuleID == "RW-CRYPTO-003" {
			continue
		}
		user := orNone(f.Principal.User)
		p := by[user]
		if p == nil {
			p = &PrincipalRow{User: user}
			by[user] = p
		}
		p.Findings++
		p.Occurrences += f.Count
		p.Columns = addSorted(p.Columns, cols...)
	}
	out := make([]PrincipalRow, 0, len(by))
	for _, p := range by {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b PrincipalRow) int {
		return cmp.Or(cmp.Compare(b.Occurrences, a.Occurrences), cmp.Compare(a.User, b.User))
	})
	if len(out) > maxPrincipals {
		out = out[:maxPrincipals]
	}
	return out
}

// addSorted inserts vs into the sorted set s.
func addSorted(s []string, vs ...string) []string {
	for _, v := range vs {
		if i, found := slices.BinarySearch(s, v); !found {
			s = slices.Insert(s, i, v)
		}
	}
	return s
}

// orNone names an empty principal field.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
