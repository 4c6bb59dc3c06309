package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteMarkdown renders r as Markdown: the same sections as the HTML
// report, with every chart as a table. Text from findings is untrusted:
// cells escape Markdown syntax and HTML so it renders as literal text.
func WriteMarkdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	m := &md{w: bw}
	m.p("# roachwatch audit report")
	m.p(fmt.Sprintf("Period: **%s** to **%s** (UTC). Previous period for trends: %s to %s. Generated at %s.",
		ts(r.Period.From), ts(r.Period.To), ts(r.Previous.From), ts(r.Previous.To), ts(r.GeneratedAt)))
	m.p(fmt.Sprintf("Data: findings from %s; session data: %s. %s", r.DataSources.Findings, yesNo(r.DataSources.SessionData),
		esc(r.DataSources.Note)))

	m.p("## 1. Executive summary")
	m.p(esc(r.Summary.Headline))
	rows := [][]string{}
	for _, s := range severities {
		c, p := r.Summary.Current.Get(s), r.Summary.PreviousPeriod.Get(s)
		rows = append(rows, []string{s.String(), itoa(c), itoa(p), delta(c - p)})
	}
	rows = append(rows, []string{"**total**", itoa(r.Summary.Findings), itoa(r.Summary.PreviousFindings),
		delta(r.Summary.Findings - r.Summary.PreviousFindings)})
	m.table([]string{"Severity", "This period", "Previous period", "Change"}, rows)
	m.p(fmt.Sprintf("Trend: **%s**. Occurrences: %d. Rules with findings: %d. Checklist items not done: %d.",
		r.Summary.Trend, r.Summary.Occurrences, r.Summary.RulesWithFindings, r.Summary.ChecklistNotDone))
	m.p("### Findings per day by severity")
	rows = nil
	for _, d := range r.FindingsByDay {
		row := []string{d.Day}
		for _, s := range severities {
			row = append(row, itoa(d.Counts.Get(s)))
		}
		rows = append(rows, append(row, itoa(d.Counts.Total())))
	}
	m.table([]string{"Day", "critical", "high", "medium", "low", "info", "total"}, rows)
	m.p("### Rule × severity")
	rows = nil
	for _, mr := range r.Matrix {
		row := []string{esc(mr.RuleID)}
		for _, s := range severities {
			row = append(row, itoa(mr.Counts.Get(s)))
		}
		rows = append(rows, append(row, itoa(mr.Counts.Total())))
	}
	m.table([]string{"Rule", "critical", "high", "medium", "low", "info", "total"}, rows)

	m.p("## 2. TLS posture")
	t := r.TLS
	m.p(fmt.Sprintf("Computed from: **%s**. %s", t.From, esc(t.Note)))
	if t.From == "events" {
		m.p(fmt.Sprintf("Sessions: %d; over TLS (hostssl): %d; without TLS (hostnossl): %d; share without TLS: %s.",
			t.Sessions, t.TLSSessions, t.NonTLSSessions, pct(t.NonTLSShare)))
		m.p("### Sessions per day by transport")
		rows = nil
		for _, d := range t.Daily {
			rows = append(rows, []string{d.Day, itoa(d.TLS), itoa(d.NonTLS), itoa(d.Other)})
		}
		m.table([]string{"Day", "TLS", "non-TLS", "other (local, unknown)"}, rows)
	} else {
		m.p(fmt.Sprintf("RW-TLS-001 occurrences (events of non-TLS sessions): %d.", t.NonTLSSessions))
	}
	for _, st := range []struct {
		title string
		rows  []ShareRow
	}{{"user", t.ByUser}, {"application", t.ByApplication}, {"client network (/24)", t.ByNetwork}} {
		m.p("### Without TLS by " + st.title)
		rows = nil
		for _, s := range st.rows {
			rows = append(rows, []string{esc(s.Key), itoa(s.Sessions), itoa(s.NonTLS), pct(s.Share)})
		}
		m.table([]string{strings.ToUpper(st.title[:1]) + st.title[1:], "Sessions", "Non-TLS", "Share non-TLS"}, rows)
	}
	m.p(fmt.Sprintf("### Non-TLS sessions (%d listed of %d)", t.NonTLSListed, t.NonTLSTotal))
	rows = nil
	for _, s := range t.NonTLS {
		rows = append(rows, []string{ts(s.Time), esc(s.SessionID), esc(s.User), esc(s.Application), esc(s.ClientAddr),
			esc(s.Transport), esc(s.AuthMethod), s.Outcome, itoa(s.Count)})
	}
	m.table([]string{"Time (UTC)", "Session", "User", "Application", "Client", "Transport", "Auth method", "Outcome", "Count"}, rows)
	m.group(r.group("tls"))

	m.p("## 3. Cryptographic failures")
	m.p("Types, columns and counts only: the report never contains a value or a value hash.")
	m.p("### Sensitive columns used in plaintext")
	rows = nil
	for _, c := range r.Crypto.Columns {
		rows = append(rows, []string{esc(c.Column), esc(c.RuleID), esc(c.Access), esc(strings.Join(c.Classes, ", ")),
			itoa(c.Findings), itoa(c.Occurrences), esc(strings.Join(c.Principals, ", "))})
	}
	m.table([]string{"Column", "Rule", "Access", "Value classes", "Findings", "Occurrences", "Principals"}, rows)
	m.p("### Secrets and personal data in logs")
	rows = nil
	for _, s := range r.Crypto.Secrets {
		rows = append(rows, []string{esc(s.Type), esc(s.Field), itoa(s.Findings), itoa(s.Occurrences)})
	}
	m.table([]string{"Type", "Where in the line", "Findings", "Occurrences"}, rows)
	m.p("### Top principals by sensitive column access")
	m.p("Occurrences of findings that name sensitive columns (RW-TLS-001 critical, RW-CRYPTO-001/002, anomalies), by user.")
	rows = nil
	for _, p := range r.Principals {
		rows = append(rows, []string{esc(p.User), itoa(p.Occurrences), itoa(p.Findings), esc(strings.Join(p.Columns, ", "))})
	}
	m.table([]string{"User", "Occurrences", "Findings", "Columns"}, rows)

	m.p("## 4. Injection, authentication, privilege and audit-tampering findings")
	for _, id := range []string{"injection", "auth", "privilege", "audit"} {
		m.group(r.group(id))
	}
	m.p("## 5. Anomalies")
	m.group(r.group("anomalies"))
	m.group(r.group("other"))

	m.p("## 6. Compliance mapping")
	rows = nil
	for _, c := range r.Compliance {
		rows = append(rows, []string{esc(c.RuleID), esc(c.Title), esc(strings.Join(c.OWASP, "; ")), esc(strings.Join(c.CWE, ", ")),
			esc(strings.Join(c.PCI, ", ")), esc(strings.Join(c.MITRE, ", ")), itoa(c.Findings), c.Status})
	}
	m.table([]string{"Rule", "Title", "OWASP Top 10 2021", "CWE", "PCI DSS 4.0", "MITRE ATT&CK", "Findings", "Status"}, rows)

	m.p("## 7. Remediation checklist (Django + CockroachDB)")
	m.p("Each item is judged from the evidence of this period; the evidence rule says how.")
	rows = nil
	for _, c := range r.Checklist {
		rows = append(rows, []string{statusText(c.Status), esc(c.Title), esc(c.Evidence), esc(c.EvidenceRule), esc(c.Action)})
	}
	m.table([]string{"Status", "Item", "Evidence", "Evidence rule", "Action"}, rows)
	if m.err != nil {
		return m.err
	}
	return bw.Flush()
}

// group returns the finding group with id.
func (r *Report) group(id string) FindingGroup {
	for _, g := range r.Groups {
		if g.ID == id {
			return g
		}
	}
	return FindingGroup{ID: id}
}

// md writes Markdown blocks, keeping the first error.
type md struct {
	w   io.Writer
	err error
}

func (m *md) p(s string) {
	if m.err == nil {
		_, m.err = io.WriteString(m.w, s+"\n\n")
	}
}

func (m *md) table(head []string, rows [][]string) {
	if len(rows) == 0 {
		m.p("_None._")
		return
	}
	var b strings.Builder
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	m.p(strings.TrimSuffix(b.String(), "\n"))
}

func (m *md) group(g FindingGroup) {
	m.p(fmt.Sprintf("### %s (%s): %s", g.Title, g.Rules, plural(int64(g.Total), "finding")))
	rows := [][]string{}
	for _, f := range g.Findings {
		rows = append(rows, []string{f.Severity, esc(f.RuleID), esc(f.User), esc(f.ClientAddr), esc(f.Application),
			ts(f.FirstSeen), itoa(f.Count), esc(f.Summary)})
	}
	m.table([]string{"Severity", "Rule", "User", "Client", "Application", "First seen (UTC)", "Count", "Summary"}, rows)
	if g.Total > len(g.Findings) {
		m.p(fmt.Sprintf("%d more not listed.", g.Total-len(g.Findings)))
	}
}

// mdEscaper neutralises Markdown syntax and HTML in table cells.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "#", `\#`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "\r", " ", "\n", " ",
)

func esc(s string) string { return mdEscaper.Replace(s) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func delta(n int64) string {
	if n > 0 {
		return "+" + itoa(n)
	}
	return itoa(n)
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// plural renders "1 finding", "2 findings".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return itoa(n) + " " + noun + "s"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// statusText renders a checklist status with a symbol so that colour is
// never the only cue.
func statusText(s string) string {
	switch s {
	case StatusDone:
		return "✔ done"
	case StatusNotDone:
		return "✘ not done"
	}
	return "? unknown"
}
