package classify

import "math"

// Ciphertext detection. A value is ciphertext when it is hex or base64 of
// at least minCipherLen characters, decodes cleanly, and the decoded bytes
// look random:
//
//   - their Shannon entropy is at least decodedEntropyRatio of the most a
//     sample of that size can reach, min(log2 n, 8) bits per byte;
//   - they are not all printable ASCII (that is encoded text, not
//     ciphertext);
//   - for base64 only, the value mixes digits, upper and lower case, and
//     the entropy of its characters is at least charEntropyRatio of
//     min(log2 len, 6) bits: this rejects identifiers and repeated words
//     that happen to be valid base64.
//
// Ratios of the sample maximum (rather than a fixed bits-per-byte figure)
// keep the test meaningful for short values: 12 random bytes cannot exceed
// log2 12 ≈ 3.58 bits per byte.
const (
	minCipherLen        = 24
	decodedEntropyRatio = 0.85
	charEntropyRatio    = 0.80
	entropySample       = 1024 // bytes examined; longer values are sampled
)

// xlog2x[c] = c·log2(c), so that the entropy of a histogram with counts c_i
// over n bytes is (xlog2x[n] − Σ xlog2x[c_i]) / n. Keeping Σ up to date on
// every increment avoids a final pass over the histogram.
var xlog2x = func() (t [entropySample + 1]float64) {
	for c := 2; c <= entropySample; c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

// entropyMeter accumulates the Shannon entropy of a byte stream.
type entropyMeter struct {
	hist      [256]uint16
	sum       float64
	n         int
	printable bool
}

func (m *entropyMeter) add(b byte) {
	c := m.hist[b]
	m.sum += xlog2x[c+1] - xlog2x[c]
	m.hist[b] = c + 1
	m.n++
	if (b < 0x20 || b > 0x7e) && b != '\t' && b != '\n' && b != '\r' {
		m.printable = false
	}
}

// random reports whether the entropy reaches ratio of the sample maximum
// min(log2 n, maxBits).
func (m *entropyMeter) random(ratio, maxBits float64) bool {
	if m.n < 2 {
		return false
	}
	h := (xlog2x[m.n] - m.sum) / float64(m.n)
	return h >= ratio*min(math.Log2(float64(m.n)), maxBits)
}

// looksCiphertext applies the model above. mask is the value's byte kinds.
func looksCiphertext(v []byte, mask uint16) bool {
	if len(v) < minCipherLen {
		return false
	}
	if mask&^(kDigit|kUpper|kLower) == 0 && len(v)%2 == 0 && isHex(v) {
		return hexRandom(v)
	}
	return base64Random(v, mask)
}

func isHex(v []byte) bool {
	for _, b := range v {
		if hexval[b] == 0xff {
			return false
		}
	}
	return true
}

func hexRandom(v []byte) bool {
	m := entropyMeter{printable: true}
	for i := 0; i+1 < len(v) && m.n < entropySample; i += 2 {
		m.add(hexval[v[i]]<<4 | hexval[v[i+1]])
	}
	return !m.printable && m.random(decodedEntropyRatio, 8)
}

// base64Random checks a standard or URL-safe base64 value, padded or not.
func base64Random(v []byte, mask uint16) bool {
	if mask&(kDigit|kUpper|kLower) != kDigit|kUpper|kLower {
		return false
	}
	if mask&(kPlus|kSlash) != 0 && mask&(kDash|kUnderscore) != 0 {
		return false // mixed alphabets
	}
	n := len(v)
	for pad := 0; pad < 2 && n > 0 && v[n-1] == '='; pad++ {
		n--
	}
	if (n < len(v) && len(v)%4 != 0) || n%4 == 1 {
		return false
	}
	chars := entropyMeter{printable: true}
	bytes := entropyMeter{printable: true}
	var acc uint32
	bits := 0
	for _, b := range v[:n] {
		x := b64val[b]
		if x == 0xff {
			return false
		}
		if chars.n < entropySample {
			chars.add(b)
		}
		acc = acc<<6 | uint32(x)
		bits += 6
		if bits >= 8 {
			bits -= 8
			if bytes.n < entropySample {
				bytes.add(byte(acc >> bits))
			}
		}
	}
	return !bytes.printable && bytes.random(decodedEntropyRatio, 8) && chars.random(charEntropyRatio, 6)
}
