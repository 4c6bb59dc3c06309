package sqlfp

import (
	"bytes"
	"unicode/utf8"
)

// lexString scans a single-quoted literal whose opening quote is at q.
// A doubled quote escapes a quote; with escapes (e'..', b'..') a backslash escapes
// the next character. In full mode the decoded value goes to a.vals.
// An unterminated literal runs to the end of the input.
func (a *Analyzer) lexString(t *token, q int, escapes bool) int {
	src := a.src
	n := len(src)
	i := q + 1
	if !escapes {
		t.v = int32(len(a.vals))
		for {
			k := bytes.IndexByte(src[i:], '\'')
			if k < 0 {
				a.appendValue(src[i:])
				i = n
				break
			}
			a.appendValue(src[i : i+k])
			i += k + 1
			if i < n && src[i] == '\'' {
				a.appendValue(src[i : i+1])
				i++
				continue
			}
			break
		}
		t.ve = int32(len(a.vals))
		return i
	}
	t.v = int32(len(a.vals))
	for i < n {
		c := src[i]
		switch {
		case c == '\'' && i+1 < n && src[i+1] == '\'':
			a.appendValue(src[i : i+1])
			i += 2
		case c == '\'':
			t.ve = int32(len(a.vals))
			return i + 1
		case c == '\\' && i+1 < n:
			i = a.decodeEscape(i + 1)
		default:
			a.appendValue(src[i : i+1])
			i++
		}
	}
	t.ve = int32(len(a.vals))
	return n
}

func (a *Analyzer) appendValue(b []byte) {
	if a.full {
		a.vals = append(a.vals, b...)
	}
}

// decodeEscape decodes the backslash escape whose letter is at i and
// returns the index after it. Decoded output is never longer than the
// escape sequence, which keeps a.vals within its reserved capacity.
func (a *Analyzer) decodeEscape(i int) int {
	src := a.src
	c := src[i]
	var r byte
	switch c {
	case 'n':
		r = '\n'
	case 't':
		r = '\t'
	case 'r':
		r = '\r'
	case 'b':
		r = '\b'
	case 'f':
		r = '\f'
	case 'v':
		r = '\v'
	case 'x':
		if v, k := parseHex(src[i+1:], 2); k > 0 {
			a.appendValue([]byte{byte(v)})
			return i + 1 + k
		}
		r = c
	case 'u', 'U':
		want := 4
		if c == 'U' {
			want = 8
		}
		if v, k := parseHex(src[i+1:], want); k == want {
			if a.full {
				a.vals = utf8.AppendRune(a.vals, rune(v))
			}
			return i + 1 + k
		}
		r = c
	default:
		if c >= '0' && c <= '7' {
			v, k := 0, 0
			for k < 3 && i+k < len(src) && src[i+k] >= '0' && src[i+k] <= '7' {
				v = v*8 + int(src[i+k]-'0')
				k++
			}
			a.appendValue([]byte{byte(v)})
			return i + k
		}
		r = c
	}
	a.appendValue([]byte{r})
	return i + 1
}

// parseHex reads up to max hex digits from b.
func parseHex(b []byte, max int) (v uint32, k int) {
	for k < max && k < len(b) && isHex(b[k]) {
		d := b[k]
		switch {
		case d <= '9':
			d -= '0'
		default:
			d = d | 0x20 - 'a' + 10
		}
		v = v<<4 | uint32(d)
		k++
	}
	return v, k
}

// lexLineComment skips "-- ..." up to the newline and records the body.
func (a *Analyzer) lexLineComment(i int) int {
	src := a.src
	end := len(src)
	if k := bytes.IndexByte(src[i+2:], '\n'); k >= 0 {
		end = i + 2 + k
	}
	a.addComment(i+2, end)
	return end
}

// lexBlockComment skips a possibly nested /* ... */ and records the body.
// An unterminated comment runs to the end of the input.
func (a *Analyzer) lexBlockComment(i int) int {
	src := a.src
	n := len(src)
	depth := 1
	j := i + 2
	floor := j // a '/' before floor belongs to a delimiter already used
	for j < n {
		k := bytes.IndexByte(src[j:], '*')
		if k < 0 {
			break
		}
		// A '/' just before the '*' opens a nested comment; a '/' just
		// after it closes one.
		j += k
		if j-1 >= floor && src[j-1] == '/' {
			depth++
			j++
			floor = j
			continue
		}
		if j+1 < n && src[j+1] == '/' {
			depth--
			if depth == 0 {
				a.addComment(i+2, j)
				return j + 2
			}
			j += 2
			floor = j
			continue
		}
		j++
	}
	a.addComment(i+2, n)
	return n
}

func (a *Analyzer) addComment(s, e int) {
	if !a.full {
		return
	}
	if len(a.comments) >= MaxComments {
		a.truncated = true
		return
	}
	a.comments = append(a.comments, a.src[s:e])
}
