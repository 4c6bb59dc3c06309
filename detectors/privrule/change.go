package privrule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

type changeKind uint8

const (
	kindRoleGrant   changeKind = iota + 1 // GRANT role TO member
	kindRoleOption                        // CREATE/ALTER ROLE ... WITH option
	kindObjectGrant                       // GRANT privilege ON object TO grantee
)

var kindNames = map[changeKind]string{kindRoleGrant: "role_grant", kindRoleOption: "role_option", kindObjectGrant: "object_grant"}

// change is one grant or role change, from a structured event or parsed
// from a statement fingerprint.
type change struct {
	kind     changeKind
	what     []string // roles granted, role options, or privileges
	targets  []string // members, the role altered, or grantees
	object   string   // object of a privilege grant
	objects  []string // every object of a multi-object GRANT (fingerprint only)
	table    bool     // object is a table (or unknown kind, from a fingerprint)
	fallback bool     // parsed from a fingerprint
}

// verdict is what judge found escalating in a change.
type verdict struct {
	severity  detectors.Severity
	matched   []string // the powerful roles, options or privileges
	appTarget []string // application principals receiving them
	public    bool
	sensitive bool
	signature string // content key shared by every event of one statement
}

// judge decides whether c, run by ev.User, is an escalation.
func (d *Detector) judge(ev *event.Event, c *change) (verdict, bool) {
	var v verdict
	for _, t := range c.targets {
		if d.apps[strings.ToLower(t)] {
			v.appTarget = append(v.appTarget, t)
		}
	}
	switch c.kind {
	case kindRoleGrant:
		for _, r := range c.what {
			if d.powerful[strings.ToLower(r)] {
				v.matched = append(v.matched, r)
			}
		}
		if len(v.matched) == 0 && len(v.appTarget) == 0 {
			return v, false
		}
		if len(v.matched) == 0 {
			v.matched = c.what
		}
	case kindRoleOption:
		for _, o := range c.what {
			if d.options[strings.ToLower(o)] {
				v.matched = append(v.matched, strings.ToUpper(o))
			}
		}
		if len(v.matched) == 0 {
			return v, false
		}
	case kindObjectGrant:
		for _, p := range c.what {
			p = strings.ToLower(p)
			if p == "all privileges" {
				p = "all"
			}
			if d.privileges[p] {
				v.matched = append(v.matched, strings.ToUpper(p))
			}
		}
		v.public = slices.ContainsFunc(c.targets, func(t string) bool { return strings.EqualFold(t, "public") })
		v.sensitive = c.table && d.sensitiveTable(c.object)
		for _, o := range c.objects {
			if !v.sensitive && c.table && d.sensitiveTable(o) {
				v.sensitive, c.object = true, o
			}
		}
		if len(v.matched) == 0 || !v.sensitive && !v.public {
			return v, false
		}
	default:
		return v, false
	}
	actorApp := d.apps[strings.ToLower(ev.User)]
	switch {
	case c.kind == kindObjectGrant && v.public && len(v.appTarget) == 0 && !actorApp:
		v.severity = detectors.SeverityMedium // every role gains it; critical on a sensitive table
		if v.sensitive {
			v.severity = detectors.SeverityCritical
		}
	case actorApp || len(v.appTarget) > 0:
		v.severity = detectors.SeverityCritical
	case d.ops[strings.ToLower(ev.User)]:
		v.severity = detectors.SeverityMedium
	default:
		v.severity = detectors.SeverityHigh
	}
	v.signature = signature(c, v.matched)
	return v, true
}

// signature is the same for a statement's structured event and its
// SQL_EXEC / TELEMETRY copies: kind, matched items, targets, short object.
func signature(c *change, matched []string) string {
	norm := func(list []string) string {
		l := make([]string, len(list))
		for i, s := range list {
			l[i] = strings.ToLower(s)
		}
		slices.Sort(l)
		return strings.Join(l, ",")
	}
	return kindNames[c.kind] + "|" + norm(matched) + "|" + norm(c.targets) + "|" + shortName(c.object)
}

// shortName is the last component of a qualified name, without quotes.
func shortName(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, `"`, ""))
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func (d *Detector) sensitiveTable(object string) bool {
	o := strings.ToLower(strings.ReplaceAll(object, `"`, ""))
	for _, t := range d.tables {
		if o == t || strings.HasSuffix(o, "."+t) {
			return true
		}
	}
	return false
}

func (d *Detector) finding(ev *event.Event, c *change, v verdict) detectors.Finding {
	ws := detectors.WindowStart(ev.Time, d.window)
	f := detectors.Occurrence(Rule001, detectors.IncidentID(Rule001.ID, ws, ev.Cluster, ev.User), ev.Time, ev.ID)
	f.Severity = v.severity
	f.Principal = detectors.Principal{User: ev.User, ClientAddr: ev.ClientAddr, Application: ev.Application}
	f.SessionID, f.Cluster, f.Node = ev.SessionID, ev.Cluster, ev.Node
	f.Fingerprint, f.FingerprintHash = ev.Fingerprint, ev.FingerprintHash
	targets := strings.Join(c.targets, ", ")
	matched := strings.Join(v.matched, ", ")
	var what string
	switch c.kind {
	case kindRoleGrant:
		what = fmt.Sprintf("granted role %s to %s", matched, targets)
	case kindRoleOption:
		what = fmt.Sprintf("gave role %s the option(s) %s", targets, matched)
	case kindObjectGrant:
		what = fmt.Sprintf("granted %s on %s to %s", matched, c.object, targets)
		f.Tables = []string{c.object}
	}
	source := ev.Type + " event"
	if c.fallback {
		source = ev.Type + " statement fingerprint (structured event not seen)"
	}
	f.Details = map[string]string{
		"change " + v.signature: what,
		"source":                source,
		"actor_kind":            d.principalKind(ev.User),
		"expected":              "application principals (" + strings.Join(d.cfg.AppUsers, ", ") + ") never gain roles, role options or privileges at run time; powerful roles and options are held by operators only",
		"seen":                  fmt.Sprintf("%s %s (%s)", ev.User, what, source),
	}
	if len(v.appTarget) > 0 {
		f.Details["application_grantees"] = strings.Join(v.appTarget, ", ")
	}
	switch {
	case v.severity == detectors.SeverityCritical && (len(v.appTarget) > 0 || d.apps[strings.ToLower(ev.User)]):
		f.Title = "Privilege escalation of an application principal"
		f.Summary = fmt.Sprintf("%s %s: an application principal gained (or handed out) powerful privileges; a compromised app can now do anything they allow.", ev.User, what)
	case v.public:
		f.Title = "Privileges granted to public"
		f.Summary = fmt.Sprintf("%s %s: every role, including the application users, now holds them.", ev.User, what)
	default:
		f.Summary = fmt.Sprintf("%s (%s) %s: review that this change was intended.", ev.User, d.principalKind(ev.User), what)
	}
	from := time.Unix(0, ws).UTC()
	f.Query = "SELECT time, node, type, user, client_addr, session_id, application, statement_tag, fingerprint, role_name, roles, members, grantee, granted_privileges, object " +
		"FROM roachwatch.events WHERE (user = " + detectors.Quote(ev.User) +
		" OR has(members, " + detectors.Quote(firstOr(c.targets)) + ") OR grantee = " + detectors.Quote(firstOr(c.targets)) +
		") AND (statement_tag IN ('GRANT', 'REVOKE', 'CREATE ROLE', 'CREATE USER', 'ALTER ROLE', 'ALTER USER') OR type IN ('grant_role', 'create_role', 'alter_role') OR type LIKE 'change_%_privilege') AND " +
		detectors.TimeRange(from, from.Add(time.Duration(d.window))) + " ORDER BY time"
	return f
}

func firstOr(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func (d *Detector) principalKind(user string) string {
	switch u := strings.ToLower(user); {
	case d.apps[u]:
		return "application principal"
	case d.ops[u]:
		return "operator"
	}
	return "other principal"
}
