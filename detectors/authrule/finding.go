package authrule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
)

// maxListed caps the users, addresses and reasons an incident lists.
const maxListed = 32

func addListed(list []string, s string) []string {
	if s == "" || len(list) >= maxListed || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// finding builds an occurrence of the incident inc of key k spanning
// [first, last], with the incident's current totals in Details (the
// aggregator keeps the newest values).
func (d *Detector) finding(k key, inc *incident, first, last int64, eventID string) detectors.Finding {
	f := detectors.Occurrence(Rule001, inc.id, last, eventID)
	f.FirstSeen = time.Unix(0, first).UTC()
	f.Cluster, f.Node, f.SessionID = inc.cluster, inc.node, inc.lastSession
	f.Principal = detectors.Principal{User: k.user, ClientAddr: k.addr, Application: inc.app}
	span := time.Duration(inc.last - inc.start).Round(time.Second)
	f.Details = map[string]string{
		"pattern":         patternNames[k.kind],
		"attempts":        strconv.FormatInt(inc.attempts, 10),
		"distinct_users":  strconv.Itoa(len(inc.users)),
		"distinct_addrs":  strconv.Itoa(len(inc.addrs)),
		"users":           strings.Join(inc.users, ","),
		"client_addrs":    strings.Join(inc.addrs, ","),
		"failure_reasons": strings.Join(inc.reasons, ","),
		"expected":        d.expected(k.kind),
		"seen":            fmt.Sprintf("%d failed attempts (%d users, %d addresses) in %s", inc.attempts, len(inc.users), len(inc.addrs), span),
	}
	f.Summary = d.burstText(k, inc)
	f.Query = d.query(k, inc)
	return f
}

var patternNames = [...]string{
	"brute force: one user from one client address",
	"password spraying: many users from one client address",
	"distributed brute force: one user from many client addresses",
}

func (d *Detector) expected(k kind) string {
	switch k {
	case kindAddr:
		return fmt.Sprintf("fewer than %d distinct users failing from one address in %s", d.cfg.SprayUsers, d.cfg.SprayWindow)
	case kindUser:
		return fmt.Sprintf("fewer than %d failed attempts for one user from %d or more addresses in %s", d.cfg.UserThreshold, d.cfg.UserMinAddrs, d.cfg.UserWindow)
	}
	return fmt.Sprintf("fewer than %d failed attempts per user and client address in %s", d.cfg.Threshold, d.cfg.Window)
}

func (d *Detector) burstText(k key, inc *incident) string {
	span := time.Duration(inc.last - inc.start).Round(time.Second)
	switch k.kind {
	case kindAddr:
		return fmt.Sprintf("Password spraying: %d failed logins for %d different users from %s within %s (threshold %d users in %s).",
			inc.attempts, len(inc.users), k.addr, span, d.cfg.SprayUsers, d.cfg.SprayWindow)
	case kindUser:
		return fmt.Sprintf("Distributed brute force: %d failed logins for %s from %d addresses within %s (threshold %d attempts in %s).",
			inc.attempts, k.user, len(inc.addrs), span, d.cfg.UserThreshold, d.cfg.UserWindow)
	}
	return fmt.Sprintf("Brute force: %d failed logins for %s from %s within %s (threshold %d in %s; reasons %s).",
		inc.attempts, k.user, k.addr, span, d.cfg.Threshold, d.cfg.Window, strings.Join(inc.reasons, ", "))
}

// query lists the burst's authentication events and what any session of
// the principal did afterwards.
func (d *Detector) query(k key, inc *incident) string {
	from := time.Unix(0, inc.start).UTC()
	to := time.Unix(0, inc.last).UTC().Add(d.cfg.SuccessWindow)
	var where []string
	if k.user != "" {
		where = append(where, "user = "+detectors.Quote(k.user))
	}
	if k.addr != "" {
		where = append(where, "client_addr = "+detectors.Quote(k.addr))
	}
	return "SELECT time, node, type, user, client_addr, session_id, application, auth_method, auth_failure, fingerprint FROM roachwatch.events WHERE " +
		strings.Join(where, " AND ") + " AND " + detectors.TimeRange(from, to) + " ORDER BY time"
}
