package anomaly

import (
	"encoding/hex"
	"strings"
	"unsafe"
)

// principal is the baseline of one cluster + user.
type principal struct {
	key        string // cluster + "\x00" + user (user alone when the cluster is unknown)
	prev, next int32  // LRU list, most recent at head
	flags      uint32
	first      int64  // event time of the first event
	last       int64  // latest event time
	events     uint32 // events counted (statement copies once, failed logins not)
	stmts      uint32 // statements counted
	lastNewFP  uint32 // stmts when the last new shape appeared
	minuteN    uint32 // events in the current minute
	minute     int64  // current minute (event time / 1 min)
	rateLimit  uint32 // spike threshold for the current minute (0: no baseline yet)
	offHour    int64  // hour index of the last off-hours occurrence
	rate       est    // events per busy minute
	recent     [3]uint64
	recentPos  uint8
	firstID    string // id of the first event, kept for newcomers only (RW-ANOM-006 evidence)
	hours      *hourProfile
	fps        []entry // space-saving top-K statement shapes
	tables     []entry // space-saving top tables
	items      []item  // addresses, networks, application names
}

// Principal flags.
const (
	flagNewcomer     = 1 << iota // first seen after the warm-up and absent from the seen filter
	flagFPOverflow               // more distinct shapes than max_fingerprints
	flagAddrOverflow             // (flagAddrOverflow << kind) for each item kind
	flagNetOverflow
	flagAppOverflow
)

const (
	sizeofPrincipal = int64(unsafe.Sizeof(principal{}))
	sizeofEntry     = int64(unsafe.Sizeof(entry{}))
	sizeofItem      = int64(unsafe.Sizeof(item{}))
	// mapEntryBytes is the index map's cost per principal: a string
	// header and an int32 per slot at a load factor of 7/8, doubled for
	// the growth headroom.
	mapEntryBytes = 64
	maxKeyBytes   = 128
	idBytes       = 48 // event id (32 hex) and allocator rounding
)

// dynBytes is what p holds outside its slab slot.
func (p *principal) dynBytes() int64 {
	n := int64(len(p.key)+len(p.firstID)) + int64(cap(p.fps)+cap(p.tables))*sizeofEntry + int64(cap(p.items))*sizeofItem
	if p.hours != nil {
		n += hourProfileBytes
	}
	return n
}

// PrincipalBound returns the documented bound for c: the most bytes one
// principal can hold and the most the whole detector can hold.
func PrincipalBound(c Config) (perPrincipal, total int64) {
	perPrincipal = sizeofPrincipal + mapEntryBytes + maxKeyBytes + idBytes +
		int64(c.MaxFingerprints+c.MaxTables)*sizeofEntry +
		int64(c.MaxAddresses+c.MaxNetworks+c.MaxApps+8)*sizeofItem // +8: growth slack of the item slice
	if c.OffHours {
		perPrincipal += hourProfileBytes
	}
	return perPrincipal, int64(c.MaxPrincipals)*perPrincipal + int64(c.SeenFilterBits/8)
}

// principalKey builds the state key; keys longer than maxKeyBytes keep a
// prefix and a hash of the rest so the bound holds.
func principalKey(buf []byte, cluster, user string) []byte {
	buf = buf[:0]
	if cluster != "" {
		buf = append(buf, cluster...)
		buf = append(buf, 0)
	}
	buf = append(buf, user...)
	if len(buf) > maxKeyBytes {
		h := hash64(string(buf[maxKeyBytes-17:]))
		buf = buf[:maxKeyBytes-17]
		buf = append(buf, '#')
		var hx [8]byte
		for i := range hx {
			hx[i] = byte(h >> (56 - 8*i))
		}
		buf = hex.AppendEncode(buf, hx[:])
	}
	return buf
}

// splitKey returns cluster and user of a key.
func splitKey(key string) (cluster, user string) {
	if i := strings.IndexByte(key, 0); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// store holds principals in a slab indexed by key, with an LRU list.
type store struct {
	idx        map[string]int32
	ps         []principal
	free       []int32
	head, tail int32
	max        int
	mem        int64 // dynamic bytes of all principals
	evicted    int64
}

func newStore(max int) store {
	return store{idx: map[string]int32{}, head: -1, tail: -1, max: max}
}

func (s *store) unlink(i int32) {
	p := &s.ps[i]
	if p.prev >= 0 {
		s.ps[p.prev].next = p.next
	} else {
		s.head = p.next
	}
	if p.next >= 0 {
		s.ps[p.next].prev = p.prev
	} else {
		s.tail = p.prev
	}
}

func (s *store) pushFront(i int32) {
	p := &s.ps[i]
	p.prev, p.next = -1, s.head
	if s.head >= 0 {
		s.ps[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

// get returns the index of key, moved to the front, and whether it was
// created (evicting the least recently seen principal at the cap).
func (s *store) get(key []byte) (int32, bool) {
	if i, ok := s.idx[string(key)]; ok {
		if s.head != i {
			s.unlink(i)
			s.pushFront(i)
		}
		return i, false
	}
	if len(s.idx) >= s.max {
		s.evict()
	}
	var i int32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
	} else {
		if len(s.ps) == cap(s.ps) {
			g := make([]principal, len(s.ps), min(max(2*cap(s.ps), 16), s.max))
			copy(g, s.ps)
			s.ps = g
		}
		s.ps = append(s.ps, principal{})
		i = int32(len(s.ps) - 1)
	}
	k := string(key)
	s.ps[i] = principal{key: k, offHour: -1}
	s.idx[k] = i
	s.mem += int64(len(k))
	s.pushFront(i)
	return i, true
}

func (s *store) evict() {
	i := s.tail
	if i < 0 {
		return
	}
	s.unlink(i)
	p := &s.ps[i]
	s.mem -= p.dynBytes()
	delete(s.idx, p.key)
	*p = principal{}
	s.free = append(s.free, i)
	s.evicted++
}

// bytes is the estimated state size of the store.
func (s *store) bytes() int64 {
	return int64(cap(s.ps))*sizeofPrincipal + int64(len(s.idx))*mapEntryBytes + int64(cap(s.free))*4 + s.mem
}
