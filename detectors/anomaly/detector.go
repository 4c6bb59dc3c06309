package anomaly

import (
	"strings"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// Detector implements RW-ANOM-001..006 over per-principal baselines (see
// the package documentation). Not safe for concurrent use.
type Detector struct {
	cfg     Config
	window  int64
	warmup  int64
	newWin  int64
	offSpan int64
	skip    map[string]bool
	sens    map[string]bool
	appUser map[string]bool
	appName map[string]bool

	st      store
	seen    seenFilter
	started bool
	t0      int64 // first event time
	keyBuf  []byte
	// sole is the only cluster id seen so far (nClusters <= 1); events
	// without a cluster id (the crdb-v2 decoder does not carry the file
	// header's cluster id yet) are attributed to it.
	sole      string
	nClusters uint8
}

// New returns the detector; cfg must have passed Validate.
func New(cfg Config) *Detector {
	d := &Detector{
		cfg: cfg, window: int64(cfg.Window), warmup: int64(cfg.Warmup), newWin: int64(cfg.NewPrincipalWindow),
		offSpan: int64(cfg.OffHoursSpan),
		skip:    set(cfg.SkipUsers), sens: set(cfg.SensitiveTables), appUser: set(cfg.AppUsers), appName: set(cfg.AppNames),
		st: newStore(cfg.MaxPrincipals), seen: newSeenFilter(cfg.SeenFilterBits),
	}
	return d
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// MemoryBytes is the estimated size of the state (see PrincipalBound).
func (d *Detector) MemoryBytes() int64 {
	return d.st.bytes() + int64(len(d.seen.bits))*8
}

// Principals is the number of principals held.
func (d *Detector) Principals() int { return len(d.st.idx) }

// Evicted is the number of principals evicted by the LRU cap so far.
func (d *Detector) Evicted() int64 { return d.st.evicted }

// obs carries what one event means for one principal.
type obs struct {
	ev        *event.Event
	p         *principal
	cluster   string
	user      string
	warm      bool
	known     bool // warm and the principal has min_observations of history
	sensitive bool
}

// Observe updates the principal's baselines with ev and reports the
// anomalies the event shows against the baseline as it was before it.
func (d *Detector) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Source != event.SourceCRDB || ev.Internal || ev.User == "" || d.skip[ev.User] ||
		strings.HasPrefix(ev.Application, "$ internal") || ev.ExecMode == "exec-internal" {
		return out
	}
	t := ev.Time
	if !d.started {
		d.started, d.t0 = true, t
	}
	cluster := d.cluster(ev.Cluster)
	d.keyBuf = principalKey(d.keyBuf, cluster, ev.User)
	i, created := d.st.get(d.keyBuf)
	p := &d.st.ps[i]
	b0 := p.dynBytes()
	o := obs{ev: ev, p: p, cluster: cluster, user: ev.User, warm: t-d.t0 >= d.warmup}
	if created {
		h := hash64(p.key)
		if o.warm && !d.seen.has(h) {
			p.flags |= flagNewcomer
			p.firstID = strings.Clone(ev.ID)
		}
		d.seen.add(h)
		p.first, p.last = t, t
		if d.cfg.OffHours {
			p.hours = &hourProfile{}
		}
	}
	o.known = o.warm && p.events >= uint32(d.cfg.MinObservations)
	o.sensitive = d.sensitive(ev)
	failed := ev.AuthFailure != "" || ev.Type == "client_authentication_failed"

	stmt := ev.FingerprintHash != 0 && ev.Type != "sampled_transaction"
	dup := stmt && p.isCopy(t, ev.FingerprintHash)

	out = d.newcomer(&o, out)
	if !failed {
		out = d.newOrigin(&o, out)
	}
	if stmt {
		out = d.statement(&o, dup, out)
	}
	if !dup && !failed {
		out = d.activity(&o, out)
		p.events++
	}
	if t > p.last {
		p.last = t
	}
	d.st.mem += p.dynBytes() - b0
	return out
}

// appPrincipal: configured as an application, or (auto_app_users) its
// set of shapes settled: stable_after statements without a new one.
func (d *Detector) appPrincipal(p *principal, app string) (bool, string) {
	_, user := splitKey(p.key)
	switch {
	case d.appUser[user]:
		return true, "configured in app_users"
	case app != "" && d.appName[app]:
		return true, "application_name " + app + " is configured in app_names"
	case d.cfg.AutoAppUsers && p.stmts-p.lastNewFP >= uint32(d.cfg.StableAfter):
		return true, "its statement shapes settled (auto_app_users)"
	}
	return false, ""
}

// statement runs RW-ANOM-001 and 002 and learns shapes and rows.
func (d *Detector) statement(o *obs, dup bool, out []detectors.Finding) []detectors.Finding {
	ev, p := o.ev, o.p
	read := ev.StatementTag == "SELECT" || ev.StatementTag == ""
	sampled := ev.Type == "sampled_query"
	if ev.FullTableScan && o.sensitive && read && !dup && len(ev.Tables) > 0 {
		out = d.fullScan(o, out)
	}
	if !dup {
		isApp, why := d.appPrincipal(p, ev.Application)
		fi, added, overflow := touch(&p.fps, ev.FingerprintHash, d.cfg.MaxFingerprints)
		p.stmts++
		if overflow {
			p.flags |= flagFPOverflow
		}
		if added {
			if o.known && isApp && p.flags&flagFPOverflow == 0 {
				out = append(out, d.newShape(o, why))
			}
			p.lastNewFP = p.stmts
		}
		fe := &p.fps[fi]
		if read {
			out = d.rowsCheck(o, fe, "rows", ev.Rows, out)
		}
		fe.rows.add(float64(ev.Rows), d.cfg.Alpha)
	}
	if sampled {
		fi := find(p.fps, ev.FingerprintHash)
		if fi >= 0 {
			if read {
				out = d.rowsCheck(o, &p.fps[fi], "rows_read", ev.RowsRead, out)
			}
			p.fps[fi].read.add(float64(ev.RowsRead), d.cfg.Alpha)
		}
	}
	return out
}

// rowsCheck compares n with the shape's baseline, or, when the shape has
// none yet, with the tables' baselines, then teaches the tables.
func (d *Detector) rowsCheck(o *obs, fe *entry, metric string, n int64, out []detectors.Finding) []detectors.Finding {
	ev, p := o.ev, o.p
	pick := func(e *entry) *est {
		if metric == "rows" {
			return &e.rows
		}
		return &e.read
	}
	alert := o.known && n >= d.cfg.MinRows
	min := uint32(d.cfg.MinSamples)
	done := false
	if b := pick(fe); alert && b.n >= min {
		done = true
		if lim := b.limit(d.cfg.RowsMADs); float64(n) > lim {
			out = append(out, d.bigRead(o, metric, n, b, lim, "statement shape", ev.Fingerprint))
		}
	} else if b.n > 0 && float64(n) <= 4*(b.median()+1) {
		// The shape is young but has already returned about this much: a
		// recurring report, not a new bulk read. Without this its first runs
		// after the warm-up are judged against the table's baseline, which
		// small dashboard queries on the same table keep tiny.
		done = true
	}
	for j, tbl := range ev.Tables {
		if j == 4 {
			break // joins of many tables: the first four carry the baseline
		}
		ti, _, _ := touch(&p.tables, hash64(tbl), d.cfg.MaxTables)
		b := pick(&p.tables[ti])
		if alert && !done && b.n >= min {
			if lim := b.limit(d.cfg.RowsMADs); float64(n) > lim {
				done = true
				out = append(out, d.bigRead(o, metric, n, b, lim, "table", tbl))
			}
		}
		b.add(float64(n), d.cfg.Alpha)
	}
	return out
}

// fullScan reports the principal's first full scan of a sensitive table.
func (d *Detector) fullScan(o *obs, out []detectors.Finding) []detectors.Finding {
	p := o.p
	first := ""
	for j, tbl := range o.ev.Tables {
		if j == 4 {
			break
		}
		ti, _, _ := touch(&p.tables, hash64(tbl), d.cfg.MaxTables)
		e := &p.tables[ti]
		if e.flags&entryFullScan == 0 && first == "" {
			first = tbl
		}
		e.flags |= entryFullScan
	}
	if first != "" && o.known {
		out = append(out, d.firstFullScan(o, first))
	}
	return out
}
