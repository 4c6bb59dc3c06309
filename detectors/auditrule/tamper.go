package auditrule

import (
	"fmt"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// maxTampers is how many recent tamper incidents silences can join.
const maxTampers = 32

// change is one tamper action found in an event.
type change struct {
	severity  detectors.Severity
	what      string // human description
	detail    string // Details key
	table     string
	signature string // shared by every event of one statement
}

// tamper remembers a reported tamper incident so a silence that follows
// can join it.
type tamper struct {
	time      int64
	id        string
	cluster   string
	principal detectors.Principal
	severity  detectors.Severity
	summary   string
}

// tamperOf reports whether ev switches audit logging off or loosens
// authentication.
func (d *Detector) tamperOf(ev *event.Event) (change, bool) {
	if ev.Type == "set_cluster_setting" {
		return d.settingChange(ev)
	}
	if ev.StatementTag != "ALTER TABLE" && ev.Type != "alter_table" {
		return change{}, false
	}
	fp := strings.ToLower(ev.Fingerprint)
	i := strings.Index(fp, " experimental_audit set off")
	if i < 0 || !strings.HasPrefix(fp, "alter table ") {
		return change{}, false
	}
	table := strings.TrimSpace(fp[len("alter table "):i])
	table = strings.TrimPrefix(table, "if exists ")
	table = strings.ReplaceAll(table, `"`, "")
	table = strings.TrimLeft(table, ".") // `"".""`.patients from an unqualified name
	c := change{severity: detectors.SeverityHigh, table: table, detail: "audit_off " + table,
		what: "turned table auditing off on " + table + " (ALTER TABLE ... EXPERIMENTAL_AUDIT SET OFF)", signature: "audit|" + table}
	if d.sensitive(table) {
		c.severity = detectors.SeverityCritical
		c.what += ", a sensitive table"
	}
	return c, true
}

func (d *Detector) sensitive(table string) bool {
	for _, t := range d.tables {
		if table == t || strings.HasSuffix(table, "."+t) {
			return true
		}
	}
	return false
}

func isOff(v string) bool {
	switch v {
	case "false", "off", "0", "f", "no":
		return true
	}
	return false
}

func (d *Detector) settingChange(ev *event.Event) (change, bool) {
	name := strings.ToLower(ev.SettingName)
	raw := strings.TrimSpace(ev.SettingValue)
	v := strings.ToLower(strings.Trim(raw, `'" `))
	c := change{detail: "setting " + name, signature: "setting|" + name + "|" + v}
	switch {
	case d.logging[name] && isOff(v):
		c.severity, c.what = detectors.SeverityHigh, fmt.Sprintf("switched %s off (= %s)", name, raw)
	case d.low[name] && isOff(v):
		c.severity, c.what = detectors.SeverityLow, fmt.Sprintf("switched %s off (= %s)", name, raw)
	case name == "sql.log.user_audit" && userAuditOff(v):
		c.severity, c.what = detectors.SeverityHigh, fmt.Sprintf("emptied role-based audit logging (sql.log.user_audit = %s)", orEmpty(raw))
	case name == "server.host_based_authentication.configuration":
		cluster := ev.Cluster
		prev, known := d.hba[cluster]
		if len(d.hba) < 64 || known {
			d.hba[strings.Clone(cluster)] = strings.Clone(v)
		}
		added := hbaLoosening(v, prev)
		if len(added) == 0 {
			return change{}, false
		}
		c.severity = detectors.SeverityHigh
		if strings.Contains(strings.Join(added, " "), "trust") {
			c.severity = detectors.SeverityCritical
		}
		c.what = "loosened the HBA configuration: " + strings.Join(added, "; ")
	default:
		return change{}, false
	}
	return c, true
}

// userAuditOff: an empty config, or one whose every rule is NONE.
func userAuditOff(v string) bool {
	if v == "" || v == "none" {
		return true
	}
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[len(f)-1] != "none" {
			return false
		}
	}
	return true
}

// hbaLoosening lists the rules of cur that accept connections without TLS
// (hostnossl) or without authentication (trust) and were not in prev.
func hbaLoosening(cur, prev string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(cur, `\n`, "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		loose := f[0] == "hostnossl"
		for _, w := range f[1:] {
			loose = loose || w == "trust"
		}
		if loose && !strings.Contains(prev, line) {
			out = append(out, "'"+line+"'")
		}
	}
	return out
}

func orEmpty(s string) string {
	if s == "" {
		return "''"
	}
	return s
}

func (d *Detector) tamperFinding(ev *event.Event, c *change) detectors.Finding {
	ws := detectors.WindowStart(ev.Time, d.window)
	id := detectors.IncidentID(Rule001.ID, ws, ev.Cluster, ev.User)
	f := detectors.Occurrence(Rule001, id, ev.Time, ev.ID)
	f.Severity = c.severity
	f.Principal = detectors.Principal{User: ev.User, ClientAddr: ev.ClientAddr, Application: ev.Application}
	f.SessionID, f.Cluster, f.Node = ev.SessionID, ev.Cluster, ev.Node
	f.Fingerprint, f.FingerprintHash = ev.Fingerprint, ev.FingerprintHash
	if c.table != "" {
		f.Tables = []string{c.table}
	}
	f.Summary = fmt.Sprintf("%s %s: what happens next may leave no trace in the logs.", ev.User, c.what)
	f.Details = map[string]string{
		c.detail:   c.what,
		"expected": "audit, authentication and statement logging stay on; HBA rules require TLS and a credential",
		"seen":     fmt.Sprintf("%s %s at %s", ev.User, c.what, time.Unix(0, ev.Time).UTC().Format(time.RFC3339Nano)),
	}
	from := time.Unix(0, ws).UTC()
	f.Query = "SELECT time, node, channel, type, user, client_addr, session_id, application, fingerprint, setting_name, setting_value, object " +
		"FROM roachwatch.events WHERE (user = " + detectors.Quote(ev.User) + " OR type IN ('set_cluster_setting', 'sensitive_table_access') OR statement_tag = 'ALTER TABLE') AND " +
		detectors.TimeRange(from, from.Add(2*time.Duration(d.window))) + " ORDER BY time"
	d.tampers[d.nTamper%maxTampers] = tamper{time: ev.Time, id: id, cluster: strings.Clone(ev.Cluster),
		principal: detectors.Principal{User: strings.Clone(ev.User), ClientAddr: strings.Clone(ev.ClientAddr), Application: strings.Clone(ev.Application)},
		severity:  c.severity, summary: f.Summary}
	d.nTamper++
	return f
}
