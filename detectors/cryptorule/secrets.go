package cryptorule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/classify"
	"roachwatch/pipeline/event"
)

// secretSeverity maps a secret type to the severity of its finding:
// credentials are critical, tokens that expire (JWT) and personal data are
// high. Types this version does not know are high.
func secretSeverity(typ string) detectors.Severity {
	switch typ {
	case classify.SecretDSNPassword, classify.SecretPrivateKey, classify.SecretAWSAccessKey, classify.SecretAWSSecretKey,
		classify.SecretGCPAPIKey, classify.SecretGitHubToken, classify.SecretSlackToken, classify.SecretStripeKey,
		classify.SecretDjangoKey, classify.SecretPassword:
		return detectors.SeverityCritical
	}
	if strings.HasPrefix(typ, "aws_") {
		return detectors.SeverityCritical
	}
	return detectors.SeverityHigh
}

// personalSecret reports secret types that are personal data rather than
// credentials.
func personalSecret(typ string) bool {
	return typ == classify.SecretSSN || typ == classify.SecretPAN || typ == classify.SecretIBAN
}

// secrets reports RW-CRYPTO-003 occurrences for ev's secrets: one per
// secret, grouped per source, host, type and field.
func (d *Detector) secrets(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	host := hostOf(ev)
	ws := detectors.WindowStart(ev.Time, d.window)
	for i := range ev.Secrets {
		s := &ev.Secrets[i]
		id := detectors.IncidentID(Rule003.ID, ws, ev.Cluster, ev.Source, host, s.Type, s.Field)
		f := detectors.Occurrence(Rule003, id, ev.Time, ev.ID)
		f.Principal = detectors.Principal{User: ev.User, ClientAddr: ev.ClientAddr, Application: ev.Application}
		f.SessionID = ev.SessionID
		f.Cluster, f.Node = ev.Cluster, host
		f.Severity = secretSeverity(s.Type)
		kind := "a credential"
		if personalSecret(s.Type) {
			kind = "personal data"
			f.Title = "Personal data in the clear in a log line"
		} else {
			f.Title = "Credential in the clear in a log line"
		}
		f.Details = map[string]string{"type": s.Type, "field": s.Field, "source": ev.Source}
		if ev.Logger != "" {
			f.Details["logger"] = ev.Logger
		}
		in := d.open.get(id, ws)
		if in != nil {
			f.Details["distinct_hashes"] = in.addHash(s.Hash)
			if ev.Channel != "" {
				// Every channel that logged it: each is a log file to purge.
				f.Details["channels"] = in.addClass(ev.Channel)
			}
		}
		where := "Django host " + orUnknown(host)
		if ev.Source == event.SourceCRDB {
			where = "CockroachDB node " + orUnknown(host)
		}
		f.Summary = fmt.Sprintf("A %s log line on %s carried %s (%s) in the clear in its %s field; it was kept only as type and keyed hash.",
			ev.Type, where, kind, s.Type, s.Field)
		if !personalSecret(s.Type) {
			f.Summary += " Rotate the credential: anyone who can read these logs can use it."
		}
		f.Query = in.cachedQuery(func() string { return secretsQuery(ev, host, s.Type, s.Field, ws, d.window) })
		out = append(out, f)
	}
	return out
}

// hostPredicate selects the events of host as hostOf named it.
func hostPredicate(ev *event.Event, host string) string {
	if ev.Node != "" || host == "" {
		return "node = " + detectors.Quote(host)
	}
	return "endsWith(origin_file, " + detectors.Quote(host) + ")"
}

// secretsQuery lists the host's log lines in the window that carried the
// secret type in the field (secrets is a Nested column in ClickHouse).
func secretsQuery(ev *event.Event, host, typ, field string, ws, window int64) string {
	match := "ty = " + detectors.Quote(typ) + " AND fi = " + detectors.Quote(field)
	return "SELECT time, type, channel, logger, origin_file, origin_offset, user, client_addr, session_id, " +
		"arrayFilter((h, ty, fi) -> " + match + ", `secrets.hash`, `secrets.type`, `secrets.field`) AS secret_hashes " +
		"FROM roachwatch.events WHERE source = " + detectors.Quote(ev.Source) + " AND " + hostPredicate(ev, host) +
		" AND arrayExists((ty, fi) -> " + match + ", `secrets.type`, `secrets.field`) AND " + windowRange(ws, window) + " ORDER BY time"
}

// maxDebugHosts bounds the Django hosts tracked for DEBUG SQL logging.
const maxDebugHosts = 4096

// debugHost counts one Django host's SQL debug lines in the current
// window. Occurrences are emitted at the 1st, 2nd, 4th, 8th ... line and
// the rest at the window's end or Finish, so a host logging every query
// costs a counter increment per line, not a finding.
type debugHost struct {
	ws, first, last int64
	firstID         string
	pending, sent   int64
	ev              debugRef
	query           string // built at the first flush of the window
}

// debugRef keeps what the finding needs from the host's first event.
type debugRef struct{ source, cluster, node, host, logger string }

const djangoSQLType = "django.sql"

// debugSQL counts a Django SQL debug line and may emit an occurrence.
func (d *Detector) debugSQL(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	host := hostOf(ev)
	ws := detectors.WindowStart(ev.Time, d.window)
	h := d.debug[host]
	if h != nil && h.ws != ws {
		out = d.flushDebug(h, out)
		h = nil
	}
	if h == nil {
		if len(d.debug) >= maxDebugHosts {
			clear(d.debug) // pending counts of idle hosts are lost; their findings exist already
		}
		h = &debugHost{ws: ws, first: ev.Time, firstID: ev.ID,
			ev: debugRef{source: ev.Source, cluster: ev.Cluster, node: ev.Node, host: host, logger: ev.Logger}}
		d.debug[host] = h
	}
	if h.pending == 0 {
		h.first, h.firstID = ev.Time, ev.ID
	}
	h.pending++
	h.last = ev.Time
	if h.pending >= h.sent || h.sent == 0 {
		out = d.flushDebug(h, out)
	}
	return out
}

// flushDebug emits the pending lines of h as one occurrence.
func (d *Detector) flushDebug(h *debugHost, out []detectors.Finding) []detectors.Finding {
	if h.pending == 0 {
		return out
	}
	id := detectors.IncidentID(Rule003.ID, h.ws, h.ev.cluster, h.ev.source, h.ev.host, "django_debug_sql")
	f := detectors.Occurrence(Rule003, id, h.first, h.firstID)
	f.Count = h.pending
	f.LastSeen = time.Unix(0, h.last).UTC()
	f.Severity = detectors.SeverityMedium
	f.Title = "Django SQL debug logging enabled (DEBUG=True)"
	f.Cluster, f.Node = h.ev.cluster, h.ev.host
	f.Principal = detectors.Principal{Application: "django"}
	f.Details = map[string]string{"type": "django_debug_sql", "logger": h.ev.logger, "host": h.ev.host}
	f.Summary = "Django on " + orUnknown(h.ev.host) + " logs every SQL statement with its parameters through " +
		"django.db.backends, which Django does only when settings.DEBUG is True: DEBUG must be False in production " +
		"(it also exposes tracebacks and settings on error pages)."
	if h.query == "" {
		h.query = d.debugQuery(h)
	}
	f.Query = h.query
	h.sent += h.pending
	h.pending = 0
	return append(out, f)
}

func (d *Detector) debugQuery(h *debugHost) string {
	ref := event.Event{Source: h.ev.source, Node: h.ev.node}
	return "SELECT toStartOfHour(time) AS hour, count() AS statements, countIf(notEmpty(`values.hash`)) AS with_values, " +
		"countIf(notEmpty(`secrets.hash`)) AS with_secrets FROM roachwatch.events WHERE type = " + detectors.Quote(djangoSQLType) +
		" AND " + hostPredicate(&ref, h.ev.host) + " AND " + windowRange(h.ws, d.window) + " GROUP BY hour ORDER BY hour"
}

// Finish emits the Django SQL debug lines not yet reported.
func (d *Detector) Finish(_ int64, out []detectors.Finding) []detectors.Finding {
	hosts := make([]string, 0, len(d.debug))
	for host := range d.debug {
		hosts = append(hosts, host)
	}
	// Deterministic order, so replays emit identical streams.
	slices.Sort(hosts)
	for _, host := range hosts {
		out = d.flushDebug(d.debug[host], out)
	}
	return out
}
