package alertsink

import (
	"container/list"
	"time"

	"roachwatch/detectors"
)

// sent is what the router remembers about the last alert of a key.
type sent struct {
	at       time.Time // event time (LastSeen) of the alerted version
	severity detectors.Severity
	count    int64
}

// lru is a map with a size cap that evicts the least recently used entry.
// Not safe for concurrent use (the router's mutex guards it).
type lru struct {
	max   int
	order *list.List // front = most recent; values are *lruEntry
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val sent
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

func (l *lru) get(key string) (sent, bool) {
	e, ok := l.items[key]
	if !ok {
		return sent{}, false
	}
	l.order.MoveToFront(e)
	return e.Value.(*lruEntry).val, true
}

// put stores key and reports whether another key was evicted for it.
func (l *lru) put(key string, v sent) bool {
	if e, ok := l.items[key]; ok {
		e.Value.(*lruEntry).val = v
		l.order.MoveToFront(e)
		return false
	}
	l.items[key] = l.order.PushFront(&lruEntry{key: key, val: v})
	if l.order.Len() <= l.max {
		return false
	}
	old := l.order.Back()
	l.order.Remove(old)
	delete(l.items, old.Value.(*lruEntry).key)
	return true
}

func (l *lru) del(key string) {
	if e, ok := l.items[key]; ok {
		l.order.Remove(e)
		delete(l.items, key)
	}
}

func (l *lru) len() int { return l.order.Len() }

// dedup decides which finding versions become alerts. Two keys are kept
// per incident: the finding id (one incident in one detector window) and
// the incident key (rule + principal, across windows). Time is event time
// (the version's LastSeen), so a replay decides the same way.
type dedup struct {
	window        time.Duration
	realertSev    bool
	realertCount  bool
	state         *lru
	evictions     int64
	undoLog       []undo // entries changed since the last commit, for rollback
	trackingUndos bool
}

type undo struct {
	key string
	old sent
	had bool
}

func newDedup(window time.Duration, realertOn []string, maxKeys int) *dedup {
	d := &dedup{window: window, state: newLRU(maxKeys)}
	for _, r := range realertOn {
		d.realertSev = d.realertSev || r == RealertSeverity
		d.realertCount = d.realertCount || r == RealertCount
	}
	return d
}

// decide returns the reason to alert f ("" = do not) and, for a severity
// rise, the severity alerted before. It records the decision.
func (d *dedup) decide(f *detectors.Finding, key string) (reason string, prev *detectors.Severity) {
	idKey, grpKey := "f\x00"+f.ID, "k\x00"+key
	now := sent{at: f.LastSeen, severity: f.Severity, count: f.Count}
	if last, ok := d.state.get(idKey); ok {
		// A later version of an incident already known.
		switch {
		case f.Severity > last.severity && d.realertSev:
			reason, prev = ReasonSeverityRose, &last.severity
		case f.Count > last.count && d.realertCount:
			reason = ReasonCountGrew
		case f.Count > last.count && !f.LastSeen.Before(last.at.Add(d.window)):
			reason = ReasonWindowExpired
		default:
			return "", nil
		}
		d.set(idKey, now)
		d.set(grpKey, now)
		return reason, prev
	}
	if last, ok := d.state.get(grpKey); ok && f.LastSeen.Before(last.at.Add(d.window)) {
		// A new window of an incident alerted recently: muted unless worse.
		if !(f.Severity > last.severity && d.realertSev) {
			// Remember the version, so that later growth compares with it,
			// but keep the group's alert time: the window runs from the
			// last alert actually sent.
			d.set(idKey, sent{at: last.at, severity: max(f.Severity, last.severity), count: f.Count})
			return "", nil
		}
		reason, prev = ReasonSeverityRose, &last.severity
	} else {
		reason = ReasonNew
	}
	d.set(idKey, now)
	d.set(grpKey, now)
	return reason, prev
}

func (d *dedup) set(key string, v sent) {
	if d.trackingUndos {
		old, had := d.state.items[key]
		u := undo{key: key, had: had}
		if had {
			u.old = old.Value.(*lruEntry).val
		}
		d.undoLog = append(d.undoLog, u)
	}
	if d.state.put(key, v) {
		d.evictions++
	}
}

// begin starts recording changes so that a batch whose synchronous
// delivery failed can forget its decisions (the caller retries the batch,
// which must alert again).
func (d *dedup) begin() { d.trackingUndos, d.undoLog = true, nil }

// end stops recording and returns the changes since begin.
func (d *dedup) end() []undo {
	u := d.undoLog
	d.trackingUndos, d.undoLog = false, nil
	return u
}

// restore undoes changes returned by end, newest first. Decisions other
// batches took since then on the same keys are overwritten: the worst
// case is one extra alert, never a lost one.
func (d *dedup) restore(us []undo) {
	for i := len(us) - 1; i >= 0; i-- {
		u := us[i]
		if u.had {
			d.state.put(u.key, u.old)
		} else {
			d.state.del(u.key)
		}
	}
}
