package loggen

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// plantExfiltration: reporting reads the whole customers table with card
// numbers, 250000 rows, far above its usual dashboard reads (RW-ANOM-001).
func plantExfiltration(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prReporting}, r)
	p.session(s)
	s.wait(durS(1 + r.float()*5))
	st := driverStmt("SELECT", `SELECT #customers.id, #customers.full_name, #customers.email, #customers.card_number, #customers.iban FROM @customers`,
		nil, false, "shop", readCustomers)
	st.rows, st.full, st.latMS, st.force = 250000, true, r.logNormal(9200, 0.1), true
	p.decisive(s.exec(st, r))
	s.wait(durS(2 + r.float()*5))
	s.close(r)
	p.describe("%s (%s) read the whole customers table including card_number and iban: 250000 rows in one full scan, far above its baseline.", s.user, s.app)
}

// plantNewPrincipal: a SQL user never seen before reads patients
// (RW-ANOM-006).
func plantNewPrincipal(p *planter) {
	g, r := p.g, p.r
	pr := principal{user: "etl_tmp", app: "etl", addrs: []string{"10.20.6.50"}, method: "password"}
	s := g.connect(p.at, sessionOpts{pr: pr}, r)
	p.session(s)
	p.decisive(s.identAt)
	s.wait(durS(1 + r.float()*3))
	st := driverStmt("SELECT", `SELECT %id, %full_name, %dob, %ssn FROM @patients WHERE %id > ? ORDER BY %id LIMIT ?`,
		[]val{vInt(0), vInt(5000)}, false, "clinic", readPatients)
	st.rows, st.latMS = 5000, r.logNormal(260, 0.2)
	s.exec(st, r)
	s.close(r)
	p.describe("Never-seen principal etl_tmp (app etl, %s) authenticated and read 5000 patients rows including ssn and dob.", s.ip)
}

// plantNewNetwork: the billing service connects from a network it never
// used before (RW-ANOM-005).
func plantNewNetwork(p *planter) {
	g, r := p.g, p.r
	ip := fmt.Sprintf("10.99.%d.%d", r.between(1, 20), r.between(2, 250))
	p.sub("usual-net", Scenario{Category: "new_client_network", Lookalike: true}, func(q *planter) {
		v := g.connect(p.at, sessionOpts{pr: prBilling, ip: "10.20.4.23"}, r)
		q.session(v)
		q.decisive(v.identAt)
		v.wait(durMS(r.exp(800) + 2))
		st := driverStmt("SELECT", `SELECT %id, %balance FROM @accounts WHERE %customer_id = ?`, []val{vInt(int64(r.between(1, 250000)))}, true, "shop")
		st.rows = 1
		v.exec(st, r)
		v.close(r)
		q.describe("billing_app connected from 10.20.4.23, a new replica inside its usual network 10.20.4.0/24: not a new network.")
	})
	s := g.connect(p.at+durS(60+r.float()*60), sessionOpts{pr: prBilling, ip: ip}, r)
	p.session(s)
	p.decisive(s.identAt)
	s.wait(durMS(r.exp(800) + 2))
	s.begin(r)
	st := driverStmt("SELECT", `SELECT %id, %balance FROM @accounts WHERE %customer_id = ?`, []val{vInt(int64(r.between(1, 250000)))}, true, "shop")
	st.rows = 1
	s.exec(st, r)
	s.commit(r)
	s.close(r)
	p.describe("billing_app connected from %s, a client network it never used before (usual: 10.20.4.0/24).", ip)
}

// plantSecretsInDjango: Django logs a DSN with its password and a bearer
// JWT in the clear (RW-CRYPTO-003).
func plantSecretsInDjango(p *planter) {
	g, r := p.g, p.r
	srv := g.dj[r.intn(2)]
	w := pick(r, srv.workers)
	password := r.hex(6) + "-" + r.hex(6)
	dsn := "postgresql://etl_sync:" + password + "@warehouse.db.example.internal:26257/analytics?sslmode=verify-full"
	t := p.at
	g.emitDjango(srv, appRecord(t, w, "ERROR", "clinic.tasks", "tasks",
		"warehouse sync failed: could not connect to "+dsn+": connection refused"))
	p.decisive(t - t%1e6)
	t += durS(5 + r.float()*60)
	user := pick(r, usernames)
	jwt := makeJWT(r, user, t/1e9)
	g.emitDjango(srv, appRecord(t, w, "INFO", "accounts.api", "tokens",
		"issued API token for "+user+": Authorization: Bearer "+jwt))
	p.inc.Principal = Principal{User: "", ClientAddr: srv.ip, Application: "django"}
	p.describe("Django (%s) logged a database DSN with its password and a bearer JWT in the clear.", srv.name)
}

// makeJWT builds an HS256 JSON Web Token for user issued at iat.
func makeJWT(r *rng, user string, iat int64) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString([]byte(fmt.Sprintf(`{"sub":%q,"iat":%d,"exp":%d,"scope":"api"}`, user, iat, iat+3600)))
	mac := hmac.New(sha256.New, []byte(r.hex(32)))
	mac.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(mac.Sum(nil))
}

// plantOffHours: reporting, which works during office hours (and sends
// Metabase's subscriptions at about 00:30), runs dashboard queries from
// its usual address at about 03:00 on the last day (RW-ANOM-004).
func plantOffHours(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prReporting}, r)
	p.session(s)
	p.decisive(s.identAt)
	for n := r.between(3, 5); n > 0; n-- {
		s.wait(durS(2 + r.float()*20))
		st := driverStmt("SELECT", `SELECT #customers.id, #customers.full_name, #customers.created_at FROM @customers WHERE #customers.created_at >= ? ORDER BY #customers.created_at DESC LIMIT 2000`,
			[]val{vTime(s.t - durS(86400*30))}, false, "shop", readCustomers)
		st.rows, st.latMS = int64(r.between(100, 2000)), r.logNormal(40, 0.4)
		s.exec(st, r)
	}
	s.close(r)
	p.describe("reporting (%s, %s) was active at %s UTC, an hour it never works at (office hours and the 00:30 subscriptions only): its credentials are used off-hours.",
		s.app, s.ip, isoTime(s.identAt)[11:16])
}

// plantPlaintextRead: reporting reads customers.phone, which the
// application stores in plaintext (PlaintextColumns), for thousands of
// customers (RW-CRYPTO-002); just before, it reads the Fernet-encrypted
// customers.email (a look-alike: a sensitive column that is not
// plaintext).
func plantPlaintextRead(p *planter) {
	g, r := p.g, p.r
	s := g.connect(p.at, sessionOpts{pr: prReporting}, r)
	p.session(s)
	p.sub("encrypted", Scenario{Category: "plaintext_read", Lookalike: true}, func(q *planter) {
		q.session(s)
		s.wait(durS(1 + r.float()*5))
		st := driverStmt("SELECT", `SELECT #customers.id, #customers.full_name, #customers.email FROM @customers WHERE #customers.created_at >= ? ORDER BY #customers.id LIMIT 2000`,
			[]val{vTime(s.t - durS(86400*30))}, false, "shop", readCustomers)
		st.rows, st.latMS = 2000, r.logNormal(45, 0.3)
		ts := s.exec(st, r)
		q.inc.observe(ts) // the events' payload Timestamp
		q.decisive(ts)
		q.describe("reporting read customers.email for 2000 customers: the column holds Fernet ciphertext and is not listed as plaintext.")
	})
	s.wait(durS(20 + r.float()*60))
	st := driverStmt("SELECT", `SELECT #customers.id, #customers.full_name, #customers.phone FROM @customers WHERE #customers.created_at >= ? ORDER BY #customers.id`,
		[]val{vTime(s.t - durS(86400*180))}, false, "shop", readCustomers)
	st.rows, st.latMS, st.force = int64(r.between(3000, 8000)), r.logNormal(160, 0.3), true
	p.decisive(s.exec(st, r))
	s.wait(durS(2 + r.float()*5))
	s.close(r)
	p.describe("reporting (%s) read customers.phone, stored in plaintext, for %d customers: the phone numbers came back in the clear.", s.app, st.rows)
}
