package djangoparse

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// jsonKey is a configured key; path is set for dotted keys, which are
// tried as a literal key first and then as a path into nested objects.
type jsonKey struct {
	name string
	path []string
}

func jsonKeys(names []string) []jsonKey {
	ks := make([]jsonKey, len(names))
	for i, n := range names {
		ks[i].name = n
		if strings.Contains(n, ".") {
			ks[i].path = strings.Split(n, ".")
		}
	}
	return ks
}

// jsonDecoder decodes python-json-logger records, one object per line.
// fastjson is used rather than encoding/json: records have open-ended
// keys (extras), fastjson looks them up without building a map or
// reflecting, and a reused Parser allocates almost nothing per line.
type jsonDecoder struct {
	o                            Options
	finish                       func(*event.Event, *parse.Raw) // n.Finish; a seam for tests
	c                            classifier
	p                            fastjson.Parser
	timeK, levelK, loggerK, msgK []jsonKey
	last                         int64
	timeless                     bool // the current record's time is inherited
	raw                          parse.Raw
	buf                          []byte
	loggers, aliases             recentStrings
}

// NewJSONDecoder returns a decoder of Django JSON logs (python-json-logger
// shape, one object per line). Format is ignored.
func NewJSONDecoder(n *parse.Normalizer, o Options) parse.Decoder {
	o = o.withDefaults()
	return &jsonDecoder{
		o: o, finish: n.Finish, c: classifier{h: n.Hasher()},
		timeK: jsonKeys(o.Fields.Time), levelK: jsonKeys(o.Fields.Level),
		loggerK: jsonKeys(o.Fields.Logger), msgK: jsonKeys(o.Fields.Message),
	}
}

// lookup returns the value of the first key present, or nil.
func lookup(v *fastjson.Value, keys []jsonKey) *fastjson.Value {
	for _, k := range keys {
		if x := v.Get(k.name); x != nil {
			return x
		}
		if k.path != nil {
			if x := v.Get(k.path...); x != nil {
				return x
			}
		}
	}
	return nil
}

// text returns a string value as is and any other non-null value as its
// JSON text; "" for null or absent.
func (d *jsonDecoder) text(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNull:
		return ""
	}
	d.buf = v.MarshalTo(d.buf[:0])
	return string(d.buf)
}

// scratchText is text for values that are only looked at: the bytes are
// valid until the next call.
func (d *jsonDecoder) scratchText(v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		return v.GetStringBytes()
	case fastjson.TypeNull:
		return nil
	}
	d.buf = v.MarshalTo(d.buf[:0])
	return d.buf
}

// Feed implements parse.Decoder.
func (d *jsonDecoder) Feed(line source.Line, out []event.Event) ([]event.Event, error) {
	text := bytes.TrimSpace(line.Text)
	if len(text) == 0 {
		return out, nil
	}
	if line.Truncated || len(text) > d.o.MaxEntryBytes {
		return out, parse.Malformed(line, parse.ReasonTooLong, "JSON record longer than the line or entry limit")
	}
	if isBinary(text) {
		return out, parse.Malformed(line, parse.ReasonBinary, "line has NUL or mostly control bytes")
	}
	v, err := d.p.ParseBytes(text)
	if err != nil {
		return out, parse.Malformed(line, parse.ReasonInvalidJSON, "invalid or truncated JSON")
	}
	if v.Type() != fastjson.TypeObject {
		return out, parse.Malformed(line, parse.ReasonInvalidJSON, "JSON value is not an object")
	}
	msgV, sqlV := lookup(v, d.msgK), v.Get("sql")
	if msgV == nil && sqlV == nil {
		return out, parse.Malformed(line, parse.ReasonMissingFields, "no message or sql key")
	}
	t, reason := d.time(v)
	if reason != "" {
		return out, parse.Malformed(line, reason, timeDetail(reason))
	}
	d.last = t
	// The event is built in place: a local one would escape (finish is a
	// func value) and cost an allocation of its own.
	out = append(out, event.Event{
		Time:   t,
		Source: event.SourceDjango,
		Format: parse.FormatDjangoJSON,
		Origin: event.Origin{File: line.File, Offset: line.Offset},
		Node:   d.o.Host,
	})
	ev := &out[len(out)-1]
	if lv := d.scratchText(lookup(v, d.levelK)); len(lv) > 0 {
		ev.Severity = levelName(lv)
	}
	x := d.extras(v, sqlV)
	d.raw.Reset()
	d.raw.Entry = text
	d.raw.Timeless = d.timeless
	logger := d.loggers.get(d.scratchText(lookup(v, d.loggerK)))
	d.c.classify(ev, &d.raw, logger, d.text(msgV), &x)
	inferSeverity(ev)
	d.finish(ev, &d.raw)
	return out, nil
}

// time returns the first time key that parses; a present but unparsable
// time is an error only when no other key gives a time.
func (d *jsonDecoder) time(v *fastjson.Value) (int64, string) {
	bad := false
	d.timeless = false
	for _, k := range d.timeK {
		x := lookup(v, []jsonKey{k})
		if x == nil {
			continue
		}
		var ns int64
		ok := false
		switch x.Type() {
		case fastjson.TypeString:
			ns, ok = parseAnyTime(string(x.GetStringBytes()), d.o.Location)
		case fastjson.TypeNumber:
			d.buf = x.MarshalTo(d.buf[:0])
			ns, ok = parseEpoch(string(d.buf))
		}
		if ok {
			return ns, ""
		}
		bad = true
	}
	d.timeless = !bad
	switch {
	case bad:
		return 0, parse.ReasonBadTimestamp
	case d.last > 0:
		return d.last, ""
	case d.o.FallbackTime > 0:
		return d.o.FallbackTime, ""
	}
	return 0, parse.ReasonMissingFields
}

// extras reads the top-level extra attributes Django attaches.
func (d *jsonDecoder) extras(v, sqlV *fastjson.Value) extras {
	var x extras
	if sqlV != nil && sqlV.Type() == fastjson.TypeString {
		x.sql, x.hasSQL = string(sqlV.GetStringBytes()), true
	}
	if p := v.Get("params"); p != nil {
		x.params, x.hasParams = d.text(p), true
	}
	x.alias = d.aliases.get(d.scratchText(v.Get("alias")))
	if dv := v.Get("duration"); dv != nil {
		if f, err := strconv.ParseFloat(string(d.scratchText(dv)), 64); err == nil {
			x.duration, x.hasDuration = f, true
		}
	}
	if a := v.Get("async"); a != nil {
		x.async = a.Type() == fastjson.TypeTrue || string(d.scratchText(a)) == "True"
	}
	if sc := v.Get("status_code"); sc != nil {
		// Atoi("") fails anyway; skipping it saves its error allocation.
		if s, err := strconv.Atoi(string(d.scratchText(sc))); err == nil && s >= 100 && s < 600 {
			x.status = s
		}
	}
	x.method, x.path, x.query = parseRequestRepr(d.text(v.Get("request")))
	x.excInfo = d.text(v.Get("exc_info"))
	x.requestID = d.text(v.Get("request_id"))
	for _, k := range [...]string{"remote_addr", "ip", "client_ip"} {
		if x.remote = d.text(v.Get(k)); x.remote != "" {
			break
		}
	}
	return x
}

// parseRequestRepr parses str(HttpRequest) as python-json-logger writes it:
// "<WSGIRequest: GET '/api/x/?q=1'>" (also ASGIRequest). Anything else,
// such as runserver's socket repr, gives empty results.
func parseRequestRepr(s string) (method, path, query string) {
	if !strings.HasPrefix(s, "<") || !strings.HasSuffix(s, ">") {
		return "", "", ""
	}
	_, rest, ok := strings.Cut(s[1:len(s)-1], ": ")
	if !ok {
		return "", "", ""
	}
	m, quoted, ok := strings.Cut(rest, " ")
	if !ok || !isMethod(m) || len(quoted) < 2 || (quoted[0] != '\'' && quoted[0] != '"') || quoted[len(quoted)-1] != quoted[0] {
		return "", "", ""
	}
	path, query, _ = strings.Cut(quoted[1:len(quoted)-1], "?")
	return m, path, query
}

// Flush implements parse.Decoder. JSON records are one per line, so
// nothing is ever held.
func (d *jsonDecoder) Flush(out []event.Event) ([]event.Event, error) {
	return out, nil
}
