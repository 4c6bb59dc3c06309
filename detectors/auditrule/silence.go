package auditrule

import (
	"fmt"
	"math/bits"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// streamKey is one log stream: a node's events of one type on one channel
// (plus the table, for sensitive_table_access, since auditing is per
// table). Switching a log off silences exactly such a stream.
type streamKey struct {
	cluster, node, channel, typ, object string
}

func (k streamKey) String() string {
	s := "n" + k.node + "/" + k.channel + "/" + k.typ
	if k.object != "" {
		s += "/" + k.object
	}
	return s
}

// stream is what the detector knows about one stream: its last event and
// which of the 64 minutes up to it had events (bit i: minute last-i), so
// a burst inside one minute never makes a stream look steady. About 500
// bytes with the pending report; max_streams (default 1024) bounds the
// silence state to ~0.5 MB.
type stream struct {
	last     int64
	lastID   string
	lastMin  int64
	minutes  uint64
	reported bool // a silence of the stream was reported and has not ended
	report   detectors.Finding
}

// steadiness is how many of the 64 minutes up to the last event had events.
func (s *stream) steadiness() int { return bits.OnesCount64(s.minutes) }

// track updates the event's stream; a stream that was reported silent and
// speaks again closes its silence.
func (d *Detector) track(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Node == "" || ev.Channel == "" {
		return out
	}
	d.activity.mark(ev.Time)
	k := streamKey{cluster: ev.Cluster, node: ev.Node, channel: ev.Channel, typ: ev.Type}
	if ev.Type == "sensitive_table_access" {
		k.object = ev.Object
	}
	s, ok := d.streams[k]
	if !ok {
		if len(d.streams) >= d.cfg.MaxStreams {
			d.evictOldest()
		}
		k = streamKey{strings.Clone(k.cluster), strings.Clone(k.node), strings.Clone(k.channel), strings.Clone(k.typ), strings.Clone(k.object)}
		s = &stream{}
		d.streams[k] = s
	}
	if s.reported {
		s.reported = false
		f := s.report
		gap := time.Duration(ev.Time - s.last)
		f.Count = 0
		f.FirstSeen, f.LastSeen = time.Unix(0, ev.Time).UTC(), time.Unix(0, ev.Time).UTC()
		f.Evidence = []string{ev.ID}
		f.Details = map[string]string{"silence " + k.String(): fmt.Sprintf("silent for %s, from %s (last event %s) until %s (event %s)",
			gap.Round(time.Second), fmtTime(s.last), s.lastID, fmtTime(ev.Time), ev.ID)}
		out = append(out, f)
	}
	if m := ev.Time / int64(time.Minute); m > s.lastMin || s.minutes == 0 {
		if shift := m - s.lastMin; shift >= 64 || s.minutes == 0 {
			s.minutes = 0
		} else {
			s.minutes <<= uint(shift)
		}
		s.minutes |= 1
		s.lastMin = m
	}
	if ev.Time >= s.last {
		s.last = ev.Time
		s.lastID = strings.Clone(ev.ID)
	}
	return out
}

func (d *Detector) evictOldest() {
	var oldest streamKey
	first := true
	var t int64
	for k, s := range d.streams {
		if first || s.last < t || s.last == t && k.String() < oldest.String() {
			oldest, t, first = k, s.last, false
		}
	}
	delete(d.streams, oldest)
}

// scan reports the steady streams silent at now while the rest of the
// cluster kept logging. Streams are visited in key order so the output
// does not depend on map order.
func (d *Detector) scan(now int64, out []detectors.Finding) []detectors.Finding {
	var silent []streamKey
	for k, s := range d.streams {
		if d.isSilent(s, now) {
			silent = append(silent, k)
		}
	}
	sortKeys(silent)
	for _, k := range silent {
		s := d.streams[k]
		s.reported = true
		s.report = d.silenceFinding(k, s, now)
		out = append(out, s.report)
	}
	return out
}

func (d *Detector) isSilent(s *stream, now int64) bool {
	if s.reported || now-s.last < int64(d.cfg.SilenceAfter) || s.steadiness() < d.cfg.SteadyMinutes {
		return false
	}
	from, to := s.last/int64(time.Minute), now/int64(time.Minute)
	return float64(d.activity.count(from, to)) >= d.cfg.ClusterActiveRatio*float64(to-from)
}

func (d *Detector) silenceFinding(k streamKey, s *stream, now int64) detectors.Finding {
	gap := time.Duration(now - s.last)
	from, to := s.last/int64(time.Minute), now/int64(time.Minute)
	text := fmt.Sprintf("no %s events on node %s (%s) for %s since %s (last event %s); before that it logged in %d of 64 minutes; the rest of the cluster logged in %d of the %d minutes since",
		k.typ, k.node, k.channel, gap.Round(time.Second), fmtTime(s.last), s.lastID, s.steadiness(), d.activity.count(from, to), to-from)
	var f detectors.Finding
	if t, ok := d.tamperBefore(k.cluster, s.last, now); ok {
		f = detectors.Occurrence(Rule001, t.id, now, s.lastID)
		f.Severity, f.Principal, f.Summary = t.severity, t.principal, t.summary
		f.Count = 0 // the incident counts tamper changes; the silence is their effect
		f.Details = map[string]string{"silence " + k.String(): text + "; follows the tamper change at " + fmtTime(t.time)}
	} else {
		id := detectors.IncidentID(Rule001.ID, detectors.WindowStart(s.last, d.window), "silence", k.cluster, k.node)
		f = detectors.Occurrence(Rule001, id, now, s.lastID)
		f.Severity = detectors.SeverityMedium
		f.Title = "Log stream went silent while the cluster kept logging"
		f.Summary = fmt.Sprintf("Node %s stopped emitting %s events on %s for %s while the rest of the cluster kept logging: logging may have been switched off or the log pipeline broken.",
			k.node, k.typ, k.channel, gap.Round(time.Minute))
		f.Details = map[string]string{"silence " + k.String(): text,
			"expected": fmt.Sprintf("a steady stream (events in ≥ %d of 64 minutes) is never silent for %s while the rest of the cluster logs", d.cfg.SteadyMinutes, d.cfg.SilenceAfter),
			"seen":     text}
	}
	f.FirstSeen = time.Unix(0, s.last).UTC()
	f.Cluster, f.Node = k.cluster, k.node
	f.Query = "SELECT time, node, channel, type, user, object, setting_name, setting_value FROM roachwatch.events WHERE node = " + detectors.Quote(k.node) +
		" AND channel = " + detectors.Quote(k.channel) + " AND " + detectors.TimeRange(time.Unix(0, s.last).UTC(), time.Unix(0, now).UTC()) +
		" OR type = 'set_cluster_setting' AND " + detectors.TimeRange(time.Unix(0, s.last).UTC().Add(-d.cfg.SilenceAfter), time.Unix(0, now).UTC()) + " ORDER BY time"
	return f
}

// tamperBefore returns the latest tamper incident of the cluster made
// between shortly before the stream's last event and now.
func (d *Detector) tamperBefore(cluster string, last, now int64) (tamper, bool) {
	for i := 1; i <= min(d.nTamper, maxTampers); i++ {
		t := d.tampers[(d.nTamper-i)%maxTampers]
		if (t.cluster == cluster || t.cluster == "" || cluster == "") && t.time >= last-int64(d.cfg.SilenceAfter) && t.time <= now {
			return t, true
		}
	}
	return tamper{}, false
}

func fmtTime(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339Nano) }

func sortKeys(ks []streamKey) {
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j].String() < ks[j-1].String(); j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

// activityMinutes is the horizon of the cluster activity record (~5.7 days).
const activityMinutes = 8192

// activity records, per minute of event time, whether the cluster logged
// anything: 1 KB of bits in a ring.
type activity struct {
	bits [activityMinutes / 64]uint64
	cur  int64 // latest minute marked
	init bool
}

func (a *activity) mark(t int64) {
	m := t / int64(time.Minute)
	if !a.init {
		a.cur, a.init = m, true
	}
	if m > a.cur {
		if m-a.cur >= activityMinutes {
			a.bits = [activityMinutes / 64]uint64{}
		} else {
			for x := a.cur + 1; x <= m; x++ {
				a.bits[(x%activityMinutes)/64] &^= 1 << uint(x%64)
			}
		}
		a.cur = m
	}
	if a.cur-m < activityMinutes {
		a.bits[(m%activityMinutes)/64] |= 1 << uint(m%64)
	}
}

// count is the number of minutes in (from, to] with activity, within the
// horizon.
func (a *activity) count(from, to int64) int {
	from = max(from, a.cur-activityMinutes)
	to = min(to, a.cur)
	n := 0
	for x := from + 1; x <= to; {
		w := (x % activityMinutes) / 64
		if x%64 == 0 && x+63 <= to {
			n += bits.OnesCount64(a.bits[w])
			x += 64
			continue
		}
		if a.bits[w]&(1<<uint(x%64)) != 0 {
			n++
		}
		x++
	}
	return n
}
