package parse

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
)

// Redaction markers of CockroachDB's redactable logs (U+2039, U+203A).
const (
	MarkOpen  = "‹"
	MarkClose = "›"
)

var (
	markOpen  = []byte(MarkOpen)
	markClose = []byte(MarkClose)
)

// Hasher computes keyed hashes of sensitive values: HMAC-SHA256 with the
// configured key, truncated to 64 bits and written as 16 hex digits. Equal
// values give equal hashes under one key, so analysts can correlate "the
// same value" without seeing it. Not safe for concurrent use.
type Hasher struct {
	mac hash.Hash
	sum []byte
	buf []byte // SumString's copy of its argument
}

// NewHasher returns a Hasher for key. The key must be non-empty.
func NewHasher(key []byte) *Hasher {
	return &Hasher{mac: hmac.New(sha256.New, key), sum: make([]byte, 0, sha256.Size)}
}

// Sum returns the keyed hash of v.
func (h *Hasher) Sum(v []byte) string {
	h.mac.Reset()
	h.mac.Write(v)
	h.sum = h.mac.Sum(h.sum[:0])
	return hex.EncodeToString(h.sum[:8])
}

// SumString is Sum for a string.
func (h *Hasher) SumString(v string) string {
	h.buf = append(h.buf[:0], v...) // Write would make the conversion escape
	h.mac.Reset()
	h.mac.Write(h.buf)
	h.sum = h.mac.Sum(h.sum[:0])
	return hex.EncodeToString(h.sum[:8])
}

// Unmark removes redaction markers and returns the plain text. Use it for
// fields that identify principals and objects (user names, table names),
// which roachwatch keeps, not for values.
func Unmark(s string) string {
	if !strings.Contains(s, MarkOpen) && !strings.Contains(s, MarkClose) {
		return s
	}
	s = strings.ReplaceAll(s, MarkOpen, "")
	return strings.ReplaceAll(s, MarkClose, "")
}

// appendUnmark appends Unmark(s) to dst. It removes the markers in the
// same two passes as Unmark (every ‹, then every › of what is left), so
// even a marker that the first pass joins from invalid UTF-8 goes.
func appendUnmark(dst []byte, s string) []byte {
	start := len(dst)
	for {
		i := strings.Index(s, MarkOpen)
		if i < 0 {
			dst = append(dst, s...)
			break
		}
		dst = append(dst, s[:i]...)
		s = s[i+len(MarkOpen):]
	}
	b := dst[start:]
	i := bytes.Index(b, markClose)
	if i < 0 {
		return dst
	}
	j := i
	for i >= 0 {
		b = b[i+len(MarkClose):]
		i = bytes.Index(b, markClose)
		if i < 0 {
			j += copy(dst[start+j:], b)
			break
		}
		j += copy(dst[start+j:], b[:i])
	}
	return dst[:start+j]
}

// UnmarkBytes is Unmark for bytes; it returns b itself when there is no
// marker, else a new slice.
func UnmarkBytes(b []byte) []byte { return appendUnmarked(nil, b) }

// appendUnmarked appends b without its redaction markers to dst, or
// returns b itself (dst untouched) when b has none. Both markers are
// E2 80 B9 / E2 80 BA in UTF-8, so one IndexByte(0xE2) loop finds them.
func appendUnmarked(dst, b []byte) []byte {
	i := bytes.IndexByte(b, 0xE2)
	if i < 0 {
		return b
	}
	found := false
	start := len(dst)
	for i >= 0 {
		if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xB9 || b[i+2] == 0xBA) {
			dst = append(dst, b[:i]...)
			b = b[i+3:]
			found = true
			i = bytes.IndexByte(b, 0xE2)
			continue
		}
		j := bytes.IndexByte(b[i+1:], 0xE2)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if !found {
		return b
	}
	dst = append(dst, b...)
	return dst[start:]
}

// RedactSpans replaces the content of every ‹…› span of s by a hash token
// ‹#<16 hex>›, keeping the unmarked text around it. A span opened but never
// closed runs to the end of s. The split artefact "›‹" of crdb-v2 size
// splits must be joined before calling this (crdbparse does).
func (h *Hasher) RedactSpans(s string) string {
	i := strings.Index(s, MarkOpen)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i+len(MarkOpen):]
		j := strings.Index(s, MarkClose)
		span := s
		if j >= 0 {
			span, s = s[:j], s[j+len(MarkClose):]
		} else {
			s = ""
		}
		b.WriteString(MarkOpen)
		b.WriteByte('#')
		b.WriteString(h.SumString(span))
		b.WriteString(MarkClose)
		i = strings.Index(s, MarkOpen)
	}
	b.WriteString(s)
	return b.String()
}
