package alertsink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Slack limits: a section's text holds at most 3000 characters, a header
// 150, a field 2000.
const (
	slackTextMax   = 3000
	slackHeaderMax = 150
	slackFieldMax  = 2000
)

var severityEmoji = map[string]string{
	"critical": ":rotating_light:",
	"high":     ":red_circle:",
	"medium":   ":large_orange_circle:",
	"low":      ":large_yellow_circle:",
	"info":     ":large_blue_circle:",
}

type slackText struct {
	Type string `json:"type"` // mrkdwn or plain_text
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"` // notification fallback
	Blocks []slackBlock `json:"blocks"`
}

// slackPayload renders a as a Slack incoming-webhook message (Block Kit):
// header, severity / principal / rule / count / window fields, what
// happened, why it matters, remediation, the investigation query in a
// code block, and the finding id and link. Values from logs (user names,
// summaries) are escaped so they cannot form mentions or links.
func slackPayload(a *Alert) ([]byte, error) {
	sev := a.Severity.String()
	head := fmt.Sprintf("%s %s: %s", severityEmoji[sev], strings.ToUpper(sev), a.Title)
	fields := []slackText{
		md("*Severity*\n" + sev + reasonNote(a)),
		md("*Principal*\n" + esc(principal(a))),
		md("*Rule*\n`" + a.RuleID + "`"),
		md(fmt.Sprintf("*Occurrences*\n%d", a.Count)),
		md("*Window*\n" + a.FirstSeen.Format(time.RFC3339) + " to " + a.LastSeen.Format(time.RFC3339)),
	}
	for i := range fields {
		fields[i].Text = clip(fields[i].Text, slackFieldMax)
	}
	blocks := []slackBlock{
		{Type: "header", Text: &slackText{Type: "plain_text", Text: clip(head, slackHeaderMax)}},
		{Type: "section", Fields: fields},
		section("*What happened*\n" + esc(a.Summary)),
	}
	if a.Explanation != "" {
		blocks = append(blocks, section("*Why it matters*\n"+esc(a.Explanation)))
	}
	blocks = append(blocks, section("*Remediation*\n"+esc(a.Remediation)))
	if a.Query != "" {
		// Back-ticks inside the query would end the code block early.
		q := strings.ReplaceAll(a.Query, "```", "'''")
		blocks = append(blocks, section("*Investigate* (ClickHouse)\n```"+clip(q, slackTextMax-40)+"```"))
	}
	ctx := "Finding `" + a.FindingID + "` · alert `" + a.ID + "`"
	if a.Link != "" {
		ctx += " · <" + a.Link + "|open>"
	}
	blocks = append(blocks, slackBlock{Type: "divider"}, slackBlock{Type: "context", Elements: []slackText{md(ctx)}})
	msg := slackMessage{Text: clip(esc(fmt.Sprintf("[%s] %s %s: %s", sev, a.RuleID, principal(a), a.Summary)), slackTextMax), Blocks: blocks}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // Slack's own escaping (esc) is what counts
	if err := enc.Encode(&msg); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func md(s string) slackText { return slackText{Type: "mrkdwn", Text: s} }

func section(s string) slackBlock {
	t := md(clip(s, slackTextMax))
	return slackBlock{Type: "section", Text: &t}
}

func reasonNote(a *Alert) string {
	switch a.Reason {
	case ReasonSeverityRose:
		if a.PreviousSeverity != nil {
			return " (was " + a.PreviousSeverity.String() + ")"
		}
		return " (rose)"
	case ReasonCountGrew:
		return " (count grew)"
	case ReasonWindowExpired:
		return " (still active)"
	}
	return ""
}

// principal is "user via app from addr", with missing parts left out.
func principal(a *Alert) string {
	p := a.Principal.User
	if p == "" {
		p = "(unknown user)"
	}
	if a.Principal.Application != "" {
		p += " via " + a.Principal.Application
	}
	if a.Principal.ClientAddr != "" {
		p += " from " + a.Principal.ClientAddr
	}
	return p
}

// esc escapes Slack's control characters (&, <, >).
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
