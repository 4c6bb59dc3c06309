package loggen

// plantPlaintextSensitive: a hostnossl session from an address no benign
// principal uses reads SSNs or card numbers (RW-TLS-001, critical).
func plantPlaintextSensitive(p *planter) {
	g, r := p.g, p.r
	pr := dayShift(pick(r, []principal{prWeb, prReporting, prBilling}), p.at)
	tool := pick(r, []string{"psql", "DBeaver 24.1.0 - SQLEditor <clinic>", "pgcli"})
	s := g.connect(p.at, sessionOpts{pr: pr, ip: unusualIP(r), app: tool, transport: "hostnossl", method: "password"}, r)
	p.session(s)
	s.wait(durS(3 + r.float()*20))
	var st *stmt
	column := "patients.ssn"
	if r.chance(0.5) {
		st = driverStmt("SELECT", `SELECT %id, %full_name, %dob, %ssn FROM @patients WHERE %last_name = ?`,
			[]val{vStr(pick(r, lastNames))}, false, "clinic", readPatients)
		st.rows = int64(r.between(1, 9))
	} else {
		column = "customers.card_number"
		st = driverStmt("SELECT", `SELECT %id, %email, %card_number FROM @customers ORDER BY %id DESC LIMIT ?`,
			[]val{vInt(500)}, false, "shop", readCustomers)
		st.rows, st.latMS = 500, r.logNormal(35, 0.3)
	}
	p.decisive(s.exec(st, r))
	s.wait(durS(2 + r.float()*10))
	s.exec(driverStmt("SELECT", `SELECT count(*) FROM @orders`, nil, false, "shop"), r)
	s.wait(durS(1 + r.float()*5))
	s.close(r)
	p.describe("%s connected over hostnossl (no TLS) from %s with %q and read %s; credentials and the sensitive values crossed the network in the clear.",
		s.user, s.ip, tool, column)
}

// plantPlaintextSession: the billing service connects without TLS from its
// usual address (a sslmode=disable slip) and touches no sensitive column
// (RW-TLS-001, high).
func plantPlaintextSession(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prBilling, transport: "hostnossl", method: "password"}, r)
	p.session(s)
	p.decisive(s.identAt)
	for n := r.between(1, 3); n > 0; n-- {
		s.wait(durMS(r.exp(800) + 2))
		s.begin(r)
		st := driverStmt("SELECT", `SELECT %id, %balance FROM @accounts WHERE %customer_id = ?`, []val{vInt(int64(r.between(1, 250000)))}, true, "shop")
		st.rows = 1
		s.exec(st, r)
		st = driverStmt("UPDATE", `UPDATE @accounts SET %balance = %balance - ? WHERE %id = ?`, []val{vDec("12.50"), vStr(r.hex(4))}, true, "shop")
		st.rows = 1
		s.exec(st, r)
		s.commit(r)
	}
	s.close(r)
	p.describe("%s authenticated over hostnossl from its usual address %s (sslmode=disable); password and queries travelled in the clear, no sensitive column touched.",
		s.user, s.ip)
}
