package crdbparse

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"maps"
	"math"
	"strings"

	"github.com/valyala/fastjson"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
)

// The intern table is a fixed array of internSets sets of two slots,
// indexed by a seeded hash: values are partly attacker-controlled (user
// and application names), so it never grows, and a random seed keeps
// anyone from choosing values that evict each other.
const (
	internSets   = 512 // a power of two
	internMaxLen = 64
)

// internTable holds interned strings, two per set; the newest value of a
// set is in slot 0.
type internTable struct {
	seed  maphash.Seed
	slots [internSets][2]string
}

// core is the state the json and crdb-v2 decoders share: the reused
// fastjson parser, the Raw handed to the Normalizer, an intern table for
// low-cardinality strings, and the per-event values that are resolved only
// once the whole entry has been seen (precedence between tags and payload).
type core struct {
	n    *parse.Normalizer
	h    *parse.Hasher
	opts Options
	p    fastjson.Parser
	raw  parse.Raw
	strs *internTable

	// Per-event state, reset by begin.
	ev         *event.Event
	redactable bool
	evTime     int64
	remoteHost string
	remotePort int
	tagClient  bool
	ageNS      int64
	hasAge     bool
	svcNS      int64
	hasSvc     bool
	objRank    int
	objKey     string
	buf        []byte
	ubuf       []byte // unmark scratch
	attrs      []attr // Attrs entries in the order set; the map is built in finish

	tmpl attrTemplate
}

// attr is one Attrs entry.
type attr struct{ k, v string }

// attrTemplate holds the Attrs entries that the last events shared
// (tenant, version, stable payload fields) as a small map: an event that
// has them all starts from a copy of it (maps.Clone copies the map's one
// group, no hashing) and inserts only its own entries. At most
// maxSmallAttrs entries, whatever the input.
type attrTemplate struct {
	m    map[string]string // nil when there is no template
	kv   []attr            // the entries of m
	last []attr            // final entries of the last event built without m, to find stable ones
}

// maxSmallAttrs is the number of entries of a map of one group; larger
// Attrs maps are built directly, sized once.
const maxSmallAttrs = 8

func newCore(n *parse.Normalizer, o Options) core {
	if n == nil {
		panic("crdbparse: nil Normalizer")
	}
	return core{n: n, h: n.Hasher(), opts: o.withDefaults(), strs: &internTable{seed: maphash.MakeSeed()}}
}

// begin starts a new event.
func (c *core) begin(ev *event.Event, redactable bool) {
	c.raw.Reset()
	c.ev = ev
	c.redactable = redactable
	c.evTime, c.ageNS, c.svcNS = 0, 0, 0
	c.hasAge, c.hasSvc, c.tagClient = false, false, false
	c.remoteHost, c.remotePort = "", 0
	c.objRank = 0
	c.attrs = c.attrs[:0]
}

// finish resolves precedence between envelope, tags and payload, then
// hands the event to the Normalizer. entry is the raw entry; it must stay
// unchanged until finish returns.
func (c *core) finish(entry []byte) {
	ev := c.ev
	ev.Source = event.SourceCRDB
	ev.Time = ev.LoggedAt
	if c.evTime > 0 {
		ev.Time = c.evTime
	}
	if ev.ClientAddr == "" && c.remoteHost != "" {
		ev.ClientAddr, ev.ClientPort = c.remoteHost, c.remotePort
	}
	switch {
	case c.hasSvc:
		ev.LatencyNS = c.svcNS
	case c.hasAge:
		ev.LatencyNS = c.ageNS
	}
	if ev.ExecMode == "exec-internal" || ev.User == "node" || strings.HasPrefix(ev.Application, "$ internal") {
		ev.Internal = true
	}
	c.buildAttrs()
	c.raw.Entry = entry
	c.n.Finish(ev, &c.raw)
	c.ev = nil
}

// intern returns b as a string, sharing the allocation of earlier equal
// short values.
func (c *core) intern(b []byte) string {
	if len(b) == 0 || len(b) > internMaxLen {
		return string(b)
	}
	set := &c.strs.slots[maphash.Bytes(c.strs.seed, b)&(internSets-1)]
	if set[0] == string(b) {
		return set[0]
	}
	if set[1] == string(b) {
		return set[1]
	}
	s := string(b)
	set[1], set[0] = set[0], s
	return s
}

// internUnmark is intern of b with redaction markers removed: for
// principals and object names, which roachwatch keeps.
func (c *core) internUnmark(b []byte) string {
	return c.intern(c.unmark(b))
}

// unmark returns b without redaction markers, in a scratch buffer that
// is valid until the next call.
func (c *core) unmark(b []byte) []byte {
	if !hasMarker(b) {
		return b
	}
	u := c.ubuf[:0]
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0xE2)
		if i < 0 || i+2 >= len(b) {
			break
		}
		if b[i+1] == 0x80 && (b[i+2] == 0xB9 || b[i+2] == 0xBA) {
			u = append(u, b[:i]...)
			b = b[i+3:]
			continue
		}
		u = append(u, b[:i+1]...)
		b = b[i+1:]
	}
	u = append(u, b...)
	c.ubuf = u
	return u
}

// client parses a client address (markers allowed) into the interned IP
// and the port. Only the IP is interned: ports are ephemeral.
func (c *core) client(b []byte) (string, int) {
	host, port := splitClient(c.unmark(b))
	return c.intern(host), port
}

// setAttr stores a non-sensitive value under k; a later value for the
// same key replaces an earlier one.
func (c *core) setAttr(k, v string) {
	c.attrs = append(c.attrs, attr{k, v})
}

// buildAttrs sets ev.Attrs from the entries setAttr collected (nil when
// there are none), the later of two values for one key winning.
func (c *core) buildAttrs() {
	kv := c.attrs
	if len(kv) == 0 {
		return
	}
	t := &c.tmpl
	if len(kv) > maxSmallAttrs {
		m := make(map[string]string, len(kv))
		for _, a := range kv {
			m[a.k] = a.v
		}
		c.ev.Attrs = m
		return
	}
	if t.m != nil && t.covers(kv) {
		m := maps.Clone(t.m)
		for _, a := range kv {
			if !t.has(a.k) {
				m[a.k] = a.v
			}
		}
		c.ev.Attrs = m
		return
	}
	m := make(map[string]string, len(kv))
	for _, a := range kv {
		m[a.k] = a.v
	}
	c.ev.Attrs = m
	t.update(kv)
}

// covers reports whether the final value of every template key in kv is
// the template's value.
func (t *attrTemplate) covers(kv []attr) bool {
	for _, e := range t.kv {
		v, ok := lastValue(kv, e.k)
		if !ok || v != e.v {
			return false
		}
	}
	return true
}

func (t *attrTemplate) has(k string) bool {
	for _, e := range t.kv {
		if e.k == k {
			return true
		}
	}
	return false
}

// update, after an event that m did not cover, makes the template the
// entries this event shares with the previous such event (when there are
// at least two) and remembers this event's.
func (t *attrTemplate) update(kv []attr) {
	t.kv = t.kv[:0]
	for _, e := range t.last {
		if v, ok := lastValue(kv, e.k); ok && v == e.v {
			t.kv = append(t.kv, e)
		}
	}
	t.m = nil
	if len(t.kv) >= 2 {
		t.m = make(map[string]string, len(t.kv))
		for _, e := range t.kv {
			t.m[e.k] = e.v
		}
	} else {
		t.kv = t.kv[:0]
	}
	t.last = t.last[:0]
	for _, a := range kv {
		if !hasKey(t.last, a.k) {
			v, _ := lastValue(kv, a.k)
			t.last = append(t.last, attr{a.k, v})
		}
	}
}

// lastValue returns the value kv gives k last.
func lastValue(kv []attr, k string) (string, bool) {
	for i := len(kv) - 1; i >= 0; i-- {
		if kv[i].k == k {
			return kv[i].v, true
		}
	}
	return "", false
}

func hasKey(kv []attr, k string) bool {
	_, ok := lastValue(kv, k)
	return ok
}

// safeText returns free text that may contain ‹…› spans, ready for the
// Normalizer. Text of a non-redactable entry carries no markers, and
// CockroachDB's contract is to treat all of it as sensitive: it is wrapped
// in one span so that it is hashed as a whole.
func (c *core) safeText(b []byte) string {
	if c.redactable || len(b) == 0 {
		return string(b)
	}
	return parse.MarkOpen + string(b) + parse.MarkClose
}

// redactedAttr returns an attribute value with every ‹…› span replaced
// by its hash token.
func (c *core) redactedAttr(b []byte) string {
	if hasMarker(b) {
		return c.h.RedactSpans(string(b))
	}
	if len(b) <= 16 { // ids, gists and the like are unique: not worth interning
		return c.intern(b)
	}
	return string(b)
}

// setAge records the Age field (milliseconds, float).
func (c *core) setAge(ms float64) {
	if math.IsNaN(ms) || ms < 0 || ms > 1e12 {
		return
	}
	c.ageNS = int64(math.Round(ms * 1e6))
	c.hasAge = true
}

// splitClient splits a client address "ip:port", "[ipv6]:port" or a bare
// IP into the IP (without brackets) and the port (0 when absent or bad).
func splitClient(s []byte) ([]byte, int) {
	host, port := s, []byte(nil)
	if len(s) > 0 && s[0] == '[' {
		if j := bytes.IndexByte(s, ']'); j > 0 {
			host = s[1:j]
			if rest := s[j+1:]; len(rest) > 0 && rest[0] == ':' {
				port = rest[1:]
			}
		}
	} else if i := bytes.LastIndexByte(s, ':'); i >= 0 && bytes.IndexByte(s, ':') == i {
		host, port = s[:i], s[i+1:]
	}
	p := 0
	for _, d := range port {
		if d < '0' || d > '9' || p > 65535 {
			return host, 0
		}
		p = p*10 + int(d-'0')
	}
	if p > 65535 {
		p = 0
	}
	return host, p
}

// hasMarker reports whether b contains a redaction marker ‹ or ›.
func hasMarker(b []byte) bool {
	for {
		i := bytes.IndexByte(b, 0xE2)
		if i < 0 || i+2 >= len(b) {
			return false
		}
		if b[i+1] == 0x80 && (b[i+2] == 0xB9 || b[i+2] == 0xBA) {
			return true
		}
		b = b[i+1:]
	}
}

// hasControl reports whether b holds a control byte other than tab: NUL
// padding after a crash, binary garbage, a stray escape sequence.
func hasControl(b []byte) bool {
	const lo, hi = 0x2020202020202020, 0x8080808080808080
	for len(b) >= 16 {
		x := binary.LittleEndian.Uint64(b)
		y := binary.LittleEndian.Uint64(b[8:])
		// Sets the high bit of every byte below 0x20 (a borrow can mark a
		// neighbour too); the exact check below weeds those out.
		if ((x-lo)&^x|(y-lo)&^y)&hi != 0 && controlIn(b[:16]) {
			return true
		}
		b = b[16:]
	}
	return controlIn(b)
}

func controlIn(b []byte) bool {
	for _, ch := range b {
		if ch < 0x20 && ch != '\t' {
			return true
		}
	}
	return false
}

// trimLine removes a trailing CR (CRLF files).
func trimLine(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
