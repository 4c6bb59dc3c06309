package loggen

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
)

// rng wraps a PCG source with the few draws the generator needs. Each
// concern owns its own rng so that streams stay independent.
type rng struct{ r *rand.Rand }

// newRNG returns a stream identified by seed and a stream label.
func newRNG(seed uint64, label string) *rng {
	return &rng{r: rand.New(rand.NewPCG(seed, hash64(label)))}
}

// hash64 is FNV-1a over s; stable across runs and platforms.
func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func (g *rng) intn(n int) int { return g.r.IntN(n) }

// between returns an int in [lo, hi].
func (g *rng) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *rng) chance(p float64) bool { return g.r.Float64() < p }

func (g *rng) float() float64 { return g.r.Float64() }

func (g *rng) u64() uint64 { return g.r.Uint64() }

// exp draws an exponential variate with the given mean.
func (g *rng) exp(mean float64) float64 { return g.r.ExpFloat64() * mean }

// logNormal draws around median with multiplicative spread sigma.
func (g *rng) logNormal(median, sigma float64) float64 {
	return median * math.Exp(g.r.NormFloat64()*sigma)
}

// durMS returns a duration in ns for a value in milliseconds.
func durMS(ms float64) int64 { return int64(ms * 1e6) }

// durS returns a duration in ns for a value in seconds.
func durS(s float64) int64 { return int64(s * 1e9) }

// pick returns a random element of xs.
func pick[T any](g *rng, xs []T) T { return xs[g.r.IntN(len(xs))] }

// hex returns n random lower-case hex digits.
func (g *rng) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

// uuid returns a random version-4 UUID string.
func (g *rng) uuid() string {
	h := g.hex(32)
	b := []byte(h)
	b[12] = '4'
	b[16] = "89ab"[g.r.IntN(4)]
	s := string(b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// port returns an ephemeral client port.
func (g *rng) port() int { return g.between(32768, 60999) }

// itoa is strconv.Itoa for int64.
func itoa(v int64) string { return strconv.FormatInt(v, 10) }
