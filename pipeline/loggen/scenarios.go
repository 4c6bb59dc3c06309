package loggen

import (
	"fmt"
	"sort"
)

// Schedule says how often a scenario is planted.
type Schedule int

const (
	// Daily plants the scenario once on every generated day.
	Daily Schedule = iota
	// OnceLate plants it once, in the second half of the last day, after
	// per-principal baselines had time to warm up (novelty scenarios).
	OnceLate
	// DailyAt plants it once every day at a pseudo-random time between
	// Scenario.From and Scenario.To (hours of the UTC day), outside the
	// slots: for incidents that only make sense at some hours (audit
	// tampering while the clinic board polls) and for routine work that
	// happens at fixed hours.
	DailyAt
	// LastDayAt plants it once on the last day between From and To
	// (off-hours activity, which needs two days of hour-of-week history).
	LastDayAt
)

// Scenario is one kind of planted incident or benign look-alike. Plant
// drives sessions through the generator's helpers; every entry produced
// while it runs extends the incident's first/last seen, and Plant marks the
// decisive line with planter.decisive.
type Scenario struct {
	Category  string
	Rule      string // expected rule; "" for look-alikes
	Severity  string
	Lookalike bool
	Schedule  Schedule
	From, To  float64 // hours of the day, for DailyAt and LastDayAt
	Plant     func(p *planter)
}

// scenarios is the catalog. Adding an incident kind means adding one entry
// here and its Plant function in a scen_*.go file.
var scenarios = []Scenario{
	{Category: "tls_plaintext_sensitive", Rule: "RW-TLS-001", Severity: "critical", Plant: plantPlaintextSensitive},
	{Category: "tls_plaintext", Rule: "RW-TLS-001", Severity: "high", Plant: plantPlaintextSession},
	{Category: "tls_plaintext", Lookalike: true, Plant: plantTLSLookalike},
	{Category: "plaintext_write", Rule: "RW-CRYPTO-001", Severity: "high", Plant: plantPlaintextWrite},
	{Category: "sqli", Rule: "RW-SQLI-001", Severity: "high", Plant: plantSQLi},
	{Category: "sqli", Lookalike: true, Plant: plantSQLiLookalikeSearch},
	{Category: "sqli", Lookalike: true, Plant: plantSQLiLookalikeMigrator},
	{Category: "brute_force", Rule: "RW-AUTH-001", Severity: "critical", Plant: plantBruteForce},
	{Category: "brute_force", Lookalike: true, Plant: plantTypoLookalike},
	{Category: "privilege_escalation", Rule: "RW-PRIV-001", Severity: "high", Plant: plantGrantAdmin},
	{Category: "privilege_escalation", Lookalike: true, Plant: plantPrivLookalike},
	{Category: "audit_tampering", Rule: "RW-AUDIT-001", Severity: "high", Schedule: DailyAt, From: 9.5, To: 16, Plant: plantAuditTamper},
	{Category: "audit_tampering", Lookalike: true, Schedule: DailyAt, From: 5.2, To: 5.8, Plant: plantAuditLookalike},
	{Category: "secrets_in_logs", Rule: "RW-CRYPTO-003", Severity: "high", Plant: plantSecretsInDjango},
	{Category: "secrets_in_logs", Lookalike: true, Plant: plantSecretsLookalike},
	{Category: "exfiltration", Rule: "RW-ANOM-001", Severity: "high", Schedule: OnceLate, Plant: plantExfiltration},
	{Category: "exfiltration", Lookalike: true, Schedule: OnceLate, Plant: plantExportLookalike},
	{Category: "new_principal", Rule: "RW-ANOM-006", Severity: "medium", Schedule: OnceLate, Plant: plantNewPrincipal},
	{Category: "new_principal", Lookalike: true, Schedule: DailyAt, From: 1, To: 1.5, Plant: plantNightlyETL},
	{Category: "new_client_network", Rule: "RW-ANOM-005", Severity: "medium", Schedule: OnceLate, Plant: plantNewNetwork},
	{Category: "off_hours", Rule: "RW-ANOM-004", Severity: "low", Schedule: LastDayAt, From: 2.75, To: 3.25, Plant: plantOffHours},
	{Category: "off_hours", Lookalike: true, Schedule: LastDayAt, From: 3.5, To: 4.25, Plant: plantNightBatch},
	{Category: "plaintext_read", Rule: "RW-CRYPTO-002", Severity: "high", Schedule: OnceLate, Plant: plantPlaintextRead},
}

// PlaintextColumns are the sensitive columns the simulated application
// stores in the clear (customers.phone was never moved to an encrypted
// field). truth.json lists them as catalog_plaintext so that an analysis
// of the output can configure catalog.plaintext; only the plaintext_read
// incident reads them.
var PlaintextColumns = []string{"customers.phone"}

// planned is one scheduled planting.
type planned struct {
	sc  *Scenario
	at  int64
	day int
	id  string
	r   *rng
}

// plan schedules every planting: each day is cut into as many slots as it
// has plantings (in a shuffled order) and each planting starts early in its
// slot, so incidents are spread over the day and never overlap.
func (g *Generator) plan() []planned {
	pr := newRNG(g.cfg.Seed, "plan")
	var out []planned
	const day = int64(86400e9)
	for d := 0; d < g.cfg.Days; d++ {
		dayStart := g.cfg.rangeStart() + int64(d)*day
		var early, late []*Scenario
		for i := range scenarios {
			sc := &scenarios[i]
			switch {
			case sc.Schedule == Daily:
				early = append(early, sc)
			case sc.Schedule == DailyAt || (sc.Schedule == LastDayAt && d == g.cfg.Days-1):
				at := dayStart + durS(3600*(sc.From+(sc.To-sc.From)*pr.float()))
				id := fmt.Sprintf("%s-d%d-t%02d", kindOf(sc), d+1, i+1)
				out = append(out, planned{sc: sc, at: at, day: d, id: id, r: newRNG(g.cfg.Seed, id)})
			case sc.Schedule == OnceLate && d == g.cfg.Days-1:
				late = append(late, sc)
			}
		}
		split := dayStart + day - durS(3600)
		if len(late) > 0 {
			split = dayStart + durS(14*3600)
		}
		out = append(out, g.slots(pr, early, d, dayStart+durS(600), split)...)
		out = append(out, g.slots(pr, late, d, split, dayStart+day-durS(3600))...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// slots spreads scs over [from, to).
func (g *Generator) slots(pr *rng, scs []*Scenario, d int, from, to int64) []planned {
	if len(scs) == 0 {
		return nil
	}
	order := make([]*Scenario, len(scs))
	copy(order, scs)
	for i := len(order) - 1; i > 0; i-- {
		j := pr.intn(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	slot := (to - from) / int64(len(order))
	out := make([]planned, 0, len(order))
	for i, sc := range order {
		at := from + int64(i)*slot + int64(float64(slot)*(0.05+0.45*pr.float()))
		id := fmt.Sprintf("%s-d%d-%02d", kindOf(sc), d+1, i+1)
		out = append(out, planned{sc: sc, at: at, day: d, id: id, r: newRNG(g.cfg.Seed, id)})
	}
	return out
}

// kindOf names a scenario in incident ids.
func kindOf(sc *Scenario) string {
	if sc.Lookalike {
		return sc.Category + "-lookalike"
	}
	return sc.Category
}

// planter is what a Scenario's Plant function works with.
type planter struct {
	g    *Generator
	r    *rng
	at   int64 // start time of the planting
	inc  *Incident
	slot int64 // time budget before the next planting may start (ns)
}

// plant runs one planned scenario and records its incident.
func (g *Generator) plant(pl planned) {
	inc := newIncident(pl.id, pl.sc)
	g.inc = inc
	pl.sc.Plant(&planter{g: g, r: pl.r, at: pl.at, inc: inc, slot: durS(40 * 60)})
	g.inc = nil
	g.record(inc)
}

// record keeps an incident that produced at least one line.
func (g *Generator) record(inc *Incident) {
	if inc.first <= inc.last {
		if inc.decisive == 0 {
			inc.decisive = inc.first
		}
		g.incidents = append(g.incidents, inc)
	}
}

// sub plants a secondary incident (typically a look-alike placed next to
// the main one); entries produced by fn count for it, not for p.inc.
func (p *planter) sub(id string, sc Scenario, fn func(q *planter)) {
	inc := newIncident(p.inc.ID+"-"+id, &sc)
	prev := p.g.inc
	p.g.inc = inc
	fn(&planter{g: p.g, r: p.r, at: p.at, inc: inc, slot: p.slot})
	p.g.inc = prev
	p.g.record(inc)
}

// session names the principal and session of the incident from s.
func (p *planter) session(s *session) {
	p.inc.Principal = Principal{User: s.user, ClientAddr: s.ip, Application: s.app}
	p.inc.SessionID = s.id
	p.inc.Node = s.n.id
}

// decisive marks the line at t as the one that makes the incident
// detectable (the first call wins).
func (p *planter) decisive(t int64) {
	if p.inc.decisive == 0 {
		p.inc.decisive = t
	}
}

// describe sets the human description.
func (p *planter) describe(format string, args ...any) {
	p.inc.Description = fmt.Sprintf(format, args...)
}

// unusualIP draws a client address from the documentation ranges that no
// benign principal uses.
func unusualIP(r *rng) string {
	return fmt.Sprintf("%s.%d", pick(r, []string{"198.51.100", "192.0.2"}), r.between(20, 250))
}
