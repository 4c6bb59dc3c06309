package loggen

import (
	"fmt"
	"math"
	"strconv"
)

// Go source locations CockroachDB logs for structured events.
const (
	evFile = "util/log/event_log.go"
	evLine = 39
)

// session is one SQL connection: its identity, its tags and a time
// cursor. Statements advance the cursor; the caller adds think time with
// wait. All entries of the session go through g, so an incident being
// planted sees every one of them.
type session struct {
	g          *Generator
	n          *node
	user, app  string
	ip         string
	client     string // ip:port
	transport  string
	network    string // tcp, or unix for local sessions
	method     string
	id         string
	goid       int64
	start, t   int64
	txn        int64 // TxnCounter
	pos        int64 // StmtPosInTxn within an explicit transaction
	inTxn      bool
	txnStart   int64
	txnFPs     []uint64
	txnRows    int64
	identAt    int64     // Timestamp of the first event naming user and transport
	authAt     int64     // Timestamp of client_authentication_ok
	dj         *djServer // Django server whose SQL log shows this session
	worker     djWorker
	comment    string // sqlcommenter comment of the current request
	commentRaw string // the same before psycopg2 substitution
	connTags   []tag
	userTags   []tag
}

// sessionOpts says how a connection is made.
type sessionOpts struct {
	pr        principal
	ip        string
	app       string    // overrides pr.app when set
	transport string    // hostssl unless set
	method    string    // pr.method unless set
	node      *node     // a random node unless set
	dj        *djServer // Django server whose SQL log shows this session
}

// connect opens a connection at time at and authenticates it successfully:
// client_connection_start, client_authentication_info (when the auth log
// is on), client_authentication_ok.
func (g *Generator) connect(at int64, o sessionOpts, r *rng) *session {
	s := g.newSession(at, o, r)
	g.emit(s.n, chSessions, 'I', s.goid, s.connStart(), s.t, tag{"client", s.client})
	s.t += durMS(r.float()*1.5 + 0.2)
	s.authInfo(r)
	if s.method == "password" || s.transport != "hostssl" {
		s.t += durMS(r.logNormal(55, 0.25)) // password hashing
	} else {
		s.t += durMS(r.float()*3 + 0.5)
	}
	ev := s.sessionEvent("client_authentication_ok", s.t)
	ev.str("Method", s.method)
	s.authAt = s.t
	if s.identAt == 0 {
		s.identAt = s.t
	}
	g.emitTags(s.n, chSessions, 'I', s.goid, ev.done(), s.t, s.userTags)
	return s
}

// newSession allocates the identity of a connection without logging.
func (g *Generator) newSession(at int64, o sessionOpts, r *rng) *session {
	n := o.node
	if n == nil {
		n = g.nodes[r.intn(len(g.nodes))]
	}
	s := &session{g: g, n: n, user: o.pr.user, app: o.pr.app, ip: o.ip, transport: o.transport,
		method: o.method, start: at, t: at, dj: o.dj}
	if o.app != "" {
		s.app = o.app
	}
	if s.ip == "" {
		s.ip = pick(r, o.pr.addrs)
	}
	if s.transport == "" {
		s.transport = "hostssl"
	}
	if s.method == "" {
		s.method = o.pr.method
	}
	if s.dj != nil {
		s.worker = pick(r, s.dj.workers)
	}
	s.network, s.client = "tcp", s.ip+":"+strconv.Itoa(r.port())
	if s.transport == "local" {
		// A unix-socket client has no address; Go renders it as "@".
		s.ip, s.network, s.client = "@", "unix", "@"
	}
	g.sessionSeq++
	s.id = fmt.Sprintf("%016x%016x", uint64(at)+uint64(g.sessionSeq&0xfff), uint64(n.id))
	s.goid = n.newGoroutine(r)
	s.connTags = []tag{{"client", s.client}, {s.transport, ""}}
	s.userTags = []tag{{"client", s.client}, {s.transport, ""}, {"user", markUser(s.user)}}
	return s
}

// connEvent starts a SESSIONS payload with the connection details.
func (s *session) connEvent(typ string, ts int64) obj {
	o := newObj(make([]byte, 0, 384))
	o.intAlways("Timestamp", ts)
	o.str("EventType", typ)
	o.intAlways("InstanceID", int64(s.n.id))
	o.str("Network", s.network)
	o.str("RemoteAddress", mark(s.client))
	o.str("SessionID", s.id)
	return o
}

// sessionEvent adds the session details (transport and identity).
func (s *session) sessionEvent(typ string, ts int64) obj {
	o := s.connEvent(typ, ts)
	o.str("Transport", s.transport)
	o.str("User", mark(s.user))
	o.str("SystemIdentity", mark(s.user))
	return o
}

func (s *session) connStart() []byte {
	o := s.connEvent("client_connection_start", s.t)
	return o.done()
}

// authInfo logs the HBA progress messages (only with sql_sessions on).
func (s *session) authInfo(r *rng) {
	if s.g.authLogOff {
		return
	}
	rule := "host  all all  all cert-password # built-in CockroachDB default"
	if s.transport == "local" {
		rule = "local all all password"
	}
	s.identAt = s.t
	o := s.sessionEvent("client_authentication_info", s.t)
	o.str("Method", s.method)
	o.str("Info", "HBA rule: "+mark(rule))
	s.g.emitTags(s.n, chSessions, 'I', s.goid, o.done(), s.t, s.userTags)
	s.t += durMS(r.float()*0.4 + 0.05)
	info := "client did not present TLS certificate"
	if s.transport == "hostssl" && s.method == "cert-password" && r.chance(0.5) {
		info = "client presented certificate, proceeding with certificate validation"
	}
	o = s.sessionEvent("client_authentication_info", s.t)
	o.str("Method", s.method)
	o.str("Info", info)
	s.g.emitTags(s.n, chSessions, 'I', s.goid, o.done(), s.t, s.userTags)
}

// failedLogin is one connection whose password is rejected (Reason 6).
func (g *Generator) failedLogin(at int64, o sessionOpts, r *rng) *session {
	s := g.newSession(at, o, r)
	g.emit(s.n, chSessions, 'I', s.goid, s.connStart(), s.t, tag{"client", s.client})
	s.t += durMS(r.float()*1.5 + 0.2)
	s.authInfo(r)
	s.t += durMS(r.logNormal(60, 0.25))
	if !g.authLogOff {
		ev := s.sessionEvent("client_authentication_failed", s.t)
		ev.int("Reason", 6)
		ev.str("Detail", mark("password authentication failed for user "+s.user))
		ev.str("Method", s.method)
		g.emitTags(s.n, chSessions, 'I', s.goid, ev.done(), s.t, s.userTags)
	}
	s.t += durMS(r.float() + 0.1)
	end := s.connEvent("client_connection_end", s.t)
	end.int("Duration", s.t-s.start)
	g.emitTags(s.n, chSessions, 'I', s.goid, end.done(), s.t, s.connTags)
	return s
}

// wait advances the session clock by think time.
func (s *session) wait(d int64) { s.t += d }

// close logs client_session_end and client_connection_end.
func (s *session) close(r *rng) {
	if s.inTxn {
		s.commit(r)
	}
	s.t += durMS(r.float()*2 + 0.1)
	o := s.connEvent("client_session_end", s.t)
	o.int("Duration", s.t-s.start)
	s.g.emitTags(s.n, chSessions, 'I', s.goid, o.done(), s.t, s.userTags)
	s.t += durMS(r.float()*0.3 + 0.02)
	o = s.connEvent("client_connection_end", s.t)
	o.int("Duration", s.t-s.start)
	s.g.emitTags(s.n, chSessions, 'I', s.goid, o.done(), s.t, s.connTags)
}

// begin opens an explicit transaction (BEGIN is logged like any statement).
func (s *session) begin(r *rng) {
	s.txn++
	s.inTxn, s.pos, s.txnStart, s.txnFPs, s.txnRows = true, 0, s.t, s.txnFPs[:0], 0
	s.exec(&stmt{tag: "BEGIN", crdb: "BEGIN TRANSACTION", latMS: 0.05 + r.float()*0.1}, r)
}

// commit ends the explicit transaction, sometimes with a telemetry
// sampled_transaction event.
func (s *session) commit(r *rng) {
	s.exec(&stmt{tag: "COMMIT", crdb: "COMMIT TRANSACTION", latMS: 1 + r.exp(3)}, r)
	s.inTxn = false
	if r.chance(0.2) {
		s.sampledTxn(r, false)
	}
}

// age rounds a latency in ms the way Age values look (3 decimals).
func age(ms float64) float32 { return float32(math.Round(ms*1000) / 1000) }
