package anomaly

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
)

// occurrence starts a finding of rule r for o keyed by parts in the
// window starting at ws.
func (d *Detector) occurrence(o *obs, r detectors.Rule, ws int64, parts ...string) detectors.Finding {
	ev := o.ev
	key := append([]string{o.cluster, o.user}, parts...)
	f := detectors.Occurrence(r, detectors.IncidentID(r.ID, ws, key...), ev.Time, ev.ID)
	f.Principal = detectors.Principal{User: o.user, ClientAddr: ev.ClientAddr, Application: ev.Application}
	f.SessionID = ev.SessionID
	f.Cluster, f.Node = ev.Cluster, ev.Node
	if ev.Fingerprint != "" {
		f.Fingerprint, f.FingerprintHash = ev.Fingerprint, ev.FingerprintHash
	}
	f.Tables = clip(ev.Tables)
	f.Columns = clip(ev.SensitiveColumns)
	f.Details = map[string]string{"history_events": strconv.FormatUint(uint64(o.p.events), 10),
		"principal_first_seen": ts(o.p.first)}
	return f
}

func clip(s []string) []string {
	if len(s) > 8 {
		s = s[:8]
	}
	return append([]string(nil), s...)
}

func ts(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339Nano) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

func (d *Detector) ws(t int64) int64 { return detectors.WindowStart(t, d.window) }

func (d *Detector) bigRead(o *obs, metric string, n int64, b *est, lim float64, basis, what string) detectors.Finding {
	f := d.occurrence(o, Rule001, d.ws(o.ev.Time))
	noun := "returned"
	if metric == "rows_read" {
		noun = "read from storage"
	}
	f.Summary = fmt.Sprintf("%s %s %d rows in one statement; its baseline for this %s is a median of %s rows (anomalous above %s): "+
		"a read this far above the principal's own history is how bulk exfiltration looks.", o.user, noun, n, basis, num(b.median()), num(lim))
	f.Details["metric"] = metric
	f.Details["seen"] = strconv.FormatInt(n, 10) + " " + metric
	f.Details["expected"] = "<= " + num(lim) + " " + metric + " (median " + num(b.median()) + ")"
	f.Details["expected_median"] = num(b.median())
	f.Details["expected_spread_log2"] = strconv.FormatFloat(float64(b.scale), 'f', 2, 32)
	f.Details["threshold"] = num(lim)
	f.Details["baseline"] = basis
	f.Details["baseline_samples"] = strconv.FormatUint(uint64(b.n), 10)
	if basis == "table" {
		f.Details["baseline_table"] = what
	}
	f.Query = d.query(o, "fingerprint_hash = "+strconv.FormatUint(o.ev.FingerprintHash, 10)+" OR rows >= "+strconv.FormatInt(d.cfg.MinRows, 10)+
		" OR rows_read >= "+strconv.FormatInt(d.cfg.MinRows, 10), time.Unix(0, o.ev.Time).UTC(), 24*time.Hour)
	return f
}

func (d *Detector) firstFullScan(o *obs, table string) detectors.Finding {
	f := d.occurrence(o, Rule001, d.ws(o.ev.Time))
	f.Summary = fmt.Sprintf("%s ran a full table scan of sensitive table %s (%d rows returned) for the first time in %d events of history: "+
		"whole-table reads of sensitive data by a principal that never did them are a bulk-exfiltration signal.", o.user, table, o.ev.Rows, o.p.events)
	// full_scan_* survive a merge with a rows occurrence of the same
	// incident, which reports after this one and overwrites seen/expected.
	f.Details["full_scan_seen"] = "full table scan of " + table + " (" + strconv.FormatInt(o.ev.Rows, 10) + " rows returned)"
	f.Details["full_scan_expected"] = "no full scan of " + table + " (none in the principal's history)"
	f.Details["seen"], f.Details["expected"] = f.Details["full_scan_seen"], f.Details["full_scan_expected"]
	f.Query = d.query(o, "full_table_scan AND has(tables, "+detectors.Quote(table)+")", time.Unix(0, o.ev.Time).UTC(), 7*24*time.Hour)
	return f
}

func (d *Detector) newShape(o *obs, why string) detectors.Finding {
	f := d.occurrence(o, Rule002, d.ws(o.ev.Time))
	f.Summary = fmt.Sprintf("Application principal %s (%s) ran a statement shape it never ran in %d statements of history. ORM traffic has a finite set "+
		"of shapes: a new shape from the app user is a strong injection/compromise signal.", o.user, why, o.p.stmts)
	f.Details["seen"] = "new fingerprint " + strconv.FormatUint(o.ev.FingerprintHash, 10)
	f.Details["expected"] = fmt.Sprintf("one of the %d known shapes", len(o.p.fps))
	f.Details["app_principal"] = why
	f.Details["statements_since_last_new_shape"] = strconv.FormatUint(uint64(o.p.stmts-o.p.lastNewFP), 10)
	f.Query = d.query(o, "fingerprint_hash = "+strconv.FormatUint(o.ev.FingerprintHash, 10), time.Unix(0, o.ev.Time).UTC(), 7*24*time.Hour)
	return f
}

func (d *Detector) spike(o *obs) detectors.Finding {
	p := o.p
	f := d.occurrence(o, Rule003, d.ws(o.ev.Time))
	start := time.Unix(0, p.minute*minuteNS).UTC()
	f.Summary = fmt.Sprintf("%s issued more than %d events in the minute starting %s; its busy minutes have a median of %s events "+
		"(spike threshold %d).", o.user, p.rateLimit, start.Format("15:04"), num(p.rate.median()), p.rateLimit)
	f.Details["seen"] = fmt.Sprintf("> %d events in minute %s", p.rateLimit, start.Format(time.RFC3339))
	f.Details["expected"] = fmt.Sprintf("<= %d events per minute (median %s)", p.rateLimit, num(p.rate.median()))
	f.Details["expected_median"] = num(p.rate.median())
	f.Details["expected_spread_log2"] = strconv.FormatFloat(float64(p.rate.scale), 'f', 2, 32)
	f.Details["threshold"] = strconv.FormatUint(uint64(p.rateLimit), 10)
	f.Details["baseline_minutes"] = strconv.FormatUint(uint64(p.rate.n), 10)
	f.Query = d.query(o, "1", start, time.Minute)
	return f
}

var weekdays = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

func (d *Detector) offHours(o *obs, bin int, share float64, week bool) detectors.Finding {
	hour := floorDiv(o.ev.Time, hourNS)
	f := d.occurrence(o, Rule004, hour*hourNS, strconv.Itoa(bin))
	slot := fmt.Sprintf("%s %02d:00 UTC", weekdays[bin/24], bin%24)
	profile := "hour-of-week"
	if !week {
		slot = fmt.Sprintf("%02d:00 UTC", bin%24)
		profile = "hour-of-day (less than a week of history)"
	}
	f.Summary = fmt.Sprintf("%s was active at %s, an hour its %s profile practically never shows (%.3f%% of %d events, hour +-1).",
		o.user, slot, profile, 100*share, o.p.events)
	f.Details["seen"] = "activity at " + slot
	f.Details["expected"] = fmt.Sprintf("at least %.3f%% of the profile at this hour +-1", 100*d.cfg.OffHoursRatio)
	f.Details["seen_share"] = strconv.FormatFloat(share, 'f', 5, 64)
	f.Details["threshold_share"] = strconv.FormatFloat(d.cfg.OffHoursRatio, 'f', 5, 64)
	f.Details["profile"] = profile
	f.Query = d.query(o, "1", time.Unix(0, hour*hourNS).UTC(), time.Hour)
	return f
}

func (d *Detector) origin(o *obs, kind uint8, v string, sev detectors.Severity) detectors.Finding {
	f := d.occurrence(o, Rule005, d.ws(o.ev.Time), kindNames[kind], v)
	f.Severity = sev
	n := 0
	for _, it := range o.p.items {
		if it.kind == kind {
			n++
		}
	}
	f.Title = "Known principal from a new client " + kindNames[kind]
	f.Summary = fmt.Sprintf("%s, known for %d events, used client %s %s for the first time (it used %d other %s before).",
		o.user, o.p.events, kindNames[kind], v, n, plural(kindNames[kind]))
	f.Details["seen"] = kindNames[kind] + " " + v
	f.Details["expected"] = fmt.Sprintf("one of %d known %s", n, plural(kindNames[kind]))
	f.Details["kind"] = kindNames[kind]
	cond := "client_addr = " + detectors.Quote(o.ev.ClientAddr)
	if kind == kindApp {
		cond = "application = " + detectors.Quote(v)
	}
	f.Query = d.query(o, cond, time.Unix(0, o.ev.Time).UTC(), 24*time.Hour)
	return f
}

func (d *Detector) neverSeen(o *obs) detectors.Finding {
	p := o.p
	f := d.occurrence(o, Rule006, p.first)
	f.FirstSeen = time.Unix(0, p.first).UTC()
	if p.firstID != "" && p.firstID != o.ev.ID {
		f.Evidence = append([]string{p.firstID}, f.Evidence...)
	}
	what := strings.Join(o.ev.SensitiveColumns, ", ")
	if what == "" {
		what = "audited table " + strings.Join(append(clip(o.ev.Tables), o.ev.Object), " ")
	}
	f.Summary = fmt.Sprintf("%s was never seen before %s (after the warm-up) and touched %s.", o.user, ts(p.first), strings.TrimSpace(what))
	f.Details["seen"] = "new principal touching " + strings.TrimSpace(what)
	f.Details["expected"] = "only principals seen before the warm-up ended, or introduced by change control"
	f.Query = d.query(o, "1", time.Unix(0, p.first).UTC(), 24*time.Hour)
	return f
}

// query is the investigation query: the principal's events matching cond
// around t.
func (d *Detector) query(o *obs, cond string, t time.Time, span time.Duration) string {
	q := "SELECT time, type, session_id, client_addr, application, fingerprint, tables, sensitive_columns, rows, rows_read, full_table_scan " +
		"FROM roachwatch.events WHERE user = " + detectors.Quote(o.user)
	if o.cluster != "" {
		q += " AND cluster = " + detectors.Quote(o.cluster)
	}
	return q + " AND (" + cond + ") AND " + detectors.TimeRange(t, t.Add(span)) + " ORDER BY time"
}

func plural(s string) string {
	if strings.HasSuffix(s, "s") {
		return s + "es"
	}
	return s + "s"
}
