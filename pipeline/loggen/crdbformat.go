package loggen

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// renderJSON renders e in the verbose json envelope (§2.2).
func (s *crdbSink) renderJSON(b []byte, e *entry) []byte {
	n := s.n
	o := newObj(b)
	o.intAlways("channel_numeric", int64(e.ch))
	o.str("channel", channelNames[e.ch])
	o.key("timestamp")
	o.b = append(o.b, '"')
	o.b = appendTimestamp(o.b, e.at)
	o.b = append(o.b, '"')
	o.str("cluster_id", n.cluster)
	o.intAlways("node_id", int64(n.id))
	o.intAlways("tenant_id", 1)
	o.str("tenant_name", "system")
	o.str("version", crdbVersion)
	o.intAlways("severity_numeric", severityNumbers[e.sev])
	o.str("severity", severityNames[e.sev])
	o.intAlways("goroutine", e.goid)
	o.str("file", e.file)
	o.intAlways("line", int64(e.line))
	o.intAlways("entry_counter", s.counter)
	o.intAlways("redactable", 1)
	o.key("tags")
	t := newObj(o.b)
	t.strAlways("n", strconv.Itoa(n.id))
	for _, tg := range e.tags {
		t.strAlways(tg.k, tg.v)
	}
	o.b = t.done()
	if e.event != nil {
		o.raw("event", e.event)
	} else {
		o.strAlways("message", e.msg)
	}
	b = o.done()
	return append(b, '\n')
}

// renderHeader renders one [config] header entry in the node's format.
func (s *crdbSink) renderHeader(b []byte, t int64, msg string) []byte {
	if s.n.format == FormatCRDBV2 {
		b = appendV2Time(append(b, 'I'), t)
		b = append(b, " 1 util/log/file_sync_buffer.go:237 ⋮ [config]   "...)
		b = append(b, msg...)
		return append(b, '\n')
	}
	o := newObj(b)
	o.intAlways("header", 1)
	o.key("timestamp")
	o.b = append(o.b, '"')
	o.b = appendTimestamp(o.b, t)
	o.b = append(o.b, '"')
	o.str("version", crdbVersion)
	o.intAlways("goroutine", 1)
	o.str("file", "util/log/file_sync_buffer.go")
	o.intAlways("line", 237)
	o.intAlways("redactable", 1)
	o.raw("tags", []byte(`{"config":""}`))
	o.strAlways("message", msg)
	return append(o.done(), '\n')
}

// appendV2Time writes "yymmdd hh:mm:ss.uuuuuu" in UTC.
func appendV2Time(b []byte, t int64) []byte {
	return time.Unix(0, t).UTC().AppendFormat(b, "060102 15:04:05.000000")
}

// renderV2 renders e as one or more crdb-v2 lines (§2.1): '=' for a
// structured payload, ' ' then '+' lines for a multi-line message, and
// '|' lines when a payload exceeds maxV2Payload.
func (s *crdbSink) renderV2(b []byte, e *entry) []byte {
	prefix := s.v2Prefix(e)
	if e.event != nil {
		return appendV2Pieces(b, prefix, '=', e.event)
	}
	lines := strings.Split(e.msg, "\n")
	for i, l := range lines {
		cont := byte(' ')
		if i > 0 {
			cont = '+'
		}
		b = appendV2Pieces(b, prefix, cont, []byte(l))
	}
	return b
}

// v2Prefix is everything up to and including the space after the counter.
func (s *crdbSink) v2Prefix(e *entry) []byte {
	p := make([]byte, 0, 160)
	p = appendV2Time(append(p, e.sev), e.at)
	p = append(p, ' ')
	p = strconv.AppendInt(p, e.goid, 10)
	p = append(p, ' ')
	if e.ch != chDev {
		p = strconv.AppendInt(p, int64(e.ch), 10)
		p = append(p, '@')
	}
	p = append(p, e.file...)
	p = append(p, ':')
	p = strconv.AppendInt(p, int64(e.line), 10)
	p = append(p, " ⋮ [T1,Vsystem,n"...)
	p = strconv.AppendInt(p, int64(s.n.id), 10)
	for _, tg := range e.tags {
		p = append(p, ',')
		p = append(p, tg.k...)
		if tg.v == "" {
			continue
		}
		if len(tg.k) > 1 {
			p = append(p, '=')
		}
		p = append(p, tg.v...)
	}
	p = append(p, "] "...)
	p = strconv.AppendInt(p, s.counter, 10)
	return append(p, ' ')
}

// appendV2Pieces writes payload under prefix, splitting it into '|'
// continuation lines when it is too long.
func appendV2Pieces(b, prefix []byte, cont byte, payload []byte) []byte {
	for i, piece := range splitV2(payload, maxV2Payload) {
		b = append(b, prefix...)
		if i == 0 {
			b = append(b, cont)
		} else {
			b = append(b, '|')
		}
		b = append(b, piece...)
		b = append(b, '\n')
	}
	return b
}

// splitV2 cuts p into pieces of about limit bytes. It never cuts inside a
// UTF-8 sequence or a JSON escape, and when a cut falls inside a ‹…›
// span it closes the span with › before the cut and reopens it with ‹
// after, as CockroachDB does.
func splitV2(p []byte, limit int) [][]byte {
	if len(p) <= limit {
		return [][]byte{p}
	}
	var pieces [][]byte
	var carry []byte // "‹" when the previous piece ended inside a span
	inSpan := false
	start := 0
	for i := 0; i < len(p); {
		if i-start >= limit && !isClose(p[i:]) {
			piece := append(append([]byte{}, carry...), p[start:i]...)
			carry = nil
			if inSpan {
				piece = append(piece, "›"...)
				carry = []byte("‹")
			}
			pieces = append(pieces, piece)
			start = i
		}
		switch {
		case p[i] == '\\' && i+1 < len(p) && p[i+1] == 'u':
			i += 6
		case p[i] == '\\':
			i += 2
		case p[i] < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(p[i:])
			if r == '‹' {
				inSpan = true
			} else if r == '›' {
				inSpan = false
			}
			i += size
		}
	}
	if start < len(p) {
		pieces = append(pieces, append(append([]byte{}, carry...), p[start:]...))
	}
	return pieces
}

// isClose reports whether p starts with the closing marker ›.
func isClose(p []byte) bool {
	return len(p) >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0xBA
}
