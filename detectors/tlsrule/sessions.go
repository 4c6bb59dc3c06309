package tlsrule

import (
	"strconv"

	"roachwatch/pipeline/event"
)

// maxSessions bounds the session -> user map: about 100 bytes an entry,
// so at most ~10 MB however many sessions a log holds.
const maxSessions = 100_000

// sessionKey identifies a connection: the SessionID when CockroachDB logs
// one, else node + client address and port (unique among open connections).
func sessionKey(ev *event.Event) string {
	if ev.SessionID != "" {
		return ev.SessionID
	}
	return ev.Node + "|" + ev.ClientAddr + ":" + strconv.Itoa(ev.ClientPort)
}

type sessionInfo struct{ user, app string }

// sessionUsers remembers the user and application of recent sessions, so
// connection events that carry no user tag are attributed to the session's
// principal. It holds at most max entries and forgets the oldest first.
type sessionUsers struct {
	max   int
	m     map[string]sessionInfo
	order []string // insertion order, a ring once full
	next  int
}

func newSessionUsers(max int) *sessionUsers {
	return &sessionUsers{max: max, m: make(map[string]sessionInfo)}
}

func (s *sessionUsers) put(key, user, app string) {
	if old, ok := s.m[key]; ok {
		if app == "" {
			app = old.app
		}
		s.m[key] = sessionInfo{user, app}
		return
	}
	if len(s.order) < s.max {
		s.order = append(s.order, key)
	} else {
		delete(s.m, s.order[s.next])
		s.order[s.next] = key
		s.next = (s.next + 1) % s.max
	}
	s.m[key] = sessionInfo{user, app}
}

func (s *sessionUsers) get(key string) (user, app string, ok bool) {
	i, ok := s.m[key]
	return i.user, i.app, ok
}

func (s *sessionUsers) app(key string) string { return s.m[key].app }
