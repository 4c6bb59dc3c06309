package loggen

import "fmt"

// commonSQL starts a payload with CommonSQLEventDetails only, as DDL,
// privilege, role and cluster-setting events carry.
func (s *session) commonSQL(typ string, st *stmt, ts int64) obj {
	o := newObj(make([]byte, 0, 320))
	o.intAlways("Timestamp", ts)
	o.str("EventType", typ)
	o.str("Statement", st.crdb)
	o.str("Tag", st.tag)
	o.str("User", markUser(s.user))
	o.str("ApplicationName", s.app)
	return o
}

// setSetting runs SET CLUSTER SETTING and logs set_cluster_setting on OPS.
func (s *session) setSetting(name, value string, r *rng) int64 {
	st := &stmt{tag: "SET CLUSTER SETTING", crdb: fmt.Sprintf("SET CLUSTER SETTING %q = %s", name, mark(value)), latMS: r.logNormal(30, 0.3), force: true}
	ts := s.exec(st, r)
	o := s.commonSQL("set_cluster_setting", st, ts)
	o.str("SettingName", name)
	o.str("Value", mark(value))
	s.g.emitTags(s.n, chOps, 'I', s.goid, o.done(), ts+durMS(float64(age(st.latMS))), s.userTags)
	return ts
}

// setAudit runs ALTER TABLE … EXPERIMENTAL_AUDIT SET mode. SQL_SCHEMA is
// not written to any file by default, so only SQL_EXEC and telemetry see it.
func (s *session) setAudit(table, mode string, r *rng) int64 {
	st := &stmt{tag: "ALTER TABLE", crdb: fmt.Sprintf(`ALTER TABLE "".""`+`.%s EXPERIMENTAL_AUDIT SET %s`, table, mode),
		latMS: r.logNormal(60, 0.3), force: true, db: tables[table].db}
	ts := s.exec(st, r)
	s.g.auditOff[table] = mode == "OFF"
	return ts
}

// bootstrap writes what the cluster logs before traffic starts: each
// node's start-up banner, then an operator enabling the logging
// roachwatch relies on.
func (g *Generator) bootstrap() {
	r := newRNG(g.cfg.Seed, "bootstrap")
	for _, n := range g.nodes {
		t := n.started + durS(2+r.float()*3)
		g.emitMessage(n, chOps, 'I', n.newGoroutine(r), "cli/start.go", 1210, fmt.Sprintf(
			"node startup completed:\nCockroachDB node starting at %s\nbuild:               CCL %s @ 2025/01/14 18:32:05 (go1.22.8 X:nocoverageredesign)\nwebui:               ‹https://%s:8080›\nsql:                 ‹postgresql://root@%s:26257/defaultdb?sslcert=certs%%2Fclient.root.crt&sslkey=certs%%2Fclient.root.key&sslmode=verify-full&sslrootcert=certs%%2Fca.crt›\nlogs:                ‹/cockroach/data/logs›\nstore[0]:            ‹path=/cockroach/data›\nstatus:              restarted pre-existing node\nclusterID:           %s\nnodeID:              %d",
			rfc3339(t), crdbVersion, n.host, n.host, n.cluster, n.id), t, nil)
	}
	s := g.connect(g.cfg.rangeStart()+durS(3+r.float()*5), sessionOpts{pr: prRoot, node: g.nodes[0]}, r)
	for _, kv := range [][2]string{
		{"server.auth_log.sql_connections.enabled", "true"},
		{"server.auth_log.sql_sessions.enabled", "true"},
		{"sql.log.all_statements.enabled", "true"},
		{"sql.telemetry.query_sampling.enabled", "true"},
		{"sql.log.slow_query.latency_threshold", "100ms"},
	} {
		s.wait(durMS(200 + r.exp(800)))
		s.setSetting(kv[0], kv[1], r)
	}
	for _, t := range []string{"patients", "customers"} {
		s.wait(durMS(200 + r.exp(800)))
		s.setAudit(t, "READ WRITE", r)
	}
	s.close(r)
}

// auditSilenceAfter is RW-AUDIT-001's default silence_after in seconds.
const auditSilenceAfter = 600

// plantGrantAdmin: root grants the admin role to the application user web
// (RW-PRIV-001).
func plantGrantAdmin(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prRoot, ip: pick(r, []string{"10.20.0.9", unusualIP(r)})}, r)
	p.session(s)
	s.wait(durS(2 + r.float()*20))
	st := &stmt{tag: "GRANT", crdb: "GRANT admin TO web", latMS: r.logNormal(45, 0.3), force: true}
	ts := s.exec(st, r)
	o := s.commonSQL("grant_role", st, ts)
	o.strs("GranteeRoles", []string{mark("admin")})
	o.strs("Members", []string{mark("web")})
	g.emitTags(s.n, chUserAdmin, 'I', s.goid, o.done(), ts+durMS(float64(age(st.latMS))), s.userTags)
	p.decisive(ts)
	s.wait(durS(1 + r.float()*5))
	s.close(r)
	p.describe("root (from %s) granted the admin role to the application user web: privilege escalation of an application principal.", s.ip)
}

// plantAuditTamper: someone turns off auditing of patients and the
// authentication log, then reads patients in the silence; an operator
// restores both later (RW-AUDIT-001).
func plantAuditTamper(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prRoot, ip: unusualIP(r), app: "$ cockroach sql"}, r)
	p.session(s)
	s.wait(durS(3 + r.float()*10))
	p.decisive(s.setAudit("patients", "OFF", r))
	s.wait(durS(1 + r.float()*4))
	s.setSetting("server.auth_log.sql_sessions.enabled", "false", r)
	s.wait(durS(5 + r.float()*20))
	st := driverStmt("SELECT", `SELECT %id, %full_name, %ssn FROM @patients LIMIT ?`, []val{vInt(1000)}, false, "clinic", readPatients)
	st.rows, st.latMS = 1000, r.logNormal(70, 0.3)
	s.exec(st, r)
	s.close(r)
	silence := durS(float64(r.between(15, 35) * 60))
	restore := s.t + silence
	if b := g.board; b != nil {
		// The board's patients stream on its node was steady: its last
		// event before the switch starts a silence RW-AUDIT-001 can see
		// once it lasts silence_after (10 minutes by default).
		last := g.lastAccess[accessKey{b.n.id, "patients"}]
		inc := newIncident(p.inc.ID+"-silence", &Scenario{Category: "audit_silence", Rule: "RW-AUDIT-001", Severity: "high"})
		inc.Principal, inc.SessionID, inc.Node = p.inc.Principal, p.inc.SessionID, b.n.id
		inc.observe(last)
		inc.observe(restore)
		inc.decisive = last + durS(auditSilenceAfter)
		inc.Description = fmt.Sprintf("After %s switched patients auditing off, node %d's sensitive_table_access stream for patients (steady from the clinic board's polling) stops at %s; the silence is detectable %d minutes later and lasts until auditing is restored.",
			p.inc.Principal.User, b.n.id, rfc3339(last), int(auditSilenceAfter/60))
		g.record(inc)
	}
	g.defer_(restore, func() {
		rs := g.connect(restore, sessionOpts{pr: prRoot, node: g.nodes[0]}, r)
		rs.setSetting("server.auth_log.sql_sessions.enabled", "true", r)
		rs.wait(durS(2))
		rs.setAudit("patients", "READ WRITE", r)
		rs.close(r)
	})
	p.describe("root from %s ran ALTER TABLE patients EXPERIMENTAL_AUDIT SET OFF and disabled server.auth_log.sql_sessions.enabled, then read patients; sensitive_table_access for patients and authentication info/failure events are silent for about %d minutes until an operator restores both.",
		s.ip, silence/60e9)
}
