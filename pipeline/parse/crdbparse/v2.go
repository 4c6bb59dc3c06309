package crdbparse

import (
	"bytes"

	"github.com/valyala/fastjson"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// v2Decoder decodes crdb-v2 (and crdb-v2-tty) files. It holds the entry
// being reassembled until a line starts a new entry or Flush is called.
type v2Decoder struct {
	core

	// The pending entry. Its first line's prefix fields are copied, since
	// line buffers are reused by the caller.
	pending    bool
	key        []byte // prefix up to the cont char; continuation lines repeat it
	tags       []byte
	counter    []byte
	sev        byte
	ts         int64
	chanNum    int64
	redactable bool
	structured bool
	file       string
	offset     int64
	lines      int
	entry      []byte // physical lines joined with '\n', as read
	msg        []byte // reassembled payload
	stack      []byte // '!' lines

	// skipKey is the prefix of an entry dropped for its size: its
	// remaining continuation lines are swallowed without more errors.
	skipKey []byte
	skip    bool

	version string // from the [config] "binary:" header line
	cluster string // from the [config] "clusterID:" header line
	strip   []byte // scratch for ANSI stripping
}

// NewV2Decoder returns a Decoder for CockroachDB's crdb-v2 format and for
// crdb-v2-tty (ANSI colour escapes are removed first). n must not be nil.
func NewV2Decoder(n *parse.Normalizer, o Options) parse.Decoder {
	return &v2Decoder{core: newCore(n, o)}
}

// Feed implements parse.Decoder.
func (d *v2Decoder) Feed(line source.Line, out []event.Event) ([]event.Event, error) {
	orig := trimLine(line.Text)
	if len(orig) == 0 {
		return out, nil
	}
	text := orig
	if bytes.IndexByte(text, 0x1b) >= 0 {
		d.strip = stripANSI(d.strip[:0], text)
		text = d.strip
	}
	if hasControl(text) {
		return out, parse.Malformed(line, parse.ReasonBinary, "control bytes in line")
	}
	var l v2Line
	if reason := parseV2Line(text, &l); reason != "" {
		if reason == parse.ReasonBadTimestamp {
			return out, parse.Malformed(line, reason, "crdb-v2 prefix with an invalid date or time")
		}
		return out, parse.Malformed(line, reason, "line does not start with a crdb-v2 prefix")
	}
	tooLong := line.Truncated || len(orig) > d.opts.MaxEntryBytes
	if l.cont == '+' || l.cont == '|' || l.cont == '!' {
		switch {
		case d.pending && bytes.Equal(l.key, d.key):
			if tooLong || len(d.entry)+1+len(orig) > d.opts.MaxEntryBytes {
				d.drop()
				return out, parse.Malformed(line, parse.ReasonTooLong, "crdb-v2 entry over the size limit")
			}
			if d.lines+1 > d.opts.MaxLines {
				d.drop()
				return out, parse.Malformed(line, parse.ReasonTooLong, "crdb-v2 entry over the line limit")
			}
			d.appendLine(orig, &l)
			return out, nil
		case d.skip && bytes.Equal(l.key, d.skipKey):
			return out, nil
		}
		return out, parse.Malformed(line, parse.ReasonOrphan, "continuation line without its entry")
	}
	if tooLong {
		// The pending entry stays pending: this line does not prove it
		// complete any more than a garbage line would, and keeping it
		// means at most one error per Feed.
		d.skip = true
		d.skipKey = append(d.skipKey[:0], l.key...)
		return out, parse.Malformed(line, parse.ReasonTooLong, "crdb-v2 entry over the size limit")
	}
	out, err := d.complete(out)
	d.start(line, orig, &l)
	return out, err
}

// Flush implements parse.Decoder.
func (d *v2Decoder) Flush(out []event.Event) ([]event.Event, error) {
	out, err := d.complete(out)
	d.skip = false
	return out, err
}

// start makes the line the pending entry.
func (d *v2Decoder) start(line source.Line, orig []byte, l *v2Line) {
	d.pending = true
	d.skip = false
	d.key = append(d.key[:0], l.key...)
	d.tags = append(d.tags[:0], l.tags...)
	d.counter = append(d.counter[:0], l.counter...)
	d.sev, d.ts, d.chanNum, d.redactable = l.sev, l.ts, l.chanNum, l.redactable
	d.structured = l.cont == '='
	d.file, d.offset = line.File, line.Offset
	d.lines = 1
	d.entry = append(d.entry[:0], orig...)
	d.msg = append(d.msg[:0], l.msg...)
	d.stack = d.stack[:0]
}

// appendLine adds a continuation line to the pending entry.
func (d *v2Decoder) appendLine(orig []byte, l *v2Line) {
	d.lines++
	d.entry = append(append(d.entry, '\n'), orig...)
	frag := l.msg
	switch l.cont {
	case '+':
		d.msg = append(append(d.msg, '\n'), frag...)
	case '|':
		// A size split inside a sensitive span closes it before the break
		// and reopens it after: drop that "›‹" to restore the span.
		if bytes.HasSuffix(d.msg, []byte(parse.MarkClose)) && bytes.HasPrefix(frag, []byte(parse.MarkOpen)) {
			d.msg = d.msg[:len(d.msg)-len(parse.MarkClose)]
			frag = frag[len(parse.MarkOpen):]
		}
		d.msg = append(d.msg, frag...)
	case '!':
		if len(d.stack) > 0 {
			d.stack = append(d.stack, '\n')
		}
		d.stack = append(d.stack, frag...)
	}
}

// drop discards the pending entry and swallows the rest of it.
func (d *v2Decoder) drop() {
	d.pending = false
	d.skip = true
	d.skipKey = append(d.skipKey[:0], d.key...)
}

// complete turns the pending entry, if any, into an event. Header entries
// give no event; a structured entry whose JSON does not parse gives a
// ReasonInvalidJSON error at the entry's offset.
func (d *v2Decoder) complete(out []event.Event) ([]event.Event, error) {
	if !d.pending {
		return out, nil
	}
	d.pending = false
	if isHeaderTags(d.tags) {
		d.header()
		return out, nil
	}
	var payload *fastjson.Object
	if d.structured {
		v, err := d.p.ParseBytes(d.msg)
		if err != nil {
			return out, d.entryError("structured payload is not complete JSON")
		}
		o, err := v.Object()
		if err != nil {
			return out, d.entryError("structured payload is not a JSON object")
		}
		payload = o
	}
	out = append(out, event.Event{
		Format:   parse.FormatCRDBV2,
		Origin:   event.Origin{File: d.file, Offset: d.offset},
		LoggedAt: d.ts,
		Severity: severityLetter(d.sev),
	})
	ev := &out[len(out)-1]
	d.begin(ev, d.redactable)
	if d.chanNum < 0 {
		ev.Channel = channelNames[0]
	} else {
		ev.Channel = channelName(d.chanNum)
	}
	d.applyV2Tags(d.tags)
	if len(d.counter) > 0 {
		d.setAttr("entry_counter", string(d.counter))
	}
	if d.version != "" {
		d.setAttr("crdb_version", d.version)
	}
	if ev.Cluster == "" {
		ev.Cluster = d.cluster
	}
	if payload != nil {
		d.applyPayload(payload)
	} else {
		ev.Type = "log"
		msg := d.msg
		if len(d.stack) > 0 {
			msg = append(append(msg, '\n'), d.stack...)
			d.msg = msg
		}
		d.raw.Message = d.safeText(msg)
	}
	d.finish(d.entry)
	return out, nil
}

func (d *v2Decoder) entryError(detail string) *parse.LineError {
	return &parse.LineError{Reason: parse.ReasonInvalidJSON, File: d.file, Offset: d.offset, Detail: detail}
}

// header remembers the CockroachDB version from the "binary:" header
// line, e.g. "binary: CockroachDB CCL v24.3.4 (x86_64-...)", and the
// cluster id from a "clusterID: <uuid>" header line when the file has one
// (crdb-v2 lines carry no cluster id of their own; tolerant: absent is
// fine).
func (d *v2Decoder) header() {
	if j := bytes.Index(d.msg, []byte("clusterID:")); j >= 0 {
		id := bytes.TrimSpace(d.msg[j+len("clusterID:"):])
		id = parse.UnmarkBytes(id)
		if len(id) > 0 && len(id) <= 64 && bytes.IndexByte(id, ' ') < 0 {
			d.cluster = string(id)
		}
		return
	}
	i := bytes.Index(d.msg, []byte("binary:"))
	if i < 0 {
		return
	}
	for _, f := range bytes.Fields(d.msg[i+len("binary:"):]) {
		if len(f) >= 2 && f[0] == 'v' && f[1] >= '0' && f[1] <= '9' && len(f) <= 40 {
			d.version = string(f)
			return
		}
	}
}
