package djangoparse

import (
	"bytes"
	"time"

	"github.com/valyala/fastjson"
)

// Keys that mark a JSON line as a Python logging record, and keys that
// mark it as CockroachDB's json envelope instead.
var (
	jsonLevelKeys   = []string{"levelname", "level", "log.level", "severity"}
	jsonLoggerKeys  = []string{"name", "logger", "logger_name", "log.logger"}
	jsonMessageKeys = []string{"message", "msg", "event", "sql"}
	crdbKeys        = []string{"goroutine", "channel", "channel_numeric", "sev", "counter", "redactable"}
)

// LooksLikeJSON reports whether line is a Django/Python JSON log record: a
// JSON object with a message-like key and a level- or logger-like key, and
// none of the keys of CockroachDB's json envelope. It is meant for format
// detection on the first lines of a file, not for every line.
func LooksLikeJSON(line []byte) bool {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return false
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(line)
	if err != nil || v.Type() != fastjson.TypeObject {
		return false
	}
	has := func(keys []string) bool {
		for _, k := range keys {
			if v.Get(k) != nil {
				return true
			}
		}
		return false
	}
	if has(crdbKeys) {
		return false
	}
	return has(jsonMessageKeys) && (has(jsonLevelKeys) || has(jsonLoggerKeys))
}

// LooksLikeText reports whether line is a Django text log line: one that
// matches a preset with a timestamp, a django.db.backends SQL line, or a
// runserver line. Like LooksLikeJSON it is meant for format detection.
func LooksLikeText(line []byte) bool {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if isBinary(line) {
		return false
	}
	head := line
	if len(head) > startScan {
		head = head[:startScan]
	}
	for _, l := range detectLayouts {
		if l.hasTime() && l.prefix.Match(head) {
			return true
		}
	}
	if p := serverTimePrefix(line); p > 0 {
		_, ok := parseServerTime(string(line[1:21]), time.UTC)
		return ok
	}
	if len(head) > 256 {
		head = head[:256]
	}
	s := string(head)
	if sqlDuration(s) >= 0 {
		return bytes.Contains(line, []byte(argsSep))
	}
	_, ok := parseServerRequest(s)
	return ok
}
