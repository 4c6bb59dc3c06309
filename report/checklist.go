package report

import (
	"fmt"
	"slices"
	"strings"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// evidence is what the checklist rules look at.
type evidence struct {
	byRule  map[string]int64 // findings per rule id
	byFam   map[string]int64 // findings per family
	inCat   map[string]bool  // rule ids of the catalog
	ss      SessionStats
	methods map[string]int64 // sessions per auth method
	users   map[string]int64 // sessions per user
	plain   int64            // hostnossl sessions
	tls     int64            // hostssl sessions
	secrets []string         // secret types of RW-CRYPTO-003 findings
}

func newEvidence(fs []detectors.Finding, ss SessionStats, rules []detectors.Rule) *evidence {
	e := &evidence{byRule: map[string]int64{}, byFam: map[string]int64{}, inCat: map[string]bool{}, ss: ss,
		methods: map[string]int64{}, users: map[string]int64{}}
	for _, r := range rules {
		e.inCat[r.ID] = true
	}
	for i := range fs {
		e.byRule[fs[i].RuleID]++
		e.byFam[family(fs[i].RuleID)]++
		if t := fs[i].Details["type"]; fs[i].RuleID == "RW-CRYPTO-003" && t != "" {
			e.secrets = addSorted(e.secrets, t)
		}
	}
	for _, g := range ss.Groups {
		e.methods[g.AuthMethod] += g.Sessions
		e.users[g.User] += g.Sessions
		switch g.Transport {
		case event.TransportPlain:
			e.plain += g.Sessions
		case event.TransportTLS:
			e.tls += g.Sessions
		}
	}
	return e
}

// item is one checklist entry: its text and the function that judges it.
type item struct {
	id, title, rule, action string
	judge                   func(e *evidence) (status, evidence string)
}

// adminUsers are the CockroachDB principals that hold every privilege.
var adminUsers = []string{"root", "admin"}

// certOnly and certOrPassword classify HBA authentication methods.
var (
	certOnly       = []string{"cert"}
	certOrPassword = []string{"cert-password", "cert-scram-sha-256"}
)

var items = []item{
	{
		id:    "tls-verify-full",
		title: "Django connects with sslmode=verify-full and sslrootcert; the cluster accepts no non-TLS SQL connections",
		rule: "Not done when any RW-TLS finding exists in the period or session data shows a hostnossl session. Done when session " +
			"data shows sessions and every network session used hostssl. Unknown otherwise. Logs show TLS, not whether the " +
			"client verified the server certificate (sslmode=require also uses TLS): confirm verify-full in settings.DATABASES.",
		action: "settings.DATABASES['default']['OPTIONS'] = {'sslmode': 'verify-full', 'sslrootcert': '/certs/ca.crt'}; remove " +
			"hostnossl and trust entries from server.host_based_authentication.configuration.",
		judge: func(e *evidence) (string, string) {
			if n := e.byFam["RW-TLS"]; n > 0 || e.plain > 0 {
				return StatusNotDone, fmt.Sprintf("%d RW-TLS findings; %d hostnossl sessions in session data.", n, e.plain)
			}
			if !e.ss.Available || e.tls == 0 {
				return StatusUnknown, "No session data and no RW-TLS findings."
			}
			return StatusDone, fmt.Sprintf("All %d network sessions used hostssl; no RW-TLS findings.", e.tls)
		},
	},
	{
		id:    "client-certs",
		title: "Application users authenticate with client certificates (sslcert/sslkey)",
		rule: "Not done when session data shows sessions authenticated with a password-only method (password, " +
			"scram-sha-256, trust, ...). Done when every session used the cert method. Unknown without session data or when " +
			"only cert-password style methods were used (the log does not say which of the two the client presented).",
		action: "Issue a client certificate per application user (cockroach cert create-client), set 'sslcert' and 'sslkey' in " +
			"the DATABASES OPTIONS and use the cert method in the HBA configuration.",
		judge: func(e *evidence) (string, string) {
			if !e.ss.Available || len(e.methods) == 0 {
				return StatusUnknown, "No session data."
			}
			var pw []string
			var cert, mixed int64
			for _, m := range sortedKeys(e.methods) {
				switch {
				case slices.Contains(certOnly, m):
					cert += e.methods[m]
				case slices.Contains(certOrPassword, m):
					mixed += e.methods[m]
				default:
					pw = append(pw, fmt.Sprintf("%s: %d", orNone(m), e.methods[m]))
				}
			}
			if len(pw) > 0 {
				return StatusNotDone, "Sessions by password-based method: " + strings.Join(pw, ", ") + "."
			}
			if mixed > 0 {
				return StatusUnknown, fmt.Sprintf("%d sessions used cert, %d a cert-or-password method.", cert, mixed)
			}
			return StatusDone, fmt.Sprintf("All %d sessions used the cert method.", cert)
		},
	},
	{
		id:    "conn-max-age",
		title: "Persistent connections: CONN_MAX_AGE > 0 (with CONN_HEALTH_CHECKS)",
		rule: "Uses client_session_end durations. Not done when at least half of the ended sessions lasted under one second " +
			"(a connection, and a TLS handshake, per request: CONN_MAX_AGE = 0). Done when fewer did. Unknown without " +
			"session data.",
		action: "Set DATABASES['default']['CONN_MAX_AGE'] = 300 and 'CONN_HEALTH_CHECKS': True, or use a connection pool.",
		judge: func(e *evidence) (string, string) {
			if !e.ss.Available || e.ss.EndedSessions == 0 {
				return StatusUnknown, "No ended sessions with a duration in the data."
			}
			ev := fmt.Sprintf("%d of %d ended sessions lasted under 1s.", e.ss.ShortSessions, e.ss.EndedSessions)
			if e.ss.ShortSessions*2 >= e.ss.EndedSessions {
				return StatusNotDone, ev
			}
			return StatusDone, ev
		},
	},
	{
		id:    "encrypt-fields",
		title: "Sensitive fields are encrypted in Django before they reach the database",
		rule: "Not done when any RW-CRYPTO-001 (plaintext written or compared) or RW-CRYPTO-002 (plaintext column read) finding " +
			"exists. Done when both rules are in the catalog and reported nothing. Unknown when the catalog lacks them.",
		action: "Use an encrypted model field (Fernet/MultiFernet) for every sensitive column, backfill-encrypt existing rows " +
			"with a data migration, and look rows up by a keyed hash column.",
		judge: func(e *evidence) (string, string) {
			return ruleJudge(e, "RW-CRYPTO-001", "RW-CRYPTO-002")
		},
	},
	{
		id:    "secrets-manager",
		title: "Encryption keys and credentials come from a secrets manager, never from code or logs",
		rule: "Not done when any RW-CRYPTO-003 finding (a secret or personal value in a log line) exists. Done when the rule " +
			"is in the catalog and reported nothing. Unknown when it is not. Where the key is stored is not visible in logs; " +
			"a key or DSN that appears in a log line proves it is not kept out of reach.",
		action: "Load Fernet keys and database passwords from a secrets manager or KMS through the environment; rotate every " +
			"credential type the report lists; never log DSNs.",
		judge: func(e *evidence) (string, string) {
			st, ev := ruleJudge(e, "RW-CRYPTO-003")
			if len(e.secrets) > 0 {
				ev += " Types: " + strings.Join(e.secrets, ", ") + "."
			}
			return st, ev
		},
	},
	{
		id:    "django-secure-settings",
		title: "Django SECURE_* settings: SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE, SECURE_HSTS_SECONDS",
		rule: "These settings leave no trace in the logs roachwatch reads. Not done when an RW-CRYPTO-003 finding reports Django " +
			"SQL debug logging (DEBUG = True: the production settings were not hardened, and `manage.py check --deploy` " +
			"fails). Unknown otherwise: run `python manage.py check --deploy` and record the result.",
		action: "SECURE_SSL_REDIRECT = True; SESSION_COOKIE_SECURE = True; CSRF_COOKIE_SECURE = True; SECURE_HSTS_SECONDS = " +
			"31536000 (with SECURE_HSTS_INCLUDE_SUBDOMAINS); DEBUG = False.",
		judge: func(e *evidence) (string, string) {
			if slices.Contains(e.secrets, "django_debug_sql") {
				return StatusNotDone, "Django SQL debug logging (DEBUG = True) was reported by RW-CRYPTO-003."
			}
			return StatusUnknown, "Not observable in logs."
		},
	},
	{
		id:    "experimental-audit",
		title: "EXPERIMENTAL_AUDIT is set on every table with sensitive columns",
		rule: "Not done when any RW-AUDIT finding (audit turned off, logging disabled, HBA loosened) exists. Done when session " +
			"data contains sensitive_table_access events (audit logging is active) and there is no RW-AUDIT finding. Unknown " +
			"otherwise.",
		action: "ALTER TABLE <table> EXPERIMENTAL_AUDIT SET READ WRITE for each table the catalog marks sensitive; route the " +
			"SENSITIVE_ACCESS channel to a file sink.",
		judge: func(e *evidence) (string, string) {
			if n := e.byFam["RW-AUDIT"]; n > 0 {
				return StatusNotDone, fmt.Sprintf("%d RW-AUDIT findings.", n)
			}
			if e.ss.AuditedAccesses > 0 {
				return StatusDone, fmt.Sprintf("%d audited sensitive table accesses; no RW-AUDIT findings.", e.ss.AuditedAccesses)
			}
			return StatusUnknown, "No audit events in the data and no RW-AUDIT findings."
		},
	},
	{
		id:    "least-privilege",
		title: "Least-privilege roles: no application or person logs in as root/admin; no grants escalate privileges",
		rule: "Not done when any RW-PRIV finding exists or session data shows non-internal sessions as root or admin. Done when " +
			"session data shows sessions, none as root or admin, and RW-PRIV-001 is in the catalog with no finding. Unknown " +
			"otherwise.",
		action: "Give each Django app its own role with only the privileges it needs (GRANT SELECT, INSERT, UPDATE ON <tables>), " +
			"keep admin for break-glass use with client certificates, and review GRANT/role changes.",
		judge: func(e *evidence) (string, string) {
			var admins int64
			for _, u := range adminUsers {
				admins += e.users[u]
			}
			if n := e.byFam["RW-PRIV"]; n > 0 || admins > 0 {
				return StatusNotDone, fmt.Sprintf("%d RW-PRIV findings; %d sessions as root or admin.", n, admins)
			}
			if e.ss.Available && len(e.users) > 0 && e.inCat["RW-PRIV-001"] {
				return StatusDone, fmt.Sprintf("%d sessions, none as root or admin; no RW-PRIV findings.", sum(e.users))
			}
			return StatusUnknown, "No session data, or RW-PRIV-001 is not in the catalog."
		},
	},
}

// ruleJudge: not done when any of ids has findings, done when all are in
// the catalog, unknown otherwise.
func ruleJudge(e *evidence, ids ...string) (string, string) {
	var parts []string
	var n int64
	for _, id := range ids {
		n += e.byRule[id]
		parts = append(parts, fmt.Sprintf("%s: %d", id, e.byRule[id]))
	}
	ev := "Findings " + strings.Join(parts, ", ") + "."
	if n == 0 {
		ev = "No findings of " + strings.Join(ids, ", ") + " in the period (absence of findings: valid only if the findings " +
			"were produced by a build whose catalog has these rules)."
	}
	if n > 0 {
		return StatusNotDone, ev
	}
	for _, id := range ids {
		if !e.inCat[id] {
			return StatusUnknown, id + " is not in this build's rule catalog."
		}
	}
	return StatusDone, ev
}

func checklist(fs []detectors.Finding, ss SessionStats, rules []detectors.Rule) []ChecklistItem {
	e := newEvidence(fs, ss, rules)
	out := make([]ChecklistItem, len(items))
	for i, it := range items {
		st, ev := it.judge(e)
		out[i] = ChecklistItem{ID: it.id, Title: it.title, Status: st, Evidence: ev, EvidenceRule: it.rule, Action: it.action}
	}
	return out
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
