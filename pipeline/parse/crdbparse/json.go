package crdbparse

import (
	"bytes"

	"github.com/valyala/fastjson"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// jsonDecoder decodes the json family: json, json-compact, json-fluent and
// json-fluent-compact. Every entry is one line, so it holds nothing
// between Feed calls.
type jsonDecoder struct {
	core
}

// NewJSONDecoder returns a Decoder for CockroachDB's json, json-compact,
// json-fluent and json-fluent-compact formats. Verbose and compact key
// styles are detected per line. n must not be nil.
func NewJSONDecoder(n *parse.Normalizer, o Options) parse.Decoder {
	return &jsonDecoder{core: newCore(n, o)}
}

// envelope holds the top-level values of one json line. The pointers are
// valid until the next parse.
type envelope struct {
	ts, chanNum, chanName, sev, sevNum, cluster, node  *fastjson.Value
	tenantID, tenantName, instance, version, counter   *fastjson.Value
	redactable, tags, payload, message, stacks, header *fastjson.Value
	compact                                            bool
}

// Feed implements parse.Decoder.
func (d *jsonDecoder) Feed(line source.Line, out []event.Event) ([]event.Event, error) {
	b := bytes.TrimSpace(trimLine(line.Text))
	if len(b) == 0 {
		return out, nil
	}
	if line.Truncated || len(b) > d.opts.MaxEntryBytes {
		return out, parse.Malformed(line, parse.ReasonTooLong, "json entry over the size limit")
	}
	if hasControl(b) {
		return out, parse.Malformed(line, parse.ReasonBinary, "control bytes in line")
	}
	v, err := d.p.ParseBytes(b)
	if err != nil {
		return out, parse.Malformed(line, parse.ReasonInvalidJSON, "not a complete JSON value")
	}
	o, err := v.Object()
	if err != nil {
		return out, parse.Malformed(line, parse.ReasonInvalidJSON, "not a JSON object")
	}
	var env envelope
	o.Visit(func(k []byte, v *fastjson.Value) { env.set(k, v) })
	if env.header != nil && truthy(env.header) {
		return out, nil // file header entry: no event
	}
	if env.ts == nil {
		return out, parse.Malformed(line, parse.ReasonMissingFields, "no timestamp")
	}
	ts, ok := jsonTime(env.ts)
	if !ok {
		return out, parse.Malformed(line, parse.ReasonBadTimestamp, "timestamp is not <seconds>.<nanos>")
	}
	out = append(out, event.Event{LoggedAt: ts, Origin: event.Origin{File: line.File, Offset: line.Offset}})
	d.build(&out[len(out)-1], &env, b)
	return out, nil
}

// Flush implements parse.Decoder; json entries are never held.
func (d *jsonDecoder) Flush(out []event.Event) ([]event.Event, error) {
	return out, nil
}

// build fills ev from a parsed envelope; entry is the line.
func (d *jsonDecoder) build(ev *event.Event, env *envelope, entry []byte) {
	redactable := env.redactable != nil && truthy(env.redactable)
	var payload *fastjson.Object
	if env.payload != nil && env.payload.Type() == fastjson.TypeObject {
		payload, _ = env.payload.Object()
	}
	d.begin(ev, redactable)
	ev.Format = parse.FormatCRDBJSON
	if env.compact {
		ev.Format = parse.FormatCRDBJSONCompact
	}
	switch {
	case env.chanName != nil && env.chanName.Type() == fastjson.TypeString:
		s, _ := env.chanName.StringBytes()
		ev.Channel = d.intern(s)
	case env.chanNum != nil:
		if n, err := env.chanNum.Int64(); err == nil {
			ev.Channel = channelName(n)
		}
	default:
		ev.Channel = channelNames[0]
	}
	ev.Severity = d.severity(env)
	if s := d.scalar(env.cluster); s != "" {
		ev.Cluster = s
	}
	if s := d.scalar(env.node); s != "" {
		ev.Node = s
	}
	for _, a := range [...]struct {
		k string
		v *fastjson.Value
	}{{"tenant_id", env.tenantID}, {"tenant_name", env.tenantName}, {"instance_id", env.instance}, {"crdb_version", env.version}} {
		if s := d.scalar(a.v); s != "" {
			d.setAttr(a.k, s)
		}
	}
	if env.counter != nil && env.counter.Type() == fastjson.TypeNumber {
		d.setAttr("entry_counter", string(env.counter.MarshalTo(d.buf[:0])))
	}
	if env.tags != nil && env.tags.Type() == fastjson.TypeObject {
		o, _ := env.tags.Object()
		d.applyJSONTags(o)
	}
	if payload != nil {
		d.applyPayload(payload)
	} else {
		ev.Type = "log"
		msg := d.buf[:0]
		if env.message != nil && env.message.Type() == fastjson.TypeString {
			s, _ := env.message.StringBytes()
			msg = append(msg, s...)
		}
		if env.stacks != nil && env.stacks.Type() == fastjson.TypeString {
			s, _ := env.stacks.StringBytes()
			msg = append(append(msg, '\n'), s...)
		}
		d.buf = msg
		d.raw.Message = d.safeText(msg)
	}
	d.finish(entry)
}

// severity reads severity (verbose name), sev (compact letter) or
// severity_numeric / s.
func (d *jsonDecoder) severity(env *envelope) string {
	if env.sev != nil && env.sev.Type() == fastjson.TypeString {
		s, _ := env.sev.StringBytes()
		if len(s) == 1 {
			return severityLetter(s[0])
		}
		if len(s) > 0 {
			return d.intern(s)
		}
	}
	if env.sevNum != nil {
		if n, err := env.sevNum.Int64(); err == nil {
			return severityNumber(n)
		}
	}
	return ""
}

// scalar returns a string or number envelope value as a string (tenant_id
// is a number in newer versions and a string in older ones).
func (d *jsonDecoder) scalar(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return d.internUnmark(s)
	case fastjson.TypeNumber:
		d.buf = v.MarshalTo(d.buf[:0])
		return d.intern(d.buf)
	}
	return ""
}

// set records one top-level key of a json envelope, in either key style.
func (e *envelope) set(k []byte, v *fastjson.Value) {
	switch string(k) {
	case "timestamp":
		e.ts = v
	case "t":
		e.ts, e.compact = v, true
	case "channel_numeric", "c":
		e.chanNum = v
	case "channel":
		e.chanName = v
	case "severity", "sev":
		e.sev = v
	case "severity_numeric", "s":
		e.sevNum = v
	case "cluster_id", "x":
		e.cluster = v
	case "node_id", "N":
		e.node = v
	case "tenant_id", "T":
		e.tenantID = v
	case "tenant_name", "V":
		e.tenantName = v
	case "instance_id", "q":
		e.instance = v
	case "version", "v":
		e.version = v
	case "entry_counter", "n":
		e.counter = v
	case "redactable", "r":
		e.redactable = v
	case "tags":
		e.tags = v
	case "event":
		e.payload = v
	case "message":
		e.message = v
	case "stacks":
		e.stacks = v
	case "header":
		e.header = v
	}
}

// truthy reports whether a flag value (1, true, "1") is set.
func truthy(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return err == nil && f != 0
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return len(s) > 0 && string(s) != "0"
	}
	return false
}

// jsonTime parses the envelope timestamp "<unix seconds>.<9 digits>" (a
// string; a bare number is accepted too) into ns. Fewer fraction digits
// are padded; more than 9 are truncated.
func jsonTime(v *fastjson.Value) (int64, bool) {
	var s []byte
	switch v.Type() {
	case fastjson.TypeString:
		s, _ = v.StringBytes()
	case fastjson.TypeNumber:
		s = v.MarshalTo(nil)
	default:
		return 0, false
	}
	return parseSecNanos(s)
}

func parseSecNanos(s []byte) (int64, bool) {
	var sec int64
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		ch := s[i]
		if ch < '0' || ch > '9' || i >= 11 { // 11 digits reach year 5138
			return 0, false
		}
		sec = sec*10 + int64(ch-'0')
	}
	if i == 0 {
		return 0, false
	}
	var ns int64
	digits := 0
	if i < len(s) {
		for _, ch := range s[i+1:] {
			if ch < '0' || ch > '9' {
				return 0, false
			}
			if digits < 9 {
				ns = ns*10 + int64(ch-'0')
				digits++
			}
		}
	}
	for ; digits < 9; digits++ {
		ns *= 10
	}
	t := sec*1e9 + ns
	return t, t > 0
}

// LooksLikeJSON reports whether line is an entry of CockroachDB's json
// family: a JSON object with a channel (channel_numeric or c) or the
// header flag, and a timestamp (timestamp or t). It does not parse the
// line.
func LooksLikeJSON(line []byte) bool {
	b := bytes.TrimSpace(line)
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	hasChan := bytes.Contains(b, []byte(`"channel_numeric":`)) || bytes.Contains(b, []byte(`"c":`)) ||
		bytes.Contains(b, []byte(`"header":`))
	hasTime := bytes.Contains(b, []byte(`"timestamp":`)) || bytes.Contains(b, []byte(`"t":`))
	return hasChan && hasTime
}
