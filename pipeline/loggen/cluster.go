package loggen

import "fmt"

// channel is a CockroachDB logging channel (numeric id as in logpb).
type channel int

const (
	chDev             channel = 0
	chOps             channel = 1
	chSessions        channel = 4
	chUserAdmin       channel = 6
	chPrivileges      channel = 7
	chSensitiveAccess channel = 8
	chSQLExec         channel = 9
	chSQLPerf         channel = 10
	chTelemetry       channel = 12
)

var channelNames = map[channel]string{
	chDev: "DEV", chOps: "OPS", chSessions: "SESSIONS", chUserAdmin: "USER_ADMIN",
	chPrivileges: "PRIVILEGES", chSensitiveAccess: "SENSITIVE_ACCESS", chSQLExec: "SQL_EXEC",
	chSQLPerf: "SQL_PERF", chTelemetry: "TELEMETRY",
}

// group is a file group of the default logging configuration (§1.3).
type group int

const (
	grpDefault group = iota
	grpSQLAuth
	grpSQLAudit
	grpSQLExec
	grpTelemetry
	grpSecurity
	grpSQLSlow
	numGroups
)

// groupNames are the -{group} parts of file names; default has none.
var groupNames = [numGroups]string{"", "sql-auth", "sql-audit", "sql-exec", "telemetry", "security", "sql-slow"}

// groupOf routes a channel to its file group.
func groupOf(c channel) group {
	switch c {
	case chSessions:
		return grpSQLAuth
	case chSensitiveAccess:
		return grpSQLAudit
	case chSQLExec:
		return grpSQLExec
	case chTelemetry:
		return grpTelemetry
	case chUserAdmin, chPrivileges:
		return grpSecurity
	case chSQLPerf:
		return grpSQLSlow
	default:
		return grpDefault
	}
}

// crdbVersion is the binary version written in headers and envelopes.
// v24.3.4 logs names unmarked and constants marked, and always emits
// client_authentication_ok and client_session_end.
const crdbVersion = "v24.3.4"

// node is one CockroachDB node of the simulated cluster.
type node struct {
	id      int
	cluster string // cluster UUID, shared by all nodes
	host    string // db-node-1
	addr    string // listen address
	pid     int
	format  string // json or crdb-v2
	started int64  // process start, ns
	goid    int64  // next goroutine id to hand out
}

// newNodes lays out the cluster deterministically.
func newNodes(cfg Config, r *rng) []*node {
	nodes := make([]*node, cfg.Nodes)
	for i := range nodes {
		id := i + 1
		nodes[i] = &node{
			id:      id,
			host:    fmt.Sprintf("db-node-%d", id),
			addr:    fmt.Sprintf("10.20.1.%d", 10+id),
			pid:     r.between(1000, 99999),
			format:  cfg.nodeFormat(id),
			started: cfg.rangeStart() - durS(float64(r.between(60, 300))) + int64(r.between(0, 999999))*1000,
			goid:    int64(r.between(400, 900)),
		}
	}
	return nodes
}

// newGoroutine returns a fresh goroutine id for a connection or job.
func (n *node) newGoroutine(r *rng) int64 {
	n.goid += int64(r.between(3, 60))
	return n.goid
}

// principal is a SQL user as an application uses it.
type principal struct {
	user   string
	app    string   // application_name
	addrs  []string // usual client IPs
	method string   // HBA method of its normal logins
}

// Application principals of the benign baseline.
var (
	prWeb       = principal{user: "web", app: "django", addrs: []string{appServerIPs[0], appServerIPs[1]}, method: "cert-password"}
	prBilling   = principal{user: "billing_app", app: "billing", addrs: []string{"10.20.4.21", "10.20.4.22"}, method: "password"}
	prReporting = principal{user: "reporting", app: "metabase", addrs: []string{"10.20.5.30"}, method: "password"}
	prMigrator  = principal{user: "migrator", app: "django-migrate", addrs: []string{"10.20.0.12"}, method: "cert-password"}
	prRoot      = principal{user: "root", app: "$ cockroach sql", addrs: []string{"10.20.0.9"}, method: "cert-password"}
)

// appServerIPs are the two Django app servers: the first logs text
// (app.log), the second JSON (app.json.log).
var appServerIPs = [2]string{"10.20.3.14", "10.20.3.15"}

// markUser renders a user name as CockroachDB logs it in User fields and
// tags: marked as sensitive except for root and node.
func markUser(u string) string {
	if u == "root" || u == "node" {
		return u
	}
	return mark(u)
}

// mark wraps s in redaction markers, rewriting markers inside s to '?'.
func mark(s string) string {
	return "‹" + scrubMarkers(s) + "›"
}

// scrubMarkers replaces literal redaction markers in user data by '?', as
// CockroachDB does before wrapping.
func scrubMarkers(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xB9 || s[i+2] == 0xBA) {
			return scrubSlow(s)
		}
	}
	return s
}

func scrubSlow(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '‹' || r == '›' {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}
