package cryptorule

import (
	"roachwatch/detectors"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/event"
)

// Detector implements RW-CRYPTO-001, RW-CRYPTO-002 and RW-CRYPTO-003. It
// is also a detectors.Finisher: Django SQL debug lines are counted and
// reported in doubling batches, the remainder at Finish.
//
// Memory is bounded: at most Config.MaxIncidents open incidents (each with
// at most 1000 value hashes and 16 classes), 16384 recent statement
// executions for de-duplication, 65536 cached column lookups and 65536 cached statement shapes and 4096
// Django hosts - about 40 MB in the worst case, a few KB in practice.
type Detector struct {
	cfg        Config
	cat        *catalog.Catalog
	window     int64
	hashed     map[string]bool
	open       *incidents
	dups       *dedup
	plainCache map[colKey]string
	fpCache    map[uint64][]string // fingerprint hash -> plaintext columns read
	debug      map[string]*debugHost
	cur        execSeen // de-duplication verdict for the event being observed
}

// execSeen memoizes dedup.see for one event, which both RW-CRYPTO-001 and
// RW-CRYPTO-002 may ask about.
type execSeen struct {
	done, first bool
	rows        int64
}

// seenOnce reports whether ev is the first copy of its statement execution
// and the rows it adds, asking the dedup ring at most once per event.
func (d *Detector) seenOnce(ev *event.Event) (first bool, rows int64) {
	if !d.cur.done {
		d.cur.first, d.cur.rows = d.dups.see(ev)
		d.cur.done = true
	}
	return d.cur.first, d.cur.rows
}

// New returns the detector. cat answers which columns are sensitive, must
// be encrypted or are stored in plaintext; nil means the default catalog
// (default patterns, nothing known to be plaintext). cfg must be valid.
func New(cfg Config, cat *catalog.Catalog) *Detector {
	if cat == nil {
		cat = catalog.New(catalog.Config{})
	}
	d := &Detector{
		cfg:        cfg,
		cat:        cat,
		window:     int64(cfg.Window),
		hashed:     make(map[string]bool, len(cfg.HashedColumns)),
		open:       newIncidents(max(cfg.MaxIncidents, 1), int64(cfg.Window)),
		dups:       newDedup(dedupSize),
		plainCache: make(map[colKey]string),
		fpCache:    make(map[uint64][]string),
		debug:      make(map[string]*debugHost),
	}
	for _, c := range cfg.HashedColumns {
		d.hashed[catalog.Key(c)] = true
	}
	return d
}

// Rules lists RW-CRYPTO-001, -002 and -003.
func (d *Detector) Rules() []detectors.Rule { return []detectors.Rule{Rule001, Rule002, Rule003} }

// Observe reports occurrences of the three rules in ev. It reads ev only
// and takes time only from ev.Time.
func (d *Detector) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Type == djangoSQLType && !d.cfg.DjangoDebugSQLAllowed {
		out = d.debugSQL(ev, out)
	}
	if len(ev.Secrets) > 0 {
		// Secrets count even in CockroachDB's internal activity: the log
		// line exists either way.
		out = d.secrets(ev, out)
	}
	if ev.Internal {
		return out
	}
	d.cur = execSeen{}
	if len(ev.Values) > 0 {
		out = d.plaintextValues(ev, out)
	}
	if isRead(ev) {
		out = d.plaintextReads(ev, out)
	}
	return out
}
