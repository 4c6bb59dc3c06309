package alertsink

import (
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
)

// matcher is the compiled selection of a route.
type matcher struct {
	minSeverity detectors.Severity
	rules       []string
	families    []string
	users       []string
	apps        []string
}

func newMatcher(r RouteConfig) matcher {
	m := matcher{rules: r.Rules, users: r.Users, apps: r.Applications}
	if r.MinSeverity != "" {
		m.minSeverity, _ = detectors.ParseSeverity(r.MinSeverity)
	}
	for _, f := range r.Families {
		m.families = append(m.families, strings.ToLower(f))
	}
	return m
}

// match reports whether f goes to the route: every non-empty selector must
// match; within one selector any entry may.
func (m *matcher) match(f *detectors.Finding) bool {
	if f.Severity < m.minSeverity {
		return false
	}
	if len(m.families) > 0 && !slices.Contains(m.families, family(f.RuleID)) {
		return false
	}
	return anyGlob(m.rules, f.RuleID) && anyGlob(m.users, f.Principal.User) && anyGlob(m.apps, f.Principal.Application)
}

// anyGlob reports whether s matches one of globs; no globs match anything.
func anyGlob(globs []string, s string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// silence is a compiled Silence.
type silence struct {
	Silence
	net     netip.Prefix
	expires time.Time
}

func compileSilences(ss []Silence) []silence {
	out := make([]silence, 0, len(ss))
	for _, s := range ss {
		c := silence{Silence: s}
		c.expires, _ = time.Parse(time.RFC3339, s.Expires) // validated
		if s.ClientNetwork != "" {
			c.net, _ = parseNet(s.ClientNetwork)
		}
		out = append(out, c)
	}
	return out
}

// active reports whether the silence still mutes at wall time now.
// Silences are operator actions, so they expire by the wall clock, not by
// event time: a replay of last month's logs is not muted by a silence that
// expired yesterday.
func (s *silence) active(now time.Time) bool { return now.Before(s.expires) }

// mutes reports whether s matches f; every non-empty field must match.
func (s *silence) mutes(f *detectors.Finding) bool {
	if s.Rule != "" {
		if ok, _ := path.Match(s.Rule, f.RuleID); !ok {
			return false
		}
	}
	if s.User != "" && s.User != f.Principal.User {
		return false
	}
	if s.Role != "" && !hasRole(f, s.Role) {
		return false
	}
	if s.ClientNetwork != "" {
		a, err := netip.ParseAddr(hostOnly(f.Principal.ClientAddr))
		if err != nil || !s.net.Contains(a.Unmap()) {
			return false
		}
	}
	if s.Fingerprint != "" && s.Fingerprint != f.Fingerprint &&
		(f.FingerprintHash == 0 || s.Fingerprint != strconv.FormatUint(f.FingerprintHash, 10)) {
		return false
	}
	if s.Route != "" && s.Route != f.Details["route"] {
		return false
	}
	return true
}

// roleDetails are the finding details that name roles (comma-separated).
var roleDetails = []string{"role", "roles", "grantee", "grantees", "application_grantees"}

// hasRole reports whether role is f's principal (every CockroachDB user
// is a role) or a role the finding names in its details.
func hasRole(f *detectors.Finding, role string) bool {
	if strings.EqualFold(f.Principal.User, role) {
		return true
	}
	for _, k := range roleDetails {
		for _, r := range strings.Split(f.Details[k], ",") {
			if strings.EqualFold(strings.TrimSpace(r), role) {
				return true
			}
		}
	}
	return false
}

// hostOnly strips a port from host:port or [v6]:port.
func hostOnly(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().String()
	}
	return addr
}
