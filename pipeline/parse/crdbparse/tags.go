package crdbparse

import (
	"bytes"

	"github.com/valyala/fastjson"

	"roachwatch/pipeline/event"
)

// Tag keys roachwatch understands. Everything else (s1, r12/3:…, job=…,
// scExec, …) is ignored.
const (
	tagNode      = "n"
	tagTenantID  = "T"
	tagTenant    = "V"
	tagClient    = "client"
	tagUser      = "user"
	tagIntExec   = "intExec"
	tagQueryPref = "querytag-"
	tagConfig    = "config"
)

// applyTag maps one context tag onto the event. Payload fields applied
// later override User and Transport; the client address from tags wins
// over the payload's RemoteAddress (finish).
func (c *core) applyTag(key, val []byte) {
	ev := c.ev
	switch string(key) {
	case tagNode:
		if len(val) > 0 {
			ev.Node = c.intern(val)
		}
	case tagTenantID:
		if len(val) > 0 {
			c.setAttr("tenant_id", c.intern(val))
		}
	case tagTenant:
		if len(val) > 0 {
			c.setAttr("tenant_name", c.internUnmark(val))
		}
	case tagClient:
		if len(val) > 0 {
			ev.ClientAddr, ev.ClientPort = c.client(val)
			c.tagClient = true
		}
	case event.TransportTLS, event.TransportPlain, event.TransportLocal:
		if ev.Transport == "" {
			ev.Transport = c.intern(key)
		}
	case tagUser:
		if len(val) > 0 {
			ev.User = c.internUnmark(val)
		}
	case tagIntExec:
		ev.Internal = true
		if len(val) > 0 {
			c.setAttr("intExec", c.intern(val))
		}
	default:
		if k, ok := bytes.CutPrefix(key, []byte(tagQueryPref)); ok && len(k) > 0 {
			c.queryTag(k, val)
		}
	}
}

// queryTag records a sqlcommenter query tag (querytag-<k>=<v>). Tag values
// are not redactable by design (§4.5), but markers are removed anyway.
func (c *core) queryTag(k, v []byte) {
	ev := c.ev
	if ev.QueryTags == nil {
		ev.QueryTags = make(map[string]string, 4)
	}
	val := c.internUnmark(v)
	key := c.intern(k)
	ev.QueryTags[key] = val
	switch key {
	case "route":
		ev.Route = val
	case "controller":
		ev.View = val
	}
}

// applyV2Tags parses a crdb-v2 tag list (the text between "[" and "] ").
// Tags are comma-separated; a long key is written key=value, a one-letter
// key is followed directly by its value (n2, T1, Vsystem), and value-less
// tags are bare words (hostssl, config).
func (c *core) applyV2Tags(tags []byte) {
	if len(tags) == 1 && tags[0] == '-' {
		return
	}
	for len(tags) > 0 {
		var tag []byte
		if i := bytes.IndexByte(tags, ','); i >= 0 {
			tag, tags = tags[:i], tags[i+1:]
		} else {
			tag, tags = tags, nil
		}
		if len(tag) == 0 {
			continue
		}
		if i := bytes.IndexByte(tag, '='); i > 0 {
			c.applyTag(tag[:i], tag[i+1:])
			continue
		}
		switch string(tag) {
		case event.TransportTLS, event.TransportPlain, event.TransportLocal, tagIntExec:
			c.applyTag(tag, nil)
			continue
		}
		switch tag[0] {
		case 'n', 'T':
			if allDigits(tag[1:]) {
				c.applyTag(tag[:1], tag[1:])
			}
		case 'V':
			c.applyTag(tag[:1], tag[1:])
		}
	}
}

// isHeaderTags reports whether a crdb-v2 tag list marks a file header
// entry ([config]).
func isHeaderTags(tags []byte) bool {
	for len(tags) > 0 {
		var tag []byte
		if i := bytes.IndexByte(tags, ','); i >= 0 {
			tag, tags = tags[:i], tags[i+1:]
		} else {
			tag, tags = tags, nil
		}
		if string(tag) == tagConfig {
			return true
		}
	}
	return false
}

// applyJSONTags maps the json envelope's tags object. Values of the wrong
// type are ignored.
func (c *core) applyJSONTags(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch v.Type() {
		case fastjson.TypeString:
			s, _ := v.StringBytes()
			c.applyTag(k, s)
		case fastjson.TypeNumber:
			c.applyTag(k, v.MarshalTo(c.buf[:0]))
		}
	})
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}
