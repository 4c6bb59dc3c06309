// Package authrule holds RW-AUTH-001: brute force and password spraying
// against CockroachDB logins, from the SESSIONS channel.
package authrule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// Rule001 is RW-AUTH-001.
var Rule001 = detectors.Rule{
	ID:       "RW-AUTH-001",
	Title:    "Brute force or password spraying against SQL logins",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-307", "CWE-521"},
	OWASP:    []string{"A07:2021-Identification and Authentication Failures"},
	MITRE:    []string{"T1110.001", "T1110.003", "T1078"},
	PCI:      []string{"8.3.4", "10.2.1.4"},
	Explanation: "CockroachDB logged a burst of failed SQL logins (client_authentication_failed): many password attempts " +
		"for one user from one client address (guessing), many different users from one address (password spraying), " +
		"or one user attacked from several addresses. Attempts are counted per connection, not per log line, so an expired " +
		"password (two failure events on one connection) counts once. When the same user (or, for spraying, the same " +
		"address) then logs in successfully shortly after the burst, the attacker most likely found a valid password: " +
		"the finding is critical and the session that followed must be investigated.",
	Remediation: "Block the client address at the load balancer or firewall and rotate the password of every targeted role " +
		"(ALTER ROLE <user> WITH PASSWORD '...'; keep it in a secrets manager and in Django's DATABASES['default']['PASSWORD'] " +
		"only through the environment). Prefer client certificates for application roles (HBA 'hostssl all web 10.20.0.0/16 cert') " +
		"and restrict password logins to known networks in server.host_based_authentication.configuration. " +
		"Set a VALID UNTIL on human roles, give application roles NOLOGIN where they do not connect, and if the burst was " +
		"followed by a successful login, review everything that session did (see the investigation query) and revoke what it created.",
}

// Config tunes RW-AUTH-001 (section detectors.auth).
type Config struct {
	Window         time.Duration `mapstructure:"window"`          // per user and client address: failures counted in this sliding window
	Threshold      int           `mapstructure:"threshold"`       // failed attempts per user and client address that make a burst
	SprayWindow    time.Duration `mapstructure:"spray_window"`    // per client address: window for distinct users
	SprayUsers     int           `mapstructure:"spray_users"`     // distinct users failing from one address that make spraying
	UserWindow     time.Duration `mapstructure:"user_window"`     // per user across addresses: window
	UserThreshold  int           `mapstructure:"user_threshold"`  // failed attempts for one user across addresses
	UserMinAddrs   int           `mapstructure:"user_min_addrs"`  // ... coming from at least this many addresses
	SuccessWindow  time.Duration `mapstructure:"success_window"`  // a login within this time after the last failure is critical
	MaxKeys        int           `mapstructure:"max_keys"`        // LRU cap on tracked users, addresses and user+address pairs
	MaxConnections int           `mapstructure:"max_connections"` // recent failed connections remembered to count attempts once
}

// DefaultConfig follows common lockout practice: 5 failures in 3 minutes
// per account and source (OWASP ASVS, PCI DSS 8.3.4 allows up to 10),
// 10 distinct accounts from one source in 5 minutes for spraying.
func DefaultConfig() Config {
	return Config{
		Window: 3 * time.Minute, Threshold: 5,
		SprayWindow: 5 * time.Minute, SprayUsers: 10,
		UserWindow: 10 * time.Minute, UserThreshold: 10, UserMinAddrs: 3,
		SuccessWindow: 10 * time.Minute,
		MaxKeys:       100_000, MaxConnections: 65_536,
	}
}

// Validate checks the config; every error names its key and the fix.
func (c Config) Validate() error {
	var errs []error
	dur := func(key string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("detectors.auth.%s: must be a positive duration such as 3m, got %s", key, d))
		}
	}
	count := func(key string, n, min int) {
		if n < min {
			errs = append(errs, fmt.Errorf("detectors.auth.%s: must be at least %d, got %d", key, min, n))
		}
	}
	dur("window", c.Window)
	dur("spray_window", c.SprayWindow)
	dur("user_window", c.UserWindow)
	dur("success_window", c.SuccessWindow)
	count("threshold", c.Threshold, 2)
	count("spray_users", c.SprayUsers, 2)
	count("user_threshold", c.UserThreshold, 2)
	count("user_min_addrs", c.UserMinAddrs, 2)
	count("max_keys", c.MaxKeys, 16)
	count("max_connections", c.MaxConnections, 16)
	if c.Threshold > maxAttempts || c.UserThreshold > maxAttempts || c.SprayUsers > maxAttempts {
		errs = append(errs, fmt.Errorf("detectors.auth: threshold, user_threshold and spray_users must be at most %d (attempts kept per key)", maxAttempts))
	}
	return errors.Join(errs...)
}

// maxAttempts bounds the attempts kept per key (the newest win).
const maxAttempts = 256

// kind is the dimension a burst is counted on.
type kind uint8

const (
	kindUserAddr kind = iota // one user from one address: guessing
	kindAddr                 // many users from one address: spraying
	kindUser                 // one user from many addresses: distributed guessing
)

var kindNames = [...]string{"user_addr", "addr", "user"}

type key struct {
	kind       kind
	user, addr string
}

type attempt struct {
	t                    int64
	user, addr, reason   string
	id, session, node    string
	cluster, application string
}

// incident is the burst currently (or last) reported for a key.
type incident struct {
	id               string
	start, last      int64
	attempts         int64
	users, addrs     []string
	reasons          []string
	escalated        bool
	cluster, node    string
	app, lastSession string
}

type state struct {
	attempts []attempt // inside the window, oldest first
	inc      incident
}

// Detector implements RW-AUTH-001. It keeps, per user+address, per
// address and per user, the failed attempts of the last window and the
// last burst reported; state is an LRU of at most MaxKeys entries (about
// 1 KB each when full of attempts, typically ~200 bytes), so memory stays
// bounded whatever the number of users or addresses an attacker tries.
type Detector struct {
	cfg   Config
	keys  *lru[key, state]
	conns *connSet
}

// New returns the detector; cfg must be valid.
func New(cfg Config) *Detector {
	return &Detector{cfg: cfg, keys: newLRU[key, state](cfg.MaxKeys), conns: newConnSet(cfg.MaxConnections)}
}

// Rules lists RW-AUTH-001.
func (d *Detector) Rules() []detectors.Rule { return []detectors.Rule{Rule001} }

// Observe counts failed login attempts and reports bursts; a successful
// login after a burst escalates the burst's finding to critical.
func (d *Detector) Observe(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	if ev.Source != event.SourceCRDB || ev.Internal {
		return out
	}
	switch ev.Type {
	case "client_authentication_failed":
		return d.failed(ev, out)
	case "client_authentication_ok":
		return d.succeeded(ev, out)
	}
	return out
}

func connKey(ev *event.Event) string {
	if ev.SessionID != "" {
		return ev.SessionID
	}
	if ev.ClientPort == 0 {
		return "event|" + ev.ID
	}
	return ev.Node + "|" + ev.ClientAddr + ":" + strconv.Itoa(ev.ClientPort)
}

func (d *Detector) failed(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	reason := ev.AuthFailure
	if reason == "" {
		reason = "UNKNOWN"
	}
	keys := [3]key{
		{kindUserAddr, ev.User, ev.ClientAddr},
		{kindAddr, "", ev.ClientAddr},
		{kindUser, ev.User, ""},
	}
	if !d.conns.add(strings.Clone(connKey(ev))) {
		// Second event of the same connection (expired password): not a
		// new attempt, but its reason belongs to an open burst.
		for _, k := range keys {
			if st, ok := d.keys.peek(k); ok && st.inc.id != "" && ev.Time-st.inc.last <= int64(d.window(k.kind)) {
				st.inc.reasons = addListed(st.inc.reasons, reason)
			}
		}
		return out
	}
	a := attempt{t: ev.Time, user: strings.Clone(ev.User), addr: strings.Clone(ev.ClientAddr), reason: strings.Clone(reason),
		id: strings.Clone(ev.ID), session: strings.Clone(ev.SessionID), node: strings.Clone(ev.Node),
		cluster: strings.Clone(ev.Cluster), application: strings.Clone(ev.Application)}
	for _, k := range [3]key{{kindUserAddr, a.user, a.addr}, {kindAddr, "", a.addr}, {kindUser, a.user, ""}} {
		if k.kind != kindAddr && k.user == "" || k.kind != kindUser && k.addr == "" {
			continue // nothing to count on
		}
		st, _ := d.keys.put(k)
		out = d.record(k, st, a, out)
	}
	return out
}

func (d *Detector) window(k kind) time.Duration {
	switch k {
	case kindAddr:
		return d.cfg.SprayWindow
	case kindUser:
		return d.cfg.UserWindow
	}
	return d.cfg.Window
}

// record adds attempt a to the state of k and reports a new burst or the
// growth of the current one.
func (d *Detector) record(k key, st *state, a attempt, out []detectors.Finding) []detectors.Finding {
	win := int64(d.window(k.kind))
	drop := 0
	for drop < len(st.attempts) && st.attempts[drop].t < a.t-win {
		drop++
	}
	if len(st.attempts)-drop >= maxAttempts {
		drop++
	}
	if drop > 0 {
		st.attempts = append(st.attempts[:0], st.attempts[drop:]...)
	}
	st.attempts = append(st.attempts, a)

	inc := &st.inc
	if inc.id != "" && a.t-inc.last <= win {
		inc.last = a.t
		inc.attempts++
		inc.users = addListed(inc.users, a.user)
		inc.addrs = addListed(inc.addrs, a.addr)
		inc.reasons = addListed(inc.reasons, a.reason)
		inc.lastSession = a.session
		f := d.finding(k, inc, a.t, a.t, a.id)
		return append(out, f)
	}
	if !d.crossed(k.kind, st.attempts) {
		return out
	}
	first := st.attempts[0]
	*inc = incident{start: first.t, last: a.t, attempts: int64(len(st.attempts)),
		cluster: first.cluster, node: a.node, app: a.application, lastSession: a.session}
	inc.id = detectors.IncidentID(Rule001.ID, first.t, kindNames[k.kind], first.cluster, k.user, k.addr)
	for _, p := range st.attempts {
		inc.users = addListed(inc.users, p.user)
		inc.addrs = addListed(inc.addrs, p.addr)
		inc.reasons = addListed(inc.reasons, p.reason)
	}
	f := d.finding(k, inc, first.t, a.t, first.id)
	f.Count = inc.attempts
	for _, p := range st.attempts[1:] {
		if len(f.Evidence) >= detectors.MaxEvidence {
			break
		}
		f.Evidence = append(f.Evidence, p.id)
	}
	return append(out, f)
}

// crossed reports whether the attempts in the window make a burst.
func (d *Detector) crossed(k kind, as []attempt) bool {
	switch k {
	case kindAddr:
		return distinct(as, func(a *attempt) string { return a.user }) >= d.cfg.SprayUsers
	case kindUser:
		return len(as) >= d.cfg.UserThreshold && distinct(as, func(a *attempt) string { return a.addr }) >= d.cfg.UserMinAddrs
	}
	return len(as) >= d.cfg.Threshold
}

func distinct(as []attempt, field func(*attempt) string) int {
	seen := make(map[string]struct{}, len(as))
	for i := range as {
		seen[field(&as[i])] = struct{}{}
	}
	return len(seen)
}

func (d *Detector) succeeded(ev *event.Event, out []detectors.Finding) []detectors.Finding {
	keys := [3]key{{kindUserAddr, ev.User, ev.ClientAddr}, {kindAddr, "", ev.ClientAddr}, {kindUser, ev.User, ""}}
	for _, k := range keys {
		st, ok := d.keys.peek(k)
		if !ok || st.inc.id == "" || st.inc.escalated {
			continue
		}
		inc := &st.inc
		if ev.Time < inc.start || ev.Time-inc.last > int64(d.cfg.SuccessWindow) {
			continue
		}
		inc.escalated = true
		f := d.finding(k, inc, ev.Time, ev.Time, ev.ID)
		f.Count = 0 // a login is not an attempt; the burst's count stays the attempts
		f.Severity = detectors.SeverityCritical
		f.Title = "Successful login after a brute-force burst"
		f.SessionID = ev.SessionID
		f.Details["success"] = fmt.Sprintf("client_authentication_ok for %s from %s at %s, %s after the last failure (session %s, method %s)",
			ev.User, ev.ClientAddr, time.Unix(0, ev.Time).UTC().Format(time.RFC3339Nano),
			time.Duration(ev.Time-inc.last).Round(time.Millisecond), orNone(ev.SessionID), orNone(ev.AuthMethod))
		f.Summary = fmt.Sprintf("%s Then %s logged in successfully from %s %s later: the attacker probably got in.",
			d.burstText(k, inc), ev.User, ev.ClientAddr, time.Duration(ev.Time-inc.last).Round(time.Second))
		f.Principal = detectors.Principal{User: ev.User, ClientAddr: ev.ClientAddr, Application: ev.Application}
		out = append(out, f)
	}
	return out
}
