package loggen

import (
	"strconv"
	"unicode/utf8"
)

// obj appends one JSON object field by field, the way CockroachDB's event
// encoder does: fields in a fixed order, zero values omitted, UTF-8 kept
// raw (including the ‹ › markers), no HTML escaping.
type obj struct {
	b     []byte
	first bool
}

// newObj starts an object in buf (which may be nil or reused).
func newObj(buf []byte) obj { return obj{b: append(buf, '{'), first: true} }

func (o *obj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

// str writes k unless v is empty.
func (o *obj) str(k, v string) {
	if v == "" {
		return
	}
	o.strAlways(k, v)
}

// strAlways writes k even when v is empty.
func (o *obj) strAlways(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

// int writes k unless v is zero.
func (o *obj) int(k string, v int64) {
	if v == 0 {
		return
	}
	o.intAlways(k, v)
}

func (o *obj) intAlways(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// uint writes k unless v is zero; uint64 values above 2^63 stay exact.
func (o *obj) uint(k string, v uint64) {
	if v == 0 {
		return
	}
	o.key(k)
	o.b = strconv.AppendUint(o.b, v, 10)
}

// f32 writes a float32 in its shortest form, like CockroachDB's Age.
func (o *obj) f32(k string, v float32) {
	if v == 0 {
		return
	}
	o.key(k)
	o.b = strconv.AppendFloat(o.b, float64(v), 'f', -1, 32)
}

// f64 writes a float64 in its shortest form.
func (o *obj) f64(k string, v float64) {
	if v == 0 {
		return
	}
	o.key(k)
	o.b = strconv.AppendFloat(o.b, v, 'f', -1, 64)
}

// flag writes k: true when v is set; false is omitted.
func (o *obj) flag(k string, v bool) {
	if v {
		o.key(k)
		o.b = append(o.b, "true"...)
	}
}

// boolAlways writes k with v even when false.
func (o *obj) boolAlways(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

// strs writes a string array unless it is empty.
func (o *obj) strs(k string, v []string) {
	if len(v) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONString(o.b, s)
	}
	o.b = append(o.b, ']')
}

// uints writes an array of unsigned numbers unless it is empty.
func (o *obj) uints(k string, v []uint64) {
	if len(v) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, n := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = strconv.AppendUint(o.b, n, 10)
	}
	o.b = append(o.b, ']')
}

// raw writes k with an already encoded JSON value.
func (o *obj) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
}

// done closes the object and returns its bytes.
func (o *obj) done() []byte { return append(o.b, '}') }

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, everything else (UTF-8) written raw.
func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				i++
				continue
			}
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
