package loggen

// slowQueryMS is sql.log.slow_query.latency_threshold as set at bootstrap.
const slowQueryMS = 100

// telemetrySample is the share of statements telemetry samples when it is
// not rate-limited; DDL, DCL and forced statements are always sampled.
const telemetrySample = 0.12

// exec runs st in the session at the cursor and logs it everywhere it
// shows up: query_execute (SQL_EXEC), sensitive_table_access for audited
// tables, slow_query above the threshold, sampled_query when telemetry
// samples it, and the django.db.backends line when Django issued it. It
// returns the statement's event Timestamp.
func (s *session) exec(st *stmt, r *rng) int64 {
	g := s.g
	if !s.inTxn {
		s.txn++
		s.pos = 0
	}
	s.pos++
	ts := s.t
	lat := st.latMS
	if lat == 0 {
		lat = r.logNormal(1.8, 0.6)
	}
	a := age(lat + r.float()*0.05)
	logged := ts + durMS(float64(a))
	rows := st.rows
	if st.state != "" {
		rows = 0
	}

	ev := s.sqlEvent("query_execute", st, ts, a, rows)
	g.emitTags(s.n, chSQLExec, 'I', s.goid, ev.done(), logged, s.userTags)

	if st.state == "" {
		for _, ta := range st.access {
			if g.auditOff[ta.table] {
				continue
			}
			ev := s.sqlEvent("sensitive_table_access", st, ts, a, rows)
			info := tables[ta.table]
			ev.str("TableName", mark(info.db+".public."+ta.table))
			ev.str("AccessMode", ta.mode)
			g.emitTags(s.n, chSensitiveAccess, 'I', s.goid, ev.done(), logged+2000, s.userTags)
			k := accessKey{s.n.id, ta.table}
			g.lastAccess[k] = max(g.lastAccess[k], ts)
		}
	}
	if lat >= slowQueryMS {
		ev := s.sqlEvent("slow_query", st, ts, a, rows)
		g.emitTags(s.n, chSQLPerf, 'I', s.goid, ev.done(), logged+3000, s.userTags)
	}
	fp := st.fingerprintID()
	if s.inTxn {
		s.txnFPs = append(s.txnFPs, fp)
		s.txnRows += rows
	}
	nodeIdx := s.n.id - 1
	if st.force || st.tag == "GRANT" || st.tag == "ALTER TABLE" || st.tag == "SET CLUSTER SETTING" || r.chance(telemetrySample) {
		s.sampledQuery(st, ts, a, rows, fp, g.skipped[nodeIdx], r, logged+4000)
		g.skipped[nodeIdx] = 0
	} else {
		g.skipped[nodeIdx]++
	}
	if s.dj != nil && st.django != "" {
		at := logged + durMS(0.15+r.float()*0.4)
		sql := st.django + s.commentFor(st.params != nil)
		dur := float64(a)/1000 + 0.0002 + r.float()*0.0004
		g.emitDjango(s.dj, sqlRecord(at, s.worker, dur, sql, st.params, alias(st.db)))
	}
	s.t = logged
	return ts
}

// sqlEvent starts a payload with CommonSQLEventDetails and
// CommonSQLExecDetails; the caller adds event fields and calls done.
func (s *session) sqlEvent(typ string, st *stmt, ts int64, a float32, rows int64) obj {
	o := newObj(make([]byte, 0, 256+len(st.crdb)))
	o.intAlways("Timestamp", ts)
	o.str("EventType", typ)
	o.str("Statement", st.crdb)
	o.str("Tag", st.tag)
	o.str("User", markUser(s.user))
	if typ == "sensitive_table_access" && len(st.access) > 0 {
		o.uint("DescriptorID", uint64(tables[st.access[0].table].id))
	}
	o.str("ApplicationName", s.app)
	o.strs("PlaceholderValues", st.ph)
	o.str("ExecMode", "exec")
	o.int("NumRows", rows)
	o.str("SQLSTATE", st.state)
	o.str("ErrorText", st.errTxt)
	o.f32("Age", a)
	o.flag("FullTableScan", st.full)
	o.int("TxnCounter", s.txn)
	o.int("StmtPosInTxn", s.pos)
	return o
}

// sampledQuery logs the TELEMETRY sampled_query event with plan and
// execution statistics derived from the statement.
func (s *session) sampledQuery(st *stmt, ts int64, a float32, rows int64, fp uint64, skipped uint64, r *rng, at int64) {
	o := s.sqlEvent("sampled_query", st, ts, a, rows)
	o.uint("SkippedQueries", skipped)
	scanned := rows
	if st.full && scanned < 1000 {
		scanned = int64(1000 + r.intn(50000))
	}
	if scanned == 0 && st.tag == "SELECT" {
		scanned = 1
	}
	cost := float64(scanned)*1.06 + 4.1 + float64(r.intn(100))/10
	o.f64("CostEstimate", roundTo(cost, 2))
	dist := "local"
	if st.full && scanned > 10000 {
		dist = "full"
	}
	o.str("Distribution", dist)
	o.str("PlanGist", planGist(fp))
	o.str("SessionID", s.id)
	o.str("Database", st.db)
	o.str("StatementID", s.g.hlcID(ts, s.n))
	o.str("TransactionID", r.uuid())
	o.uint("StatementFingerprintID", fp)
	if st.full {
		o.int("MaxFullScanRowsEstimate", scanned)
	}
	o.int("TotalScanRowsEstimate", scanned)
	o.int("OutputRowsEstimate", rows)
	o.flag("StatsAvailable", true)
	bytesRead := scanned * int64(120+r.intn(240))
	o.int("NetworkBytesSent", rows*int64(90+r.intn(120)))
	o.int("MaxMemUsage", int64(10240*(1+r.intn(40))))
	o.int("BytesRead", bytesRead)
	o.int("RowsRead", scanned)
	if st.tag == "INSERT" || st.tag == "UPDATE" || st.tag == "DELETE" || st.tag == "UPSERT" {
		o.int("RowsWritten", rows)
	}
	o.int("KVBytesRead", bytesRead)
	o.int("KVPairsRead", scanned)
	o.int("KVRowsRead", scanned)
	if st.tag == "SELECT" {
		o.int("ScanCount", 1)
	}
	svc := durMS(float64(a))
	o.int("ServiceLatencyNanos", svc)
	o.int("RunLatencyNanos", svc*7/10)
	o.int("PlanLatencyNanos", svc/5)
	o.int("ParseLatencyNanos", svc/40+1500)
	o.int("OverheadLatencyNanos", svc/20+800)
	o.int("CpuTimeNanos", svc/3)
	o.int("KvTimeNanos", svc/2)
	s.g.emitTags(s.n, chTelemetry, 'I', s.goid, o.done(), at, s.userTags)
}

// sampledTxn logs a TELEMETRY sampled_transaction for the current or just
// finished transaction.
func (s *session) sampledTxn(r *rng, implicit bool) {
	o := newObj(make([]byte, 0, 512))
	o.intAlways("Timestamp", s.t)
	o.str("EventType", "sampled_transaction")
	o.str("User", markUser(s.user))
	o.str("ApplicationName", s.app)
	o.int("TxnCounter", s.txn)
	o.str("SessionID", s.id)
	o.str("TransactionID", r.uuid())
	var h uint64 = 1469598103934665603
	for _, f := range s.txnFPs {
		h = (h ^ f) * 1099511628211
	}
	o.uint("TransactionFingerprintID", h)
	o.boolAlways("Committed", true)
	o.boolAlways("ImplicitTxn", implicit)
	o.int("StartTimeUnixNanos", s.txnStart)
	o.int("EndTimeUnixNanos", s.t)
	o.int("ServiceLatNanos", s.t-s.txnStart)
	o.int("NumRows", s.txnRows)
	o.int("CommitLatNanos", durMS(0.8+r.float()*3))
	o.int("RowsRead", s.txnRows+int64(len(s.txnFPs)))
	o.int("BytesRead", (s.txnRows+1)*int64(100+r.intn(200)))
	o.uints("StatementFingerprintIDs", s.txnFPs)
	o.uint("SkippedTransactions", uint64(r.intn(40)))
	s.g.emitTags(s.n, chTelemetry, 'I', s.goid, o.done(), s.t+5000, s.userTags)
}

// planGist is a stable base64-looking plan gist for a fingerprint.
func planGist(fp uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := []byte("AgH")
	for i := 0; i < 13; i++ {
		b = append(b, alphabet[fp%64])
		fp = fp/64 + uint64(i)*7919
	}
	return string(b)
}

func roundTo(f float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}
