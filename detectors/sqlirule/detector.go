package sqlirule

import (
	"strings"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// Comment truncation ('admin'--) leaves no trace in a fingerprint:
// comments are dropped, and CockroachDB does not log them at all. The
// parse stage is to flag Django statements whose SQL carries a comment
// that is not sqlcommenter-shaped right after a string literal by setting
// Event.Attrs[AttrSQLComment] = CommentAfterLiteral. The detector reads
// the flag from Django events once the parser sets it.
const (
	AttrSQLComment      = "sql_comment"
	CommentAfterLiteral = "after_literal"
)

// maxCache bounds the fingerprint-hash -> classes cache.
const maxCache = 1 << 16

// Detector implements RW-SQLI-001. It is not safe for concurrent use.
type Detector struct {
	cfg          Config
	window       int64
	errWindow    int64
	adminUsers   nameSet
	adminApps    nameSet
	appUsers     nameSet
	appApps      nameSet
	catalogAllow map[string]bool
	stateIdx     map[string]int

	incidents *lru[incident]
	bursts    *lru[burst]
	cache     map[uint64]classSet
	scan      scanner
	key       []byte
	errs      []errEntry
}

// New returns the detector; c must be valid (Validate).
func New(c Config) *Detector {
	d := &Detector{
		cfg: c, window: int64(c.Window), errWindow: int64(c.ErrorWindow),
		adminUsers: newNameSet(c.AdminUsers), adminApps: newNameSet(c.AdminApplications),
		appUsers: newNameSet(c.AppUsers), appApps: newNameSet(c.AppApplications),
		catalogAllow: make(map[string]bool, len(c.CatalogAllow)),
		stateIdx:     make(map[string]int, len(c.ErrorSQLStates)),
		incidents:    newLRU[incident](c.MaxKeys),
		bursts:       newLRU[burst](c.MaxKeys),
		cache:        make(map[uint64]classSet),
	}
	for _, fp := range c.CatalogAllow {
		d.catalogAllow[fp] = true
	}
	for i, st := range c.ErrorSQLStates {
		if i < maxSQLStates {
			d.stateIdx[st] = i
		}
	}
	return d
}

// Rules lists RW-SQLI-001.
func (d *Detector) Rules() []detectors.Rule { return []detectors.Rule{Rule001} }

// appPrincipal reports whether user/app is an application principal:
// listed in app_users/app_applications, or in neither admin list.
func (d *Detector) appPrincipal(user, app string) bool {
	if d.appUsers.has(user) || d.appApps.has(app) {
		return true
	}
	return !d.adminUsers.has(user) && !d.adminApps.has(app)
}

// Observe reports signature occurrences, error bursts, errors of an open
// incident, and the first sensitive read that follows a signature.
func (d *Detector) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Internal || !d.appPrincipal(ev.User, ev.Application) {
		return out
	}
	django := ev.Source == event.SourceDjango
	var cs classSet
	if ev.Fingerprint != "" {
		cs = d.classes(ev)
		if cs&cCatalog != 0 && d.catalogAllow[ev.Fingerprint] {
			cs &^= cCatalog
		}
		// A Django line that reads only catalog tables outside any request
		// (no sqlcommenter tags) comes from a management command: migrate,
		// inspectdb, the test runner. Injected catalog probes also name
		// the view's own table.
		if cs == cCatalog && django && ev.Route == "" && ev.View == "" && len(ev.QueryTags) == 0 && onlyCatalog(ev.Tables) {
			cs = 0
		}
	}
	if django && ev.Attrs[AttrSQLComment] == CommentAfterLiteral {
		cs |= cComment
	}
	state := sqlState(ev)
	idx := -1
	if i, ok := d.stateIdx[state]; ok {
		idx = i
	}
	var b burstHit
	if idx >= 0 {
		b = d.observeError(ev, idx)
		if b.hit {
			cs |= cErrorBurst
		}
	}
	key := d.incidentKey(ev)
	if cs == 0 {
		inc := d.incidents.get(key)
		if inc == nil || inc.classes == 0 {
			return out
		}
		switch {
		case idx >= 0 && ev.Time-inc.lastSig <= d.window:
			// Another error while the incident is open: more probing.
			return append(out, d.occurrence(ev, inc, 0, idx, b))
		case state == "" && len(ev.SensitiveColumns) > 0 && !inc.escalated && d.follows(inc, ev):
			inc.escalated = true
			return append(out, d.escalation(ev, inc))
		}
		return out
	}
	inc, fresh := d.incidents.put(key)
	if fresh || ev.Time-inc.windowStart >= d.window {
		ws := detectors.WindowStart(ev.Time, d.window)
		*inc = incident{windowStart: ws, id: detectors.IncidentID(Rule001.ID, ws, ev.Cluster, ev.User, ev.ClientAddr)}
	}
	inc.classes |= cs
	inc.lastSig, inc.sigSession, inc.sigRoute = ev.Time, ev.SessionID, ev.Route
	return append(out, d.occurrence(ev, inc, cs, idx, b))
}

// onlyCatalog reports whether every table is a system catalog.
func onlyCatalog(tables []string) bool {
	for _, t := range tables {
		if !catalogTables([]string{t}) {
			return false
		}
	}
	return true
}

// follows reports whether the successful sensitive read ev follows the
// incident's last signature within the window, from the same session
// when both carry one (and, for Django lines, the same route when both
// carry one).
func (d *Detector) follows(inc *incident, ev *event.Event) bool {
	if ev.Time < inc.lastSig || ev.Time-inc.lastSig > d.window {
		return false
	}
	if inc.sigSession != "" && ev.SessionID != "" && inc.sigSession != ev.SessionID {
		return false
	}
	return inc.sigRoute == "" || ev.Route == "" || inc.sigRoute == ev.Route
}

// incidentKey builds user + NUL + client address in a reused buffer.
func (d *Detector) incidentKey(ev *event.Event) []byte {
	d.key = append(append(append(d.key[:0], ev.User...), 0), ev.ClientAddr...)
	return d.key
}

// classes classifies ev's fingerprint, cached by fingerprint hash (ORM
// traffic repeats a finite set of shapes).
func (d *Detector) classes(ev *event.Event) classSet {
	h := ev.FingerprintHash
	if h != 0 {
		if cs, ok := d.cache[h]; ok {
			return cs
		}
	}
	cs := d.scan.classify(ev.Fingerprint, ev.Tables)
	d.scan.fp = ""
	if h != 0 {
		if len(d.cache) >= maxCache {
			clear(d.cache)
		}
		d.cache[h] = cs
	}
	return cs
}

// djangoErrors maps psycopg exception class names, as Django's request
// logger prints them in tracebacks, to SQLSTATEs.
var djangoErrors = map[string]string{
	"SyntaxError": "42601", "UndefinedColumn": "42703", "UndefinedTable": "42P01",
	"InvalidTextRepresentation": "22P02", "InvalidColumnReference": "42P10", "UndefinedFunction": "42883",
	"DatatypeMismatch": "42804", "DivisionByZero": "22012",
}

// sqlState returns ev's SQLSTATE; for a Django request error it is read
// from the psycopg exception in the traceback.
func sqlState(ev *event.Event) string {
	if ev.SQLState != "" || ev.Source != event.SourceDjango || ev.Type != "django.request" {
		return ev.SQLState
	}
	msg := ev.Message
	for _, p := range []string{"psycopg2.errors.", "psycopg.errors."} {
		i := strings.LastIndex(msg, p)
		if i < 0 {
			continue
		}
		name := msg[i+len(p):]
		if j := strings.IndexAny(name, ": \n"); j >= 0 {
			name = name[:j]
		}
		return djangoErrors[name]
	}
	return ""
}

// burstHit describes an error burst that the current event completed.
type burstHit struct {
	hit   bool
	by    string // "user web" or "client 10.0.0.1"
	first int64
	ids   []string
	desc  string
}

// observeError records an error under the user key and the client
// address key (Django lines, which carry neither, share one key per
// source) and reports a burst.
func (d *Detector) observeError(ev *event.Event, idx int) burstHit {
	shape := ev.FingerprintHash
	if shape == 0 {
		shape = uint64(idx + 1)
	}
	e := errEntry{t: ev.Time, shape: shape, typ: ev.Type, id: ev.ID, state: int8(idx)}
	var hit burstHit
	check := func(prefix byte, by, name string) {
		d.key = append(append(d.key[:0], prefix, 0), name...)
		b, _ := d.bursts.put(d.key)
		d.errs = b.add(e, d.cfg.ErrorBurst, d.errWindow, d.errs)
		if hit.hit || len(d.errs) < d.cfg.ErrorBurst || distinctShapes(d.errs) < d.cfg.ErrorDistinctShapes {
			return
		}
		hit = burstHit{hit: true, by: by + " " + name, first: d.errs[0].t}
		for _, x := range d.errs {
			hit.ids = append(hit.ids, x.id)
		}
		hit.desc = d.describeBurst(d.errs, hit.by)
	}
	switch {
	case ev.User == "" && ev.ClientAddr == "":
		check('s', "source", ev.Source)
	default:
		if ev.User != "" {
			check('u', "user", ev.User)
		}
		if ev.ClientAddr != "" {
			check('a', "client", ev.ClientAddr)
		}
	}
	return hit
}
