package loggen

import "fmt"

// Routine benign work that happens at fixed hours rather than at random
// (each day has its own random stream, so it does not perturb the
// traffic stream):
//
//   - the clinic's waiting-room board, a Celery task on app server 1 that
//     polls recently updated patients over one persistent connection from
//     about 07:00 to 19:00, every 40-55 s and every 2-3 minutes in the
//     last hour. Its patients sensitive_table_access stream is steady on
//     one node during clinic hours (what RW-AUDIT-001's silence rule needs
//     to notice auditing being switched off) and thins out before closing
//     time, so the evening stop is not a silence;
//   - the finance wall dashboard, Metabase auto-refreshing one query as
//     reporting every 60-75 s from 08:00 to 18:00;
//   - Metabase's scheduled e-mail subscriptions, run by reporting at about
//     00:30. Apart from them reporting works during office hours only
//     (see officeHours), which gives it the hour-of-week shape RW-ANOM-004
//     judges.

// officeHours reports whether t falls in reporting's working hours.
func officeHours(t int64) bool {
	h := (t / 1e9 % 86400) / 3600
	return h >= 7 && h < 19
}

// dayShift keeps reporting out of the night: a scenario that picked it
// for a time outside office hours uses billing_app instead.
func dayShift(pr principal, t int64) principal {
	if pr.user == prReporting.user && !officeHours(t) {
		return prBilling
	}
	return pr
}

// poller is a client that keeps one connection open during the day and
// runs one statement every period seconds; in the hour before closing it
// polls every thinPeriod seconds, so that its streams are no longer
// steady when it stops.
type poller struct {
	name             string
	opts             sessionOpts
	open, close      float64    // hours of the day
	period, thinning [2]float64 // seconds, min and max
	stmt             func(s *session, r *rng) *stmt
	board            bool // the clinic board (its node is remembered)
}

var pollers = []poller{
	{name: "board", opts: sessionOpts{pr: prWeb, ip: appServerIPs[0], app: "clinic-board"}, open: 7, close: 19,
		period: [2]float64{40, 55}, thinning: [2]float64{100, 180}, board: true, stmt: boardStmt},
	{name: "wallboard", opts: sessionOpts{pr: prReporting}, open: 8, close: 18,
		period: [2]float64{60, 75}, thinning: [2]float64{120, 240}, stmt: wallboardStmt},
}

// boardStmt is the clinic board's poll of recently updated patients.
func boardStmt(s *session, r *rng) *stmt {
	st := driverStmt("SELECT", `SELECT %id, %full_name, %last_name, %updated_at FROM @patients WHERE %updated_at >= ? ORDER BY %updated_at DESC LIMIT ?`,
		[]val{vTime(s.t - durS(3600)), vInt(50)}, true, "clinic", readPatients)
	st.rows = int64(r.between(3, 50))
	return st
}

// wallboardStmt is the finance wall dashboard's auto-refresh (Metabase).
func wallboardStmt(s *session, r *rng) *stmt {
	st := driverStmt("SELECT", `SELECT count(*) AS count, sum(#orders.total) AS sum FROM @orders WHERE #orders.created_at >= ?`,
		[]val{vTime(s.t - s.t%86400e9)}, false, "shop")
	st.rows, st.full, st.latMS = 1, true, r.logNormal(35, 0.4) // no index on created_at
	return st
}

// scheduleRoutines queues every day's routine work.
func (g *Generator) scheduleRoutines() {
	const day = int64(86400e9)
	for d := 0; d < g.cfg.Days; d++ {
		dayStart := g.cfg.rangeStart() + int64(d)*day
		r := newRNG(g.cfg.Seed, fmt.Sprintf("routine-d%d", d+1))
		sub := dayStart + durS(25*60+r.float()*600)
		g.defer_(sub, func() { g.subscriptions(sub, r) })
		for i := range pollers {
			pl := &pollers[i]
			pr := newRNG(g.cfg.Seed, fmt.Sprintf("%s-d%d", pl.name, d+1))
			open := dayStart + durS(pl.open*3600+pr.float()*300)
			g.defer_(open, func() { g.pollerOpen(pl, open, dayStart, pr) })
		}
	}
}

// subscriptions is Metabase sending its nightly subscription e-mails.
func (g *Generator) subscriptions(t int64, r *rng) {
	s := g.connect(t, sessionOpts{pr: prReporting}, r)
	s.wait(durMS(r.exp(400) + 10))
	st := driverStmt("SELECT", `SELECT #orders.status, sum(#orders.total) AS sum FROM @orders GROUP BY #orders.status ORDER BY #orders.status ASC`, nil, false, "shop")
	st.rows, st.full, st.latMS = 4, true, r.logNormal(140, 0.5)
	s.exec(st, r)
	s.wait(durMS(r.exp(900) + 10))
	st = driverStmt("SELECT", `SELECT count(*) AS count FROM @orders WHERE #orders.created_at >= ?`, []val{vTime(s.t - durS(86400))}, false, "shop")
	st.rows, st.full, st.latMS = 1, true, r.logNormal(90, 0.5)
	s.exec(st, r)
	s.close(r)
}

// pollerOpen connects the poller and starts polling.
func (g *Generator) pollerOpen(pl *poller, t, dayStart int64, r *rng) {
	s := g.connect(t, pl.opts, r)
	if pl.board {
		g.board = s
	}
	g.poll(pl, s.t+durS(1+r.float()*3), dayStart, s, r)
}

// poll runs one statement and schedules the next, or closes the
// connection at closing time.
func (g *Generator) poll(pl *poller, t, dayStart int64, s *session, r *rng) {
	s.t = max(s.t, t)
	s.exec(pl.stmt(s, r), r)
	next := s.t + durS(pl.period[0]+r.float()*(pl.period[1]-pl.period[0]))
	if next >= dayStart+durS((pl.close-1)*3600) {
		next = s.t + durS(pl.thinning[0]+r.float()*(pl.thinning[1]-pl.thinning[0]))
	}
	if next >= dayStart+durS(pl.close*3600) {
		g.defer_(next, func() {
			s.t = max(s.t, next)
			s.close(r)
			if pl.board {
				g.board = nil
			}
		})
		return
	}
	g.defer_(next, func() { g.poll(pl, next, dayStart, s, r) })
}
