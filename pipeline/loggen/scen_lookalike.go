package loggen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Benign look-alikes of the categories whose incidents live elsewhere.
// Each must stay quiet (no high or critical finding of the category's
// rule for its principal at its decisive time).

// plantTLSLookalike: an operator on db-node-1 opens the SQL shell over the
// unix socket (transport local, not hostnossl), and another opens one
// over TLS from a VPN address no principal used before.
func plantTLSLookalike(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prRoot, transport: "local", method: "password", node: g.nodes[0]}, r)
	p.session(s)
	p.decisive(s.authAt)
	s.wait(durS(1 + r.float()*4))
	s.exec(&stmt{tag: "SHOW JOBS", crdb: "SHOW JOBS", rows: int64(r.between(5, 60)), latMS: r.logNormal(20, 0.3)}, r)
	s.wait(durS(1 + r.float()*3))
	s.close(r)
	p.describe("root opened `cockroach sql` over the unix socket on %s (transport local): no network hop, not a plaintext TCP session.", s.n.host)

	p.sub("vpn", Scenario{Category: "tls_plaintext", Lookalike: true}, func(q *planter) {
		t := s.t + durS(30+r.float()*60)
		v := g.connect(t, sessionOpts{pr: prRoot, ip: "192.0.2." + itoa(int64(r.between(20, 250)))}, r)
		q.session(v)
		q.decisive(v.authAt)
		v.wait(durS(2 + r.float()*5))
		v.exec(&stmt{tag: "SHOW CLUSTER SETTING", crdb: "SHOW CLUSTER SETTING \"sql.log.all_statements.enabled\"", rows: 1}, r)
		v.close(r)
		q.describe("root connected over hostssl with a client certificate from the VPN address %s, unusual but encrypted: not a plaintext session.", v.ip)
	})
}

// plantPrivLookalike: an operator tidies grants: revokes SELECT on
// patients from reporting and grants SELECT on the non-sensitive orders
// table to reporting.
func plantPrivLookalike(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prRoot}, r)
	p.session(s)
	s.wait(durS(2 + r.float()*10))
	p.decisive(s.tablePrivilege("REVOKE", "SELECT", "patients", "reporting", r))
	s.wait(durS(2 + r.float()*10))
	s.tablePrivilege("GRANT", "SELECT", "orders", "reporting", r)
	s.wait(durS(1 + r.float()*5))
	s.close(r)
	p.describe("root revoked SELECT on patients from reporting and granted SELECT on the non-sensitive orders table to reporting: least-privilege housekeeping, not escalation.")
}

// tablePrivilege runs GRANT or REVOKE of priv on table and logs
// change_table_privilege on PRIVILEGES. It returns the statement time.
func (s *session) tablePrivilege(verb, priv, table, grantee string, r *rng) int64 {
	info := tables[table]
	qual := info.db + ".public." + table
	sql := fmt.Sprintf("%s %s ON TABLE %s TO %s", verb, priv, qual, grantee)
	if verb == "REVOKE" {
		sql = fmt.Sprintf("REVOKE %s ON TABLE %s FROM %s", priv, qual, grantee)
	}
	st := &stmt{tag: verb, crdb: sql, latMS: r.logNormal(40, 0.3), force: true, db: info.db}
	ts := s.exec(st, r)
	o := s.commonSQL("change_table_privilege", st, ts)
	o.uint("DescriptorID", uint64(info.id))
	o.str("Grantee", mark(grantee))
	if verb == "REVOKE" {
		o.strs("RevokedPrivileges", []string{priv})
	} else {
		o.strs("GrantedPrivileges", []string{priv})
	}
	o.str("TableName", mark(qual))
	s.g.emitTags(s.n, chPrivileges, 'I', s.goid, o.done(), ts+durMS(float64(age(st.latMS))), s.userTags)
	return ts
}

// plantAuditLookalike: the early-morning configuration-management run
// re-applies the logging settings and table auditing (turning logging ON).
func plantAuditLookalike(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prRoot, node: g.nodes[0], app: "ansible"}, r)
	p.session(s)
	for i, kv := range [][2]string{
		{"server.auth_log.sql_sessions.enabled", "true"},
		{"server.auth_log.sql_connections.enabled", "true"},
		{"sql.log.all_statements.enabled", "true"},
	} {
		s.wait(durMS(200 + r.exp(800)))
		ts := s.setSetting(kv[0], kv[1], r)
		if i == 0 {
			p.decisive(ts)
		}
	}
	for _, t := range []string{"patients", "customers"} {
		s.wait(durMS(200 + r.exp(800)))
		s.setAudit(t, "READ WRITE", r)
	}
	s.close(r)
	p.describe("The configuration-management run (root, ansible, %s) re-applied the logging settings (= true) and EXPERIMENTAL_AUDIT SET READ WRITE on patients and customers: logging turned on, not off.", s.ip)
}

// plantSecretsLookalike: Django logs values that look like secrets but
// are not: a SHA-256 digest, a request UUID and a DSN whose password is
// masked.
func plantSecretsLookalike(p *planter) {
	g, r := p.g, p.r
	srv := g.dj[r.intn(2)]
	w := pick(r, srv.workers)
	t := p.at
	sum := sha256.Sum256([]byte(r.hex(16)))
	g.emitDjango(srv, appRecord(t, w, "INFO", "clinic.tasks", "tasks",
		"exported appointments-"+isoTime(t)[:10]+".csv.gz (sha256="+hex.EncodeToString(sum[:])+")"))
	p.decisive(t - t%1e6)
	t += durS(2 + r.float()*30)
	g.emitDjango(srv, appRecord(t, w, "INFO", "accounts.api", "views",
		"password reset e-mail queued, request_id="+r.uuid()))
	t += durS(2 + r.float()*30)
	g.emitDjango(srv, appRecord(t, w, "WARNING", "clinic.tasks", "tasks",
		"warehouse sync retrying in 30s: could not connect to postgresql://etl_sync:*****@warehouse.db.example.internal:26257/analytics?sslmode=verify-full"))
	p.inc.Principal = Principal{User: "", ClientAddr: srv.ip, Application: "django"}
	p.describe("Django (%s) logged a SHA-256 file digest, a request UUID and a DSN with its password masked (*****): no secret in the clear.", srv.name)
}

// plantExportLookalike: reporting runs its usual month-to-date revenue
// export at its usual size (RW-ANOM-001 must stay quiet).
func plantExportLookalike(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prReporting}, r)
	p.session(s)
	s.wait(durS(1 + r.float()*5))
	st := revenueExport(s, r)
	st.force = true // telemetry samples it: rows_read is judged too
	p.decisive(s.exec(st, r))
	s.close(r)
	p.describe("reporting ran its usual month-to-date revenue export (%d rows, the size it always has): a big read that is normal for this principal.", st.rows)
}

// plantNightlyETL: the nightly ETL service user, present every day since
// the first, reads patients (RW-ANOM-006 must stay quiet).
func plantNightlyETL(p *planter) {
	g, r := p.g, p.r
	pr := principal{user: "etl_nightly", app: "etl", addrs: []string{"10.20.6.40"}, method: "cert-password"}
	s := g.connect(p.at, sessionOpts{pr: pr}, r)
	p.session(s)
	p.decisive(s.identAt)
	s.wait(durS(1 + r.float()*3))
	st := driverStmt("SELECT", `SELECT %id, %full_name, %updated_at FROM @patients WHERE %updated_at >= ? ORDER BY %id`,
		[]val{vTime(s.t - durS(86400))}, true, "clinic", readPatients)
	st.rows, st.latMS = int64(r.between(200, 900)), r.logNormal(80, 0.3)
	s.exec(st, r)
	s.close(r)
	p.describe("The nightly ETL user etl_nightly (%s), seen every night since the first day, read the patients changed in the last day: a known service principal.", s.ip)
}

// plantNightBatch: billing_app's nightly settlement batch; billing works
// around the clock, so the hour is normal for it (RW-ANOM-004 quiet).
func plantNightBatch(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prBilling}, r)
	p.session(s)
	p.decisive(s.identAt)
	for n := r.between(2, 4); n > 0; n-- {
		s.wait(durMS(r.exp(800) + 2))
		s.begin(r)
		st := driverStmt("SELECT", `SELECT %id, %balance FROM @accounts WHERE %customer_id = ?`, []val{vInt(int64(r.between(1, 250000)))}, true, "shop")
		st.rows = 1
		s.exec(st, r)
		s.commit(r)
	}
	s.close(r)
	p.describe("billing_app's nightly settlement at %s: billing runs around the clock, so night activity is within its profile.", isoTime(p.at)[11:16])
}
