package loggen

// plantBruteForce: 20-35 password failures (Reason 6) for one user from one
// external address within about two minutes, then a success from the same
// address and a look around (RW-AUTH-001, critical because of the success).
func plantBruteForce(p *planter) {
	g, r := p.g, p.r
	pr := dayShift(pick(r, []principal{prReporting, prBilling, prMigrator}), p.at)
	ip := "203.0.113." + itoa(int64(r.between(2, 250)))
	tool := pick(r, []string{"hydra", "psql", "pgx-bench"})
	n := g.nodes[r.intn(len(g.nodes))]
	o := sessionOpts{pr: pr, ip: ip, app: tool, method: "password", node: n}
	attempts := r.between(20, 35)
	t := p.at
	step := durS(100) / int64(attempts)
	for i := 0; i < attempts; i++ {
		s := g.failedLogin(t, o, r)
		t = s.t + step/2 + int64(r.float()*float64(step)/2)
	}
	s := g.connect(t, o, r)
	p.session(s)
	p.decisive(s.authAt)
	s.wait(durS(2 + r.float()*5))
	st := driverStmt("SELECT", `SELECT %id, %full_name, %email FROM @customers ORDER BY %id LIMIT ?`, []val{vInt(100)}, false, "shop", readCustomers)
	st.rows = 100
	s.exec(st, r)
	s.wait(durS(1 + r.float()*3))
	s.close(r)
	p.describe("%d failed password logins (CREDENTIALS_INVALID) for %s from %s in about two minutes, then a successful login from the same address.",
		attempts, pr.user, ip)
}

// plantTypoLookalike: one or two mistyped passwords followed by success
// from the principal's usual address (benign).
func plantTypoLookalike(p *planter) {
	pr := dayShift(pick(p.r, []principal{prBilling, prReporting}), p.at)
	s := p.g.typoLogin(p.at, p.r, pr)
	p.session(s)
	p.decisive(s.authAt)
	p.describe("A mistyped password or two for %s from its usual address %s, then success: not brute force.", s.user, s.ip)
}
