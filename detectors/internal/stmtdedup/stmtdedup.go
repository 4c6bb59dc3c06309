// Package stmtdedup remembers the statements a detector counted recently.
// CockroachDB reports one statement in several events (the structured
// event and its SQL_EXEC and TELEMETRY copies); they share the principal,
// the minute and a content signature, so a detector counts the statement
// once. The set is bounded and forgets the oldest statement first, and it
// has a snapshot form for the detectors' state files.
package stmtdedup

import (
	"strings"

	"roachwatch/detectors/internal/snapcodec"
)

// MaxSnapshot bounds the statements a snapshot may claim to hold.
const MaxSnapshot = 1 << 26

// Key identifies one statement across the events that report it.
type Key struct {
	User   string
	Minute int64 // event time / time.Minute
	Sig    string
}

// Set remembers the last max keys, oldest forgotten first.
type Set struct {
	max   int
	m     map[Key]struct{}
	order []Key // a ring once full; next is its oldest entry
	next  int
}

// New returns an empty Set of at most n keys (at least one).
func New(n int) *Set {
	return &Set{max: max(n, 1), m: make(map[Key]struct{})}
}

// Add records k and reports whether the statement is new. A copy logged
// in the next minute (the statement straddled a minute boundary) is the
// same statement.
func (s *Set) Add(k Key) bool {
	if _, ok := s.m[k]; ok {
		return false
	}
	prev := k
	prev.Minute--
	if _, ok := s.m[prev]; ok {
		return false
	}
	k.User = strings.Clone(k.User) // the event's strings are not ours to keep
	if len(s.order) < s.max {
		s.order = append(s.order, k)
	} else {
		delete(s.m, s.order[s.next])
		s.order[s.next] = k
		s.next = (s.next + 1) % s.max
	}
	s.m[k] = struct{}{}
	return true
}

// Len returns how many keys the set holds.
func (s *Set) Len() int { return len(s.order) }

// oldestFirst returns the keys from the oldest to the newest.
func (s *Set) oldestFirst() []Key {
	if len(s.order) < s.max || s.next == 0 {
		return s.order
	}
	return append(append(make([]Key, 0, len(s.order)), s.order[s.next:]...), s.order[:s.next]...)
}

// Encode appends the set to a snapshot: the count, then user, minute and
// signature of each key, oldest first (the order decides what is forgotten
// next).
func (s *Set) Encode(e *snapcodec.Encoder) {
	keys := s.oldestFirst()
	e.U(uint64(len(keys)))
	for _, k := range keys {
		e.Str(k.User)
		e.I(k.Minute)
		e.Str(k.Sig)
	}
}

// Decode reads what Encode wrote into s, which must be empty. Beyond s's
// bound the oldest keys are dropped, as the set would have forgotten them.
// Errors are recorded on d (see snapcodec.Decoder.Err).
func (s *Set) Decode(d *snapcodec.Decoder) {
	n := d.Count(MaxSnapshot, "statement")
	keys := make([]Key, 0, min(n, s.max))
	for i := range n {
		k := Key{User: d.Str(), Minute: d.I(), Sig: d.Str()}
		if i >= n-s.max { // keep the newest
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		s.m[k] = struct{}{}
	}
	if len(s.m) != len(keys) {
		d.Fail("statements (duplicate)")
	}
	s.order, s.next = keys, 0
}
