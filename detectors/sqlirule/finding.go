package sqlirule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// classText says in words what each class means, for summaries.
var classText = map[string]string{
	ClassStacked:    "a second statement stacked after ';'",
	ClassUnion:      "UNION SELECT / ORDER BY column probing",
	ClassTime:       "a time-based probe (sleep or heavy query)",
	ClassErrorBased: "an error-based extraction (forced conversion error or spliced subquery)",
	ClassTautology:  "a tautology (OR 1=1-style constant predicate)",
	ClassQuoteBreak: "a broken string literal (input closed a quote)",
	ClassComment:    "a comment truncating the statement after a literal",
	ClassCatalog:    "a read of the system catalogs",
	ClassErrorBurst: "a burst of syntax / undefined-object errors",
}

// base fills what every occurrence of the incident shares.
func (d *Detector) base(ev *event.Event, inc *incident) detectors.Finding {
	f := detectors.Occurrence(Rule001, inc.id, ev.Time, ev.ID)
	app := ev.Application
	if app == "" && ev.Source == event.SourceDjango {
		app = "django"
	}
	f.Principal = detectors.Principal{User: ev.User, ClientAddr: ev.ClientAddr, Application: app}
	f.SessionID = ev.SessionID
	f.Cluster, f.Node = ev.Cluster, ev.Node
	f.Fingerprint, f.FingerprintHash = ev.Fingerprint, ev.FingerprintHash
	f.Tables = ev.Tables
	f.Columns = ev.SensitiveColumns
	f.Details = map[string]string{"classes": inc.classes.String(), "source": ev.Source, "window": d.cfg.Window.String()}
	if s := d.statesString(inc); s != "" {
		f.Details["sqlstates"] = s
	}
	if ev.Route != "" {
		f.Details["route"] = ev.Route
	}
	end := time.Unix(0, inc.windowStart+d.window).UTC()
	f.Query = query(ev, time.Unix(0, inc.windowStart).UTC(), end)
	return f
}

// occurrence reports one event of the incident: a signature (cs), an
// error that completed a burst (b), or an error while the incident is open.
func (d *Detector) occurrence(ev *event.Event, inc *incident, cs classSet, idx int, b burstHit) detectors.Finding {
	if idx >= 0 {
		dup := inc.lastErrShape == ev.FingerprintHash && inc.lastErrType != ev.Type && ev.Time-inc.lastErrT <= int64(time.Second)
		if !dup {
			inc.states[idx]++
		}
		inc.lastErrShape, inc.lastErrT, inc.lastErrType = ev.FingerprintHash, ev.Time, ev.Type
	}
	f := d.base(ev, inc)
	who := principalText(ev)
	switch {
	case cs&^cErrorBurst != 0:
		f.Details["signature"] = (cs &^ cErrorBurst).first()
		f.Summary = fmt.Sprintf("SQL injection signature from %s: %s in a statement on %s. User input reached the SQL text.",
			who, classText[(cs&^cErrorBurst).first()], orNone(strings.Join(ev.Tables, ", ")))
	case cs&cErrorBurst != 0:
		f.Summary = fmt.Sprintf("SQL injection probing from %s: %s.", who, b.desc)
	default:
		f.Details["signature"] = "error_during_incident"
		f.Summary = fmt.Sprintf("SQL error %s from %s while an injection incident is open.", sqlState(ev), who)
	}
	if b.hit {
		f.Details["error_burst"] = b.desc
		f.Evidence = appendIDs(b.ids, ev.ID)
		f.FirstSeen = time.Unix(0, min(b.first, ev.Time)).UTC()
	}
	if cs&cUnion != 0 && len(ev.SensitiveColumns) > 0 {
		outcome := "the outcome was not logged"
		switch {
		case ev.SQLState != "":
			outcome = "it failed with SQLSTATE " + ev.SQLState
		case ev.Source == event.SourceCRDB:
			outcome = "it succeeded (" + strconv.FormatInt(ev.Rows, 10) + " rows)"
		}
		f.Severity = detectors.SeverityCritical
		f.Title = "SQL injection: UNION read of sensitive columns"
		f.Summary = fmt.Sprintf("SQL injection from %s: a UNION SELECT read the sensitive column(s) %s; %s.",
			who, strings.Join(ev.SensitiveColumns, ", "), outcome)
	}
	return f
}

// escalation reports the first successful sensitive read after a signature.
func (d *Detector) escalation(ev *event.Event, inc *incident) detectors.Finding {
	f := d.base(ev, inc)
	f.Severity = detectors.SeverityCritical
	f.Title = "SQL injection followed by a read of sensitive data"
	f.Details["signature"] = "sensitive_read_after_signature"
	f.Details["after"] = time.Duration(ev.Time - inc.lastSig).String()
	f.Summary = fmt.Sprintf("%s successfully read the sensitive column(s) %s %s after an SQL injection signature (%s): the injection may have exposed this data.",
		principalText(ev), strings.Join(ev.SensitiveColumns, ", "), time.Duration(ev.Time-inc.lastSig).Round(time.Millisecond), inc.classes)
	return f
}

// describeBurst renders a burst: count, SQLSTATEs, window, key.
func (d *Detector) describeBurst(es []errEntry, by string) string {
	var counts [maxSQLStates]int
	for _, e := range es {
		if e.state >= 0 && int(e.state) < maxSQLStates {
			counts[e.state]++
		}
	}
	return fmt.Sprintf("%d errors (%s) within %s from %s, %d distinct statement shapes", len(es),
		d.countsString(counts[:]), d.cfg.ErrorWindow, by, distinctShapes(es))
}

// statesString renders the incident's SQLSTATE counts: "42601=3,42703=1".
func (d *Detector) statesString(inc *incident) string {
	var counts [maxSQLStates]int
	for i, n := range inc.states {
		counts[i] = int(n)
	}
	return d.countsString(counts[:])
}

func (d *Detector) countsString(counts []int) string {
	var b strings.Builder
	for i, st := range d.cfg.ErrorSQLStates {
		if i >= len(counts) || counts[i] == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(st + "=" + strconv.Itoa(counts[i]))
	}
	return b.String()
}

// query is the analyst's investigation query: every event of the
// principal (or, for Django lines, of the route) in the incident window.
func query(ev *event.Event, from, to time.Time) string {
	var where []string
	if ev.User != "" {
		where = append(where, "user = "+detectors.Quote(ev.User))
	}
	if ev.ClientAddr != "" {
		where = append(where, "client_addr = toIPv6("+detectors.Quote(ev.ClientAddr)+")")
	}
	if len(where) == 0 {
		where = append(where, "source = "+detectors.Quote(ev.Source))
		if ev.Route != "" {
			where = append(where, "(route = "+detectors.Quote(ev.Route)+" OR type = 'django.request')")
		}
	}
	where = append(where, detectors.TimeRange(from, to))
	return "SELECT time, source, type, session_id, application, statement_tag, sqlstate, fingerprint, tables, " +
		"sensitive_columns, rows, error_text FROM roachwatch.events WHERE " + strings.Join(where, " AND ") +
		" AND (fingerprint != '' OR sqlstate != '' OR type = 'django.request') ORDER BY time"
}

func principalText(ev *event.Event) string {
	switch {
	case ev.User != "" && ev.ClientAddr != "":
		return "user " + ev.User + " at " + ev.ClientAddr
	case ev.User != "":
		return "user " + ev.User
	case ev.ClientAddr != "":
		return "client " + ev.ClientAddr
	}
	return "the Django application (its SQL log names no database user)"
}

func appendIDs(ids []string, id string) []string {
	out := make([]string, 0, len(ids)+1)
	for _, x := range ids {
		if x != id && len(out) < detectors.MaxEvidence-1 {
			out = append(out, x)
		}
	}
	return append(out, id)
}

func orNone(s string) string {
	if s == "" {
		return "(no table)"
	}
	return s
}
