package loggen

import "fmt"

// benign runs one benign activity starting at t, chosen by weight.
func (g *Generator) benign(t int64) {
	r := g.tr
	switch k := r.intn(1000); {
	case k < 480:
		g.webSession(t, r)
	case k < 660:
		g.billingSession(t, r)
	case k < 720:
		if officeHours(t) {
			g.reportingSession(t, r)
		} else {
			g.billingSession(t, r)
		}
	case k < 900:
		g.internalJob(t, r)
	case k < 950:
		g.opsMessage(t, r)
	case k < 980:
		g.djangoNoise(t, r)
	case k < 995:
		g.typoLogin(t, r, dayShift(pick(r, []principal{prBilling, prReporting}), t))
	default:
		g.adminSession(t, r)
	}
}

// webSession is a persistent Django connection serving a few requests.
func (g *Generator) webSession(t int64, r *rng) {
	srv := g.dj[r.intn(2)]
	s := g.connect(t, sessionOpts{pr: prWeb, ip: srv.ip, dj: srv}, r)
	for n := r.between(1, 5); n > 0; n-- {
		s.wait(durMS(r.exp(3000) + 5))
		g.webRequest(s, r)
	}
	s.wait(durS(r.exp(15)))
	s.close(r)
}

// billingSession is the billing service (pgx, placeholders) charging
// accounts inside explicit transactions.
func (g *Generator) billingSession(t int64, r *rng) {
	s := g.connect(t, sessionOpts{pr: prBilling}, r)
	for n := r.between(1, 3); n > 0; n-- {
		s.wait(durMS(r.exp(800) + 2))
		s.begin(r)
		cust := int64(r.between(1, 250000))
		st := driverStmt("SELECT", `SELECT %id, %balance FROM @accounts WHERE %customer_id = ?`, []val{vInt(cust)}, true, "shop")
		st.rows = 1
		s.exec(st, r)
		amount := vDec(fmt.Sprintf("%d.%02d", r.between(1, 400), r.intn(100)))
		st = driverStmt("UPDATE", `UPDATE @accounts SET %balance = %balance - ? WHERE %id = ?`, []val{amount, vStr(r.hex(4))}, true, "shop")
		st.rows = 1
		s.exec(st, r)
		st = driverStmt("INSERT", `INSERT INTO @orders^(%customer_id, %total, %status, %created_at) VALUES (?, ?, ?, now()) RETURNING %id`,
			[]val{vInt(cust), amount, vStr("paid")}, true, "shop")
		st.rows = 1
		s.exec(st, r)
		if r.chance(0.3) {
			st = driverStmt("SELECT", `SELECT %id, %iban FROM @customers WHERE %id = ?`, []val{vInt(cust)}, true, "shop", readCustomers)
			st.rows = 1
			s.exec(st, r)
		}
		s.commit(r)
	}
	s.wait(durS(r.exp(5)))
	s.close(r)
}

// reportingSession is Metabase running dashboard queries during office
// hours, now and then the month-to-date revenue export.
func (g *Generator) reportingSession(t int64, r *rng) {
	s := g.connect(t, sessionOpts{pr: prReporting}, r)
	for n := r.between(2, 4); n > 0; n-- {
		s.wait(durMS(r.exp(1500) + 10))
		var st *stmt
		if r.chance(0.25) {
			s.exec(revenueExport(s, r), r)
			continue
		}
		switch r.intn(3) {
		case 0:
			st = driverStmt("SELECT", `SELECT count(*) AS count FROM @orders WHERE #orders.created_at >= ?`, []val{vTime(s.t - durS(86400*7))}, false, "shop")
			st.rows, st.full, st.latMS = 1, true, r.logNormal(90, 0.5)
		case 1:
			st = driverStmt("SELECT", `SELECT #orders.status, sum(#orders.total) AS sum FROM @orders GROUP BY #orders.status ORDER BY #orders.status ASC`, nil, false, "shop")
			st.rows, st.full, st.latMS = 4, true, r.logNormal(140, 0.5)
		default:
			st = driverStmt("SELECT", `SELECT #customers.id, #customers.full_name, #customers.created_at FROM @customers WHERE #customers.created_at >= ? ORDER BY #customers.created_at DESC LIMIT 2000`,
				[]val{vTime(s.t - durS(86400*30))}, false, "shop", readCustomers)
			st.rows, st.latMS = int64(r.between(100, 2000)), r.logNormal(40, 0.4)
		}
		s.exec(st, r)
	}
	s.wait(durS(r.exp(3)))
	s.close(r)
}

// revenueExport is the month-to-date revenue per customer Metabase
// exports for finance: a big read (12k-26k rows) that is normal for
// reporting.
func revenueExport(s *session, r *rng) *stmt {
	st := driverStmt("SELECT", `SELECT #orders.customer_id, count(*) AS count, sum(#orders.total) AS sum FROM @orders WHERE #orders.created_at >= ? GROUP BY #orders.customer_id ORDER BY sum DESC`,
		[]val{vTime(s.t - durS(86400*30))}, false, "shop")
	st.rows, st.full, st.latMS = int64(r.between(12000, 26000)), true, r.logNormal(1400, 0.2)
	return st
}

// internalJob is one query of CockroachDB's internal executor.
func (g *Generator) internalJob(t int64, r *rng) {
	type job struct{ name, sql, tag string }
	jobs := []job{
		{"find-scheduled-jobs", "SELECT id, next_run, schedule_expr, schedule_details, executor_type, execution_args FROM system.public.scheduled_jobs WHERE next_run < current_timestamp() ORDER BY random() LIMIT ‹10›", "SELECT"},
		{"expire-sessions", "DELETE FROM system.public.sqlliveness WHERE expiration < ‹" + fmt.Sprintf("%d.%010d", t/1e9, t%1e9) + "›", "DELETE"},
		{"delete-old-sql-stats", "DELETE FROM system.public.statement_statistics WHERE aggregated_ts < (now() - ‹'1 day'›::INTERVAL) LIMIT ‹1024›", "DELETE"},
		{"get-job-row", "SELECT status, payload, progress, crdb_internal.sql_liveness_is_alive(claim_session_id) FROM system.public.jobs WHERE id = ‹" + itoa(int64(1077000000000000000+r.intn(1e9))) + "›", "SELECT"},
	}
	j := pick(r, jobs)
	n := g.nodes[r.intn(len(g.nodes))]
	a := age(r.logNormal(2.5, 0.7))
	o := newObj(make([]byte, 0, 384))
	o.intAlways("Timestamp", t)
	o.str("EventType", "query_execute")
	o.str("Statement", j.sql)
	o.str("Tag", j.tag)
	o.str("User", "node")
	o.str("ApplicationName", "$ internal-"+j.name)
	o.str("ExecMode", "exec-internal")
	o.int("NumRows", int64(r.intn(3)))
	o.f32("Age", a)
	o.int("TxnCounter", 1)
	o.int("StmtPosInTxn", 1)
	g.emitTags(n, chSQLExec, 'I', n.newGoroutine(r), o.done(), t, []tag{{"intExec", j.name}})
}

// opsMessage is an unstructured DEV or OPS message, sometimes multi-line.
func (g *Generator) opsMessage(t int64, r *rng) {
	n := g.nodes[r.intn(len(g.nodes))]
	goid := n.newGoroutine(r)
	switch r.intn(5) {
	case 0:
		g.emitMessage(n, chOps, 'I', goid, "server/status.go", 1120, fmt.Sprintf("node status:\nranges: ‹%d›\nleases: ‹%d›\nreplicas: ‹%d›",
			r.between(380, 450), r.between(120, 160), r.between(1100, 1300)), t, nil)
	case 1:
		g.emitMessage(n, chDev, 'I', goid, "gossip/gossip.go", 1456, fmt.Sprintf("gossip status (ok, %d node%s)\ngossip client (1/3 cur/max conns)\ngossip server (%d/3 cur/max conns, infos ‹%d›/‹%d› sent/received)",
			len(g.nodes), map[bool]string{true: "s", false: ""}[len(g.nodes) > 1], len(g.nodes)-1, r.between(900, 1200), r.between(300, 500)), t, nil)
	case 2:
		g.emitMessage(n, chDev, 'W', goid, "server/status.go", 612, fmt.Sprintf("disk usage above ‹%d›%%", r.between(80, 88)), t, nil)
	case 3:
		g.emitMessage(n, chOps, 'I', goid, "jobs/registry.go", 1620, fmt.Sprintf("job ‹%d›: stepping through state succeeded", 1077000000000000000+r.intn(1e9)), t, []tag{{"job", "AUTO_CREATE_STATS"}})
	default:
		g.emitMessage(n, chDev, 'I', goid, "kv/kvserver/replica_command.go", 434, fmt.Sprintf("initiating a split of this range at key ‹/Table/119/1/%d› [r%d]", r.between(1, 250000), r.between(200, 900)), t, []tag{{"s", "1"}, {"r", fmt.Sprintf("%d/1", r.between(100, 200))}})
	}
}

// djangoNoise is request-level Django logging without SQL: 404s from
// crawlers and the occasional server error with a traceback.
func (g *Generator) djangoNoise(t int64, r *rng) {
	srv := g.dj[r.intn(2)]
	w := pick(r, srv.workers)
	if r.chance(0.85) {
		path := pick(r, []string{"/wp-login.php", "/.env", "/favicon.ico", "/api/v1/health/", "/static/app.js.map", "/robots.txt"})
		g.emitDjango(srv, requestRecord(t, w, "WARNING", "django.request", "Not Found: "+path, 404, "GET", path))
		return
	}
	path := "/shop/orders/export/"
	g.emitDjango(srv, &djRec{at: t, level: "ERROR", logger: "django.request", module: "log", w: w,
		msg: "Internal Server Error: " + path, exc: traceback("shop/views.py", "export_orders",
			"psycopg2.errors.SerializationFailure: restart transaction: TransactionRetryWithProtoRefreshError: ReadWithinUncertaintyIntervalError"),
		extras: []djKV{{"status_code", []byte("500")}, {"request", appendPyJSONString(nil, "<WSGIRequest: GET '"+path+"'>")}}})
}

// traceback renders a Python traceback ending in the given exception.
func traceback(file, fn, exc string) string {
	return "Traceback (most recent call last):\n" +
		"  File \"/srv/app/venv/lib/python3.11/site-packages/django/core/handlers/exception.py\", line 55, in inner\n" +
		"    response = get_response(request)\n" +
		"  File \"/srv/app/venv/lib/python3.11/site-packages/django/core/handlers/base.py\", line 197, in _get_response\n" +
		"    response = wrapped_callback(request, *callback_args, **callback_kwargs)\n" +
		"  File \"/srv/app/" + file + "\", line 88, in " + fn + "\n" +
		"    rows = list(qs)\n" +
		"  File \"/srv/app/venv/lib/python3.11/site-packages/django/db/backends/utils.py\", line 89, in _execute\n" +
		"    return self.cursor.execute(sql, params)\n" + exc
}

// typoLogin is a benign mistyped password followed by a success.
func (g *Generator) typoLogin(t int64, r *rng, pr principal) *session {
	o := sessionOpts{pr: pr, ip: pick(r, pr.addrs), method: "password"}
	for n := r.between(1, 2); n > 0; n-- {
		s := g.failedLogin(t, o, r)
		t = s.t + durS(r.float()*6+1.5)
	}
	s := g.connect(t, o, r)
	s.wait(durMS(r.exp(500)))
	st := driverStmt("SELECT", `SELECT count(*) AS count FROM @orders`, nil, false, "shop")
	st.rows, st.full, st.latMS = 1, true, r.logNormal(60, 0.3)
	s.exec(st, r)
	s.close(r)
	return s
}

// adminSession is an operator looking around with the SQL shell.
func (g *Generator) adminSession(t int64, r *rng) {
	s := g.connect(t, sessionOpts{pr: prRoot, node: g.nodes[0]}, r)
	s.wait(durS(r.exp(4)))
	s.exec(&stmt{tag: "SHOW JOBS", crdb: "SHOW JOBS", rows: int64(r.between(5, 60)), latMS: r.logNormal(20, 0.3)}, r)
	s.wait(durS(r.exp(8)))
	s.exec(&stmt{tag: "SHOW CLUSTER SETTING", crdb: "SHOW CLUSTER SETTING \"sql.log.all_statements.enabled\"", rows: 1}, r)
	s.close(r)
}
