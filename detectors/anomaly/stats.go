package anomaly

import (
	"math"
	"net/netip"
)

// Estimator constants (log2 space).
const (
	huberK     = 1.5 // clip residuals at huberK * scale
	scaleFloor = 0.5 // smallest scale used in thresholds: a factor of 2^0.5
)

// est is the robust streaming estimator of doc.go: location and scale of
// log2(1+x), 12 bytes.
type est struct {
	loc, scale float32
	n          uint32
}

func lg(x float64) float64 {
	if x < 0 {
		x = 0
	}
	return math.Log2(1 + x)
}

// add folds x in with weight max(1/(n+1), alpha).
func (e *est) add(x float64, alpha float64) {
	y := lg(x)
	if e.n == 0 {
		e.loc, e.scale, e.n = float32(y), 0, 1
		return
	}
	a := 1 / float64(e.n+1)
	if a < alpha {
		a = alpha
	}
	s := max(float64(e.scale), scaleFloor)
	r := y - float64(e.loc)
	lim := huberK * s
	c := min(max(r, -lim), lim)
	dev := min(math.Abs(r), lim)
	e.loc = float32(float64(e.loc) + float64(a*c))
	e.scale = float32(float64(e.scale) + float64(a*(dev-float64(e.scale))))
	if e.n < math.MaxUint32 {
		e.n++
	}
}

// median is the baseline location back in linear units.
func (e *est) median() float64 { return math.Exp2(float64(e.loc)) - 1 }

// limit is the largest unremarkable value: median * 2^(k*max(scale, floor)).
func (e *est) limit(k float64) float64 {
	return math.Exp2(float64(e.loc)+k*max(float64(e.scale), scaleFloor)) - 1
}

// entry is one slot of a space-saving table: a statement shape or a table
// with its count and row baselines. sizeofEntry bytes.
type entry struct {
	key   uint64
	count uint32
	flags uint32 // entryFullScan
	rows  est    // NumRows
	read  est    // telemetry RowsRead
}

const entryFullScan = 1 // a full table scan of this (sensitive) table was seen

// find returns the index of key in tab or -1.
func find(tab []entry, key uint64) int {
	for i := range tab {
		if tab[i].key == key {
			return i
		}
	}
	return -1
}

// touch counts key in the space-saving table of at most k entries and
// returns its index and whether it was absent. A hit bubbles one slot
// toward the front when it overtakes its predecessor, so hot keys are
// found first. When the table is full the least counted entry is
// replaced and the new entry inherits its count (space-saving); the
// caller learns that via overflow.
func touch(tab *[]entry, key uint64, k int) (i int, added, overflow bool) {
	t := *tab
	if i = find(t, key); i >= 0 {
		t[i].count++
		if i > 0 && t[i].count > t[i-1].count {
			t[i], t[i-1] = t[i-1], t[i]
			i--
		}
		return i, false, false
	}
	if len(t) < k {
		if len(t) == cap(t) {
			t = growEntries(t, k)
		}
		t = append(t, entry{key: key, count: 1})
		*tab = t
		return len(t) - 1, true, false
	}
	m := len(t) - 1
	for j := len(t) - 2; j >= 0; j-- {
		if t[j].count < t[m].count {
			m = j
		}
	}
	t[m] = entry{key: key, count: t[m].count + 1}
	return m, true, true
}

func growEntries(t []entry, k int) []entry {
	n := min(max(2*cap(t), 4), k)
	g := make([]entry, len(t), n)
	copy(g, t)
	return g
}

// item is a remembered client address, network or application name.
type item struct {
	h    uint64
	n    uint32
	kind uint8
	_    [3]byte
}

// Kinds of items.
const (
	kindAddr uint8 = iota
	kindNet
	kindApp
	numKinds
)

var kindNames = [numKinds]string{"address", "network", "application"}

func hasItem(items []item, kind uint8, h uint64) bool {
	for i := range items {
		if items[i].h == h && items[i].kind == kind {
			items[i].n++
			return true
		}
	}
	return false
}

// addItem remembers h (absent) within the cap of its kind; it reports
// whether an item had to be replaced.
func addItem(items *[]item, kind uint8, h uint64, capOf int) (overflow bool) {
	t := *items
	m, n := -1, 0
	for i := range t {
		if t[i].kind == kind {
			n++
			if m < 0 || t[i].n < t[m].n {
				m = i
			}
		}
	}
	if n < capOf {
		if len(t) == cap(t) {
			g := make([]item, len(t), len(t)+min(max(len(t), 2), 8))
			copy(g, t)
			t = g
		}
		*items = append(t, item{h: h, n: 1, kind: kind})
		return false
	}
	t[m] = item{h: h, n: t[m].n + 1, kind: kind}
	return true
}

// hash64 is FNV-1a: stable across processes, so snapshots stay valid.
func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// network returns the /24 (IPv4) or /48 (IPv6) prefix of addr, or "".
func network(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// hourProfile counts events per hour of the week (Monday 00:00 UTC = 0).
type hourProfile struct {
	bins  [168]uint8
	total uint32
}

const hourProfileBytes = 176 // 172 rounded to the allocator's size class

func hourOfWeek(t int64) int {
	h := floorDiv(t, 3600e9)
	// 1970-01-01 was a Thursday: hour 0 of the epoch is hour 72 of its week.
	return int((h + 72) % 168)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (h *hourProfile) add(bin int) {
	if h.bins[bin] == math.MaxUint8 {
		h.total = 0
		for i := range h.bins {
			h.bins[i] >>= 1
			h.total += uint32(h.bins[i])
		}
	}
	h.bins[bin]++
	h.total++
}

// share is the part of the profile at bin's hour +-1: of the same weekday
// and hour when week is true, else of the same hour on any day.
func (h *hourProfile) share(bin int, week bool) float64 {
	if h.total == 0 {
		return 0
	}
	var s uint32
	if week {
		for d := -1; d <= 1; d++ {
			s += uint32(h.bins[(bin+d+168)%168])
		}
	} else {
		hour := bin % 24
		for day := 0; day < 7; day++ {
			for d := -1; d <= 1; d++ {
				s += uint32(h.bins[day*24+(hour+d+24)%24])
			}
		}
	}
	return float64(s) / float64(h.total)
}

// seenFilter remembers every principal ever seen with two bits each.
type seenFilter struct {
	bits []uint64
	mask uint64
}

func newSeenFilter(nbits int) seenFilter {
	return seenFilter{bits: make([]uint64, nbits/64), mask: uint64(nbits - 1)}
}

func (f *seenFilter) pos(h uint64) (uint64, uint64) {
	return h & f.mask, (h>>32 | h<<32) * 0x9e3779b97f4a7c15 >> 7 & f.mask
}

func (f *seenFilter) has(h uint64) bool {
	a, b := f.pos(h)
	return f.bits[a/64]&(1<<(a%64)) != 0 && f.bits[b/64]&(1<<(b%64)) != 0
}

func (f *seenFilter) add(h uint64) {
	a, b := f.pos(h)
	f.bits[a/64] |= 1 << (a % 64)
	f.bits[b/64] |= 1 << (b % 64)
}
