package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// maxShareRows caps the rows of each TLS share table.
const maxShareRows = 25

// notLogged names an application no event of the session named.
const notLogged = "(not logged)"

// tlsPosture computes the TLS section: from the sessions when the source
// has session data, else from the RW-TLS findings.
func tlsPosture(fs []detectors.Finding, ss SessionStats, p Period) TLSPosture {
	if !ss.Available {
		return tlsFromFindings(fs)
	}
	t := TLSPosture{From: "events", Note: "A session is one client authentication (SESSIONS channel, ok or failed) of a non-internal " +
		"client. Non-TLS means transport hostnossl; local (unix socket) sessions do not cross the network and count as other."}
	ds := days(p)
	idx := map[string]int{}
	t.Daily = make([]SessionDay, len(ds))
	for i, d := range ds {
		idx[d] = i
		t.Daily[i].Day = d
	}
	type acc struct{ sessions, nonTLS int64 }
	users, apps, nets := map[string]*acc{}, map[string]*acc{}, map[string]*acc{}
	add := func(m map[string]*acc, k string, g SessionGroup, plain bool) {
		a := m[k]
		if a == nil {
			a = &acc{}
			m[k] = a
		}
		a.sessions += g.Sessions
		if plain {
			a.nonTLS += g.Sessions
		}
	}
	for _, g := range ss.Groups {
		plain := g.Transport == event.TransportPlain
		t.Sessions += g.Sessions
		i, inDays := idx[g.Day]
		switch {
		case g.Transport == event.TransportTLS:
			t.TLSSessions += g.Sessions
			if inDays {
				t.Daily[i].TLS += g.Sessions
			}
		case plain:
			t.NonTLSSessions += g.Sessions
			if inDays {
				t.Daily[i].NonTLS += g.Sessions
			}
		case inDays:
			t.Daily[i].Other += g.Sessions
		}
		add(users, orNone(g.User), g, plain)
		app := g.Application
		if app == "" {
			app = notLogged
		}
		add(apps, app, g, plain)
		add(nets, orUnknownNet(g.Network), g, plain)
	}
	if t.Sessions > 0 {
		t.NonTLSShare = share(t.NonTLSSessions, t.Sessions)
	}
	rows := func(m map[string]*acc) []ShareRow {
		out := make([]ShareRow, 0, len(m))
		for k, a := range m {
			out = append(out, ShareRow{Key: k, Sessions: a.sessions, NonTLS: a.nonTLS, Share: share(a.nonTLS, a.sessions)})
		}
		return sortShares(out)
	}
	t.ByUser, t.ByApplication, t.ByNetwork = rows(users), rows(apps), rows(nets)
	t.NonTLS = []SessionRow{}
	for _, s := range ss.NonTLS {
		outcome := "ok"
		if s.Failed {
			outcome = "failed"
		}
		app := s.Application
		if app == "" {
			app = notLogged
		}
		t.NonTLS = append(t.NonTLS, SessionRow{Time: s.Time.UTC(), SessionID: s.SessionID, User: s.User, Application: app,
			ClientAddr: s.ClientAddr, Transport: s.Transport, AuthMethod: s.AuthMethod, Outcome: outcome, Count: 1})
	}
	t.NonTLSListed, t.NonTLSTotal = len(t.NonTLS), ss.NonTLSTotal
	return t
}

// tlsFromFindings builds the TLS section from RW-TLS findings alone.
func tlsFromFindings(fs []detectors.Finding) TLSPosture {
	t := TLSPosture{From: "findings", Note: "No session data (--events) was given: this section lists RW-TLS-001 incidents " +
		"and their occurrences; shares of all sessions and the daily TLS/non-TLS chart need session data.",
		Daily: []SessionDay{}, NonTLS: []SessionRow{}}
	users, apps, nets := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for i := range fs {
		f := &fs[i]
		if f.RuleID != "RW-TLS-001" {
			continue
		}
		t.NonTLSSessions += f.Count
		users[orNone(f.Principal.User)] += f.Count
		app := f.Principal.Application
		if app == "" {
			app = notLogged
		}
		apps[app] += f.Count
		nets[orUnknownNet(Network(f.Principal.ClientAddr))] += f.Count
		sid := f.SessionID
		if sid == "" {
			sid = "(several)"
		}
		t.NonTLSTotal++
		if len(t.NonTLS) < MaxListedSessions {
			t.NonTLS = append(t.NonTLS, SessionRow{Time: f.FirstSeen.UTC(), SessionID: sid, User: f.Principal.User, Application: app,
				ClientAddr: f.Principal.ClientAddr, Transport: cmp.Or(f.Details["transport"], event.TransportPlain), Outcome: "incident", Count: f.Count})
		}
	}
	slices.SortStableFunc(t.NonTLS, func(a, b SessionRow) int { return a.Time.Compare(b.Time) })
	rows := func(m map[string]int64) []ShareRow {
		out := make([]ShareRow, 0, len(m))
		for k, n := range m {
			out = append(out, ShareRow{Key: k, NonTLS: n})
		}
		return sortShares(out)
	}
	t.ByUser, t.ByApplication, t.ByNetwork = rows(users), rows(apps), rows(nets)
	t.NonTLSListed = len(t.NonTLS)
	return t
}

func sortShares(rs []ShareRow) []ShareRow {
	slices.SortFunc(rs, func(a, b ShareRow) int {
		return cmp.Or(cmp.Compare(b.NonTLS, a.NonTLS), cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.Key, b.Key))
	})
	if len(rs) > maxShareRows {
		rs = rs[:maxShareRows]
	}
	return rs
}

// share returns n/of rounded to four decimals, or nil when of is 0.
func share(n, of int64) *float64 {
	if of == 0 {
		return nil
	}
	v := math.Round(float64(n)/float64(of)*10000) / 10000
	return &v
}

func orUnknownNet(n string) string {
	if n == "" {
		return "(unknown)"
	}
	return n
}

// accessOf describes how a rule's findings used a sensitive column.
func accessOf(f *detectors.Finding) string {
	switch f.RuleID {
	case "RW-CRYPTO-001":
		if op := f.Details["op"]; op != "" {
			return op + " of a plaintext value"
		}
		return "plaintext value written or compared"
	case "RW-CRYPTO-002":
		return "read, stored in plaintext"
	case "RW-TLS-001":
		return "read or written over a non-TLS connection"
	}
	return "touched (" + f.RuleID + ")"
}

// cryptoFailures aggregates the plaintext column uses and the secrets in
// logs. It copies rule ids, column names, value classes, secret types and
// counts - never a value, a hash or a summary.
func cryptoFailures(fs []detectors.Finding) CryptoFailures {
	c := CryptoFailures{Columns: []ColumnRow{}, Secrets: []SecretRow{}}
	type colKey struct{ col, rule, access string }
	cols := map[colKey]*ColumnRow{}
	secrets := map[[2]string]*SecretRow{}
	for i := range fs {
		f := &fs[i]
		if f.RuleID == "RW-CRYPTO-003" {
			k := [2]string{cmp.Or(f.Details["type"], "unspecified"), cmp.Or(f.Details["field"], "unspecified")}
			s := secrets[k]
			if s == nil {
				s = &SecretRow{Type: k[0], Field: k[1]}
				secrets[k] = s
			}
			s.Findings++
			s.Occurrences += f.Count
			continue
		}
		if family(f.RuleID) != "RW-CRYPTO" && f.RuleID != "RW-TLS-001" {
			continue
		}
		for _, col := range sensitiveColumns(f) {
			k := colKey{col, f.RuleID, accessOf(f)}
			r := cols[k]
			if r == nil {
				r = &ColumnRow{Column: col, RuleID: f.RuleID, Access: k.access, Classes: []string{}, Principals: []string{}}
				cols[k] = r
			}
			r.Findings++
			r.Occurrences += f.Count
			r.Principals = addSorted(r.Principals, orNone(f.Principal.User))
			if cl := f.Details["class"]; cl != "" {
				r.Classes = addSorted(r.Classes, strings.Split(cl, ",")...)
			}
		}
	}
	for _, r := range cols {
		c.Columns = append(c.Columns, *r)
	}
	slices.SortFunc(c.Columns, func(a, b ColumnRow) int {
		return cmp.Or(cmp.Compare(b.Occurrences, a.Occurrences), cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.Access, b.Access))
	})
	for _, s := range secrets {
		c.Secrets = append(c.Secrets, *s)
	}
	slices.SortFunc(c.Secrets, func(a, b SecretRow) int {
		return cmp.Or(cmp.Compare(b.Occurrences, a.Occurrences), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Field, b.Field))
	})
	return c
}

// catalog returns the rules of the catalog plus any rule that only the
// findings name (rules added or removed since), sorted by id.
func catalog(rules []detectors.Rule, fs []detectors.Finding) []detectors.Rule {
	seen := map[string]bool{}
	var out []detectors.Rule
	for _, r := range rules {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	for _, f := range fs {
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			out = append(out, detectors.Rule{ID: f.RuleID, Title: f.Title + " (not in this build's catalog)",
				Severity: f.Severity, CWE: f.CWE, OWASP: f.OWASP, MITRE: f.MITRE, PCI: f.PCI})
		}
	}
	slices.SortFunc(out, func(a, b detectors.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func matrix(rules []detectors.Rule, fs []detectors.Finding) []MatrixRow {
	idx := map[string]int{}
	out := make([]MatrixRow, len(rules))
	for i, r := range rules {
		idx[r.ID] = i
		out[i].RuleID = r.ID
	}
	for _, f := range fs {
		out[idx[f.RuleID]].Counts.Add(f.Severity, 1)
	}
	return out
}

func compliance(rules []detectors.Rule, fs []detectors.Finding) []ComplianceRow {
	n := map[string]int64{}
	for _, f := range fs {
		n[f.RuleID]++
	}
	out := make([]ComplianceRow, len(rules))
	for i, r := range rules {
		status := "clear"
		if n[r.ID] > 0 {
			status = "findings"
		}
		out[i] = ComplianceRow{RuleID: r.ID, Title: r.Title, OWASP: nonNil(r.OWASP), CWE: nonNil(r.CWE), PCI: nonNil(r.PCI),
			MITRE: nonNil(r.MITRE), Findings: n[r.ID], Status: status}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pct renders a share as a percentage.
func pct(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

// day formats a time as its UTC day.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
