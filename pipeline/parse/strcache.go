package parse

// strCacheSets is the number of sets of a strCache (a power of two); each
// set holds two strings.
const (
	strCacheSets   = 256
	strCacheMaxLen = 512 // longer values are not cached
)

// strCache shares the strings of repeated byte values (fingerprints,
// qualified column names, sqlcommenter tags). It is two-way set
// associative on a hash the caller supplies: a lookup is at most two
// comparisons, a miss replaces the older string of its set, and memory
// stays bounded whatever the input: no table to grow or clear. Two ways
// keep two frequent values that share a set from evicting each other on
// every event. The values returned are ordinary immutable strings.
type strCache struct {
	sets [strCacheSets][2]string // the newer string of a set is in slot 0
}

// get returns string(b), reusing a cached string equal to b. h must be a
// hash of b.
func (c *strCache) get(b []byte, h uint64) string {
	if len(b) > strCacheMaxLen || len(b) == 0 {
		return string(b)
	}
	set := &c.sets[h&(strCacheSets-1)]
	if set[0] == string(b) {
		return set[0]
	}
	if set[1] == string(b) {
		set[0], set[1] = set[1], set[0]
		return set[0]
	}
	v := string(b)
	set[1], set[0] = set[0], v
	return v
}
