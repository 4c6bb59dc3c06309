package loggen

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Generator holds the state of one run. It is single-threaded.
type Generator struct {
	cfg       Config
	nodes     []*node
	sinks     [][numGroups]*crdbSink
	dj        [2]*djServer
	pend      pending
	tr        *rng // benign traffic
	ivr       *rng // Fernet IVs
	fernetKey [32]byte

	// Cluster state that incidents change and traffic observes.
	auditOff   map[string]bool // table -> EXPERIMENTAL_AUDIT SET OFF
	authLogOff bool            // server.auth_log.sql_sessions.enabled = false
	// lastAccess is the latest sensitive_table_access Timestamp generated
	// so far per node and table (the start of a silence after tampering).
	lastAccess map[accessKey]int64
	board      *session // the clinic board's connection while it is open

	skipped    []uint64 // telemetry SkippedQueries per node
	sessionSeq uint64
	crdbCount  int64
	djCount    int64
	inc        *Incident // incident being planted; sees every entry
	incidents  []*Incident

	benignActs, benignEvents int64
	deferred                 []deferred
}

// accessKey names one sensitive_table_access stream: node and table.
type accessKey struct {
	node  int
	table string
}

// deferred is an action a scenario scheduled for later (e.g. restoring a
// setting an incident changed). It runs as its own activity.
type deferred struct {
	at int64
	fn func()
}

// defer_ schedules fn at time at.
func (g *Generator) defer_(at int64, fn func()) {
	g.deferred = append(g.deferred, deferred{at: at, fn: fn})
}

// nextDeferred returns the index of the earliest deferred action, or -1.
func (g *Generator) nextDeferred() int {
	best := -1
	for i, d := range g.deferred {
		if best < 0 || d.at < g.deferred[best].at {
			best = i
		}
	}
	return best
}

// newGenerator validates cfg and lays out the simulated world.
func newGenerator(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	setup := newRNG(cfg.Seed, "setup")
	g := &Generator{
		cfg:        cfg,
		tr:         newRNG(cfg.Seed, "traffic"),
		ivr:        newRNG(cfg.Seed, "fernet-iv"),
		fernetKey:  FernetKey(cfg.Seed),
		auditOff:   map[string]bool{},
		lastAccess: map[accessKey]int64{},
	}
	g.nodes = newNodes(cfg, setup)
	cluster := setup.uuid()
	for _, n := range g.nodes {
		n.cluster = cluster
	}
	g.skipped = make([]uint64, len(g.nodes))
	for i := range g.dj {
		g.dj[i] = newDjServer(i, setup)
	}
	return g, nil
}

// open creates the directory tree and the first file of every sink.
func (g *Generator) open() error {
	g.sinks = make([][numGroups]*crdbSink, len(g.nodes))
	for i, n := range g.nodes {
		rel := filepath.Join("crdb", fmt.Sprintf("node%d", n.id), "logs")
		dir := filepath.Join(g.cfg.Out, rel)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
		for gr := group(0); gr < numGroups; gr++ {
			s := &crdbSink{n: n, grp: gr, dir: dir, relDir: rel, maxSize: g.cfg.MaxFileSize}
			if err := s.open(n.started); err != nil {
				return err
			}
			g.sinks[i][gr] = s
		}
	}
	if err := os.MkdirAll(filepath.Join(g.cfg.Out, "django"), 0o755); err != nil {
		return fmt.Errorf("creating django dir: %w", err)
	}
	for _, s := range g.dj {
		if err := s.open(g.cfg.Out); err != nil {
			return err
		}
	}
	return nil
}

// logDelay is the deterministic gap between an event's Timestamp and the
// moment its line is written (5–55 µs), derived from the time itself so
// that it draws on no random stream.
func logDelay(ts int64) int64 {
	return 5000 + int64(uint64(ts)*0x9E3779B97F4A7C15>>40)%50000
}

// emit queues a CockroachDB entry with the given extra tags.
func (g *Generator) emit(n *node, ch channel, sev byte, goid int64, ev []byte, ts int64, tags ...tag) {
	g.emitTags(n, ch, sev, goid, ev, ts, tags)
}

// emitTags queues a structured CockroachDB entry whose event Timestamp is
// ts; it is written a few microseconds later (µs-aligned).
func (g *Generator) emitTags(n *node, ch channel, sev byte, goid int64, ev []byte, ts int64, tags []tag) {
	at := ts + logDelay(ts)
	at -= at % 1000
	g.pend.push(entry{at: at, out: outCRDB, node: n, ch: ch, sev: sev, goid: goid,
		file: evFile, line: evLine, tags: tags, event: ev})
	g.crdbCount++
	g.observe(ts)
}

// emitMessage queues an unstructured CockroachDB message.
func (g *Generator) emitMessage(n *node, ch channel, sev byte, goid int64, file string, line int, msg string, at int64, tags []tag) {
	at -= at % 1000
	g.pend.push(entry{at: at, out: outCRDB, node: n, ch: ch, sev: sev, goid: goid,
		file: file, line: line, tags: tags, msg: msg})
	g.crdbCount++
	g.observe(at)
}

// emitDjango queues a Django record on server s.
func (g *Generator) emitDjango(s *djServer, r *djRec) {
	out := outDjangoText
	if s.idx == 1 {
		out = outDjangoJSON
	}
	g.pend.push(entry{at: r.at, out: out, dj: s.render(r)})
	g.djCount++
	g.observe(r.at - r.at%1e6)
}

// observe extends the time span of the incident being planted.
func (g *Generator) observe(t int64) {
	if g.inc != nil {
		g.inc.observe(t)
	}
}

// flush writes every pending entry older than t.
func (g *Generator) flush(t int64) error {
	for {
		e, ok := g.pend.popBefore(t)
		if !ok {
			return nil
		}
		var err error
		switch e.out {
		case outCRDB:
			err = g.sinks[e.node.id-1][groupOf(e.ch)].write(&e)
		case outDjangoText:
			err = g.dj[0].write(e.dj)
		default:
			err = g.dj[1].write(e.dj)
		}
		if err != nil {
			return err
		}
	}
}

// close flushes and closes every file and creates the group symlinks.
func (g *Generator) close() error {
	var first error
	for _, ss := range g.sinks {
		for _, s := range ss {
			if err := s.close(); err != nil && first == nil {
				first = err
			}
		}
	}
	for _, s := range g.dj {
		if err := s.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// hlcID is a 32-hex id in CockroachDB's session/statement id shape: HLC
// wall time, then the node's instance id.
func (g *Generator) hlcID(ts int64, n *node) string {
	g.sessionSeq++
	return fmt.Sprintf("%016x%016x", uint64(ts)+g.sessionSeq&0xfff, uint64(n.id))
}

// intensity is the relative traffic level at t: business hours on
// weekdays are busy, nights and weekends quiet (averages about 1 on
// weekdays).
func intensity(t int64) float64 {
	sec := t / 1e9
	hour := (sec % 86400) / 3600
	weekday := (sec/86400 + 4) % 7 // 1970-01-01 was a Thursday; 0 = Sunday
	f := 0.35
	switch {
	case hour >= 8 && hour < 19:
		f = 1.55
	case hour >= 19 && hour < 23:
		f = 0.7
	}
	if weekday == 0 || weekday == 6 {
		f *= 0.6
	}
	return f
}

// nextGap is the pseudo-random time to the next benign activity, sized so
// that benign traffic produces about Config.Rate entries per day.
func (g *Generator) nextGap(t int64) int64 {
	avg := float64(g.benignEvents+80) / float64(g.benignActs+10)
	mean := 86400e9 * avg / float64(g.cfg.Rate) / intensity(t)
	gap := int64(g.tr.exp(mean))
	return max(gap, 1000)
}

// Run generates everything and writes truth.json; it returns the truth.
func (g *Generator) Run() (*Truth, error) {
	plan := g.plan()
	if err := g.open(); err != nil {
		return nil, err
	}
	g.bootstrap()
	g.scheduleRoutines()
	start, end := g.cfg.rangeStart(), g.cfg.rangeEnd()
	next := start + g.nextGap(start)
	pi := 0
	for {
		tp := int64(math.MaxInt64)
		if pi < len(plan) {
			tp = plan[pi].at
		}
		di := g.nextDeferred()
		td := int64(math.MaxInt64)
		if di >= 0 {
			td = g.deferred[di].at
		}
		t := min(next, tp, td)
		if t >= end || (g.cfg.MaxEvents > 0 && g.crdbCount >= g.cfg.MaxEvents) {
			break
		}
		if err := g.flush(t); err != nil {
			return nil, err
		}
		if td == t {
			fn := g.deferred[di].fn
			g.deferred = append(g.deferred[:di], g.deferred[di+1:]...)
			fn()
			continue
		}
		if tp <= next {
			g.plant(plan[pi])
			pi++
			continue
		}
		before := g.crdbCount
		g.benign(t)
		g.benignActs++
		g.benignEvents += g.crdbCount - before
		next = t + g.nextGap(t)
	}
	if err := g.flush(math.MaxInt64); err != nil {
		return nil, err
	}
	if err := g.close(); err != nil {
		return nil, err
	}
	tr := g.truth()
	if err := tr.write(filepath.Join(g.cfg.Out, "truth.json")); err != nil {
		return nil, err
	}
	return tr, nil
}

// Generate runs one generation with cfg.
func Generate(cfg Config) (*Truth, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return nil, err
	}
	return g.Run()
}
