package parse

// strCacheSlots is the number of slots of a strCache (a power of two).
const (
	strCacheSlots  = 256
	strCacheMaxLen = 512 // longer values are not cached
)

// strCache shares the strings of repeated byte values (fingerprints,
// qualified column names). It is direct-mapped on a hash the caller
// supplies, so a lookup is one comparison, a miss replaces the slot, and
// memory stays bounded whatever the input: no table to grow or clear.
// The values returned are ordinary immutable strings.
type strCache struct {
	slots [strCacheSlots]string
}

// get returns string(b), reusing the cached string when b was seen last
// in its slot. h must be a hash of b.
func (c *strCache) get(b []byte, h uint64) string {
	if len(b) > strCacheMaxLen {
		return string(b)
	}
	s := &c.slots[h&(strCacheSlots-1)]
	if *s == string(b) && len(b) > 0 {
		return *s
	}
	v := string(b)
	*s = v
	return v
}
