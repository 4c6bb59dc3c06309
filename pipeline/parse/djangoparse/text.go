package djangoparse

import (
	"bytes"
	"strconv"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// startScan bounds how much of a line the prefix matcher looks at: the
// fields before {message} are short, and a 1 MB SQL line must not cost a
// regexp pass over all of it.
const startScan = 4096

// messageLayout is the bare-message reader used by the "message" preset and
// while auto-detection has not decided yet.
var messageLayout = mustLayout(Presets["message"])

// detectLayouts are the compiled presets of detectOrder.
var detectLayouts = func() []*layout {
	ls := make([]*layout, len(detectOrder))
	for i, name := range detectOrder {
		ls[i] = mustLayout(Presets[name])
	}
	return ls
}()

func mustLayout(f string) *layout {
	l, err := buildLayout(f)
	if err != nil {
		panic(err) // the presets are constants of this package
	}
	return l
}

// record is the held, possibly multi-line record.
type record struct {
	entry    []byte // lines joined with '\n'
	timeless bool   // the time is inherited, not the record's own
	lines    int
	file     string
	offset   int64
	lay      *layout
	sub      []int // prefix submatch indexes into the first line
	msg      int   // where the message starts in entry
	time     int64
	logger   string // from a runserver prefix in bare-message mode
}

// textDecoder decodes Django text logs. See doc.go for the model.
type textDecoder struct {
	o       Options
	n       *parse.Normalizer
	finish  func(*event.Event, *parse.Raw) // n.Finish; a seam for tests
	c       classifier
	fixed   *layout // from Options.Format; nil: auto-detect
	lay     *layout // current layout; nil while detecting
	left    int     // detection window left
	file    string
	cur     record
	has     bool
	discard bool // swallowing the continuation lines of a dropped record
	last    int64
	raw     parse.Raw
	loggers recentStrings
}

// NewTextDecoder returns a decoder of Django text logs in o.Format. The
// error names a Format that does not compile or a time-less Format without
// FallbackTime.
func NewTextDecoder(n *parse.Normalizer, o Options) (parse.Decoder, error) {
	o = o.withDefaults()
	d := &textDecoder{o: o, n: n, finish: n.Finish, c: classifier{h: n.Hasher()}, left: detectWindow}
	if o.Format != "" {
		l, err := compileLayout(resolveFormat(o.Format))
		if err != nil {
			return nil, err
		}
		if err := o.validate(l); err != nil {
			return nil, err
		}
		d.fixed, d.lay = l, l
	} else if err := o.validate(nil); err != nil {
		return nil, err
	}
	return d, nil
}

// Feed implements parse.Decoder.
func (d *textDecoder) Feed(line source.Line, out []event.Event) ([]event.Event, error) {
	if line.File != d.file {
		// A new file: what is held belongs to the old one, and the new
		// file may have another shape.
		out = d.emit(out)
		d.file, d.discard = line.File, false
		if d.fixed == nil {
			d.lay, d.left = nil, detectWindow
		}
	}
	text := line.Text
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1]
	}
	if isBinary(text) {
		return out, parse.Malformed(line, parse.ReasonBinary, "line has NUL or mostly control bytes")
	}
	lay, sub, start := d.startOf(text)
	if !start {
		return d.continuation(line, text, out)
	}
	out = d.emit(out)
	d.discard = true // until the new record is accepted below
	if line.Truncated || len(text) > d.o.MaxEntryBytes {
		return out, parse.Malformed(line, parse.ReasonTooLong, "record longer than the line or entry limit")
	}
	r := &d.cur
	r.entry = append(r.entry[:0], text...)
	r.lines, r.file, r.offset, r.lay, r.logger, r.msg = 1, line.File, line.Offset, lay, "", 0
	r.sub = append(r.sub[:0], sub...)
	if len(sub) >= 2 {
		r.msg = sub[1]
		if lay.serverGroup >= 0 && lay.nameGroup < 0 {
			r.logger = loggerServer
		}
	} else if p := serverTimePrefix(text); p > 0 {
		r.msg, r.logger = p, loggerServer
	}
	t, reason := d.startTime(r)
	if reason != "" {
		return out, parse.Malformed(line, reason, timeDetail(reason))
	}
	r.time, d.last = t, t
	d.has, d.discard = true, false
	return out, nil
}

// startOf decides whether text starts a record, and with which layout.
func (d *textDecoder) startOf(text []byte) (*layout, []int, bool) {
	head := text
	if len(head) > startScan {
		head = head[:startScan]
	}
	if d.lay == nil && len(text) > 0 {
		for _, l := range detectLayouts {
			if m := l.prefix.FindSubmatchIndex(head); m != nil {
				d.lay = l
				return l, m, true
			}
		}
		if d.left--; d.left <= 0 {
			d.lay = messageLayout
		}
	}
	lay := d.lay
	if lay == nil {
		lay = messageLayout
	}
	if lay.prefix != nil {
		m := lay.prefix.FindSubmatchIndex(head)
		return lay, m, m != nil
	}
	if messageStart(text) || !d.has && !d.discard && !continuationShape(text) {
		return lay, nil, true
	}
	return lay, nil, false
}

// continuation appends a non-start line to the held record.
func (d *textDecoder) continuation(line source.Line, text []byte, out []event.Event) ([]event.Event, error) {
	if d.discard {
		return out, nil
	}
	if !d.has {
		if len(text) == 0 {
			return out, nil
		}
		return out, parse.Malformed(line, parse.ReasonOrphan, "continuation line without a record start")
	}
	r := &d.cur
	if line.Truncated || r.lines >= d.o.MaxLines || len(r.entry)+1+len(text) > d.o.MaxEntryBytes {
		d.has, d.discard = false, true
		return out, parse.Malformed(line, parse.ReasonTooLong,
			"record over "+strconv.Itoa(d.o.MaxLines)+" lines or "+strconv.Itoa(d.o.MaxEntryBytes)+" bytes; dropped")
	}
	r.entry = append(r.entry, '\n')
	r.entry = append(r.entry, text...)
	r.lines++
	return out, nil
}

// startTime returns the time of a record from its first line, or the
// inherited time of a time-less record; reason is set when there is none.
func (d *textDecoder) startTime(r *record) (int64, string) {
	l := r.lay
	r.timeless = false
	group := func(g int) (string, bool) {
		if g < 0 || 2*g+1 >= len(r.sub) || r.sub[2*g] < 0 {
			return "", false
		}
		return string(r.entry[r.sub[2*g]:r.sub[2*g+1]]), true
	}
	if s, ok := group(l.timeGroup); ok {
		ns, frac, ok := parseAsctime(s, d.o.Location)
		if !ok {
			return 0, parse.ReasonBadTimestamp
		}
		if ms, ok := group(l.msecsGroup); ok && !frac {
			if f, err := strconv.ParseFloat(ms, 64); err == nil && f >= 0 && f < 1000 {
				ns += int64(f * 1e6)
			}
		}
		return ns, ""
	}
	if s, ok := group(l.createdGroup); ok {
		f, err := strconv.ParseFloat(s, 64)
		ns, ok := epochNanos(f)
		if err != nil || !ok {
			return 0, parse.ReasonBadTimestamp
		}
		return ns, ""
	}
	s, ok := group(l.serverGroup)
	if !ok && r.logger == loggerServer {
		s, ok = string(r.entry[1:21]), true
	}
	if ok {
		ns, ok := parseServerTime(s, d.o.Location)
		if !ok {
			return 0, parse.ReasonBadTimestamp
		}
		return ns, ""
	}
	r.timeless = true
	if d.last > 0 {
		return d.last, ""
	}
	if d.o.FallbackTime > 0 {
		return d.o.FallbackTime, ""
	}
	return 0, parse.ReasonMissingFields
}

func timeDetail(reason string) string {
	if reason == parse.ReasonBadTimestamp {
		return "record time does not parse as a valid date"
	}
	return "time-less record before any timed one and Options.FallbackTime unset"
}

// Flush implements parse.Decoder. It emits the held record; the detected
// layout and the inherited time survive, so a caller may flush on an idle
// timeout in the middle of a file.
func (d *textDecoder) Flush(out []event.Event) ([]event.Event, error) {
	out = d.emit(out)
	d.discard = false
	return out, nil
}

// emit completes the held record, if any.
func (d *textDecoder) emit(out []event.Event) []event.Event {
	if !d.has {
		return out
	}
	d.has = false
	r := &d.cur
	// Built in place: a local event would escape (finish is a func value).
	out = append(out, event.Event{
		Time:   r.time,
		Source: event.SourceDjango,
		Format: parse.FormatDjangoText,
		Origin: event.Origin{File: r.file, Offset: r.offset},
		Node:   d.o.Host,
	})
	ev := &out[len(out)-1]
	logger, level := r.logger, ""
	if g := r.lay.levelGroup; g >= 0 && r.sub[2*g] >= 0 {
		level = levelName(r.entry[r.sub[2*g]:r.sub[2*g+1]])
	}
	if g := r.lay.nameGroup; g >= 0 && r.sub[2*g] >= 0 {
		logger = d.loggers.get(r.entry[r.sub[2*g]:r.sub[2*g+1]])
	}
	msg := r.entry[r.msg:]
	if r.lay.suffix != nil {
		var sl, sn string
		msg, sl, sn = cutSuffix(r.lay, msg)
		if level == "" {
			level = sl
		}
		if logger == "" {
			logger = sn
		}
	}
	ev.Severity = level
	d.raw.Reset()
	d.raw.Entry = r.entry
	d.raw.Timeless = r.timeless
	d.c.classify(ev, &d.raw, logger, string(msg), &extras{})
	inferSeverity(ev)
	d.finish(ev, &d.raw)
	return out
}

// cutSuffix removes the format's suffix from the line where the message
// ends (the first line it matches) and returns its level and name fields.
func cutSuffix(l *layout, msg []byte) (rest []byte, level, name string) {
	for off := 0; off <= len(msg); {
		end := bytes.IndexByte(msg[off:], '\n')
		if end < 0 {
			end = len(msg)
		} else {
			end += off
		}
		if m := l.suffix.FindSubmatchIndex(msg[off:end]); m != nil {
			if g := l.sLevelGroup; g >= 0 && m[2*g] >= 0 {
				level = levelName(msg[off+m[2*g] : off+m[2*g+1]])
			}
			if g := l.sNameGroup; g >= 0 && m[2*g] >= 0 {
				name = string(msg[off+m[2*g] : off+m[2*g+1]])
			}
			out := make([]byte, 0, len(msg))
			out = append(append(out, msg[:off+m[0]]...), msg[end:]...)
			return out, level, name
		}
		off = end + 1
	}
	return msg, "", ""
}

// levelName interns the usual level names and maps WARN to WARNING.
func levelName(b []byte) string {
	switch string(b) {
	case "DEBUG":
		return "DEBUG"
	case "INFO":
		return "INFO"
	case "WARNING", "WARN":
		return "WARNING"
	case "ERROR":
		return "ERROR"
	case "CRITICAL":
		return "CRITICAL"
	}
	return clean(string(bytes.ToUpper(bytes.TrimSpace(b))), 16)
}
