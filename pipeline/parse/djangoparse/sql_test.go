package djangoparse

import (
	"strings"
	"testing"
	"time"
)

func TestParseSQLMessage(t *testing.T) {
	for _, tc := range []struct {
		name, msg          string
		sql, params, alias string
		dur                float64
		async, ok, noDurOK bool
	}{
		{name: "django4", msg: `(0.004) SELECT 1 FROM t WHERE a = 'Okafor'; args=('Okafor',); alias=default`,
			sql: `SELECT 1 FROM t WHERE a = 'Okafor'`, params: `('Okafor',)`, alias: "default", dur: 0.004, ok: true},
		{name: "pre 4.0 without alias", msg: `(0.010) SELECT 1; args=None`,
			sql: `SELECT 1`, params: `None`, dur: 0.01, ok: true},
		{name: "async suffix", msg: `(1.500) SELECT 1; args=(); alias=other; async=True`,
			sql: `SELECT 1`, params: `()`, alias: "other", dur: 1.5, async: true, ok: true},
		{name: "args separator inside sql literal", msg: `(0.001) SELECT 'a; args=b'; args=('x',); alias=default`,
			sql: `SELECT 'a; args=b'`, params: `('x',)`, alias: "default", dur: 0.001, ok: true},
		{name: "args separator inside params literal", msg: `(0.001) SELECT %s; args=('a; args=b',); alias=default`,
			sql: `SELECT %s`, params: `('a; args=b',)`, alias: "default", dur: 0.001, ok: true},
		{name: "alias separator inside params, no alias", msg: `(0.001) SELECT %s; args=('x; alias=y',)`,
			sql: `SELECT %s`, params: `('x; alias=y',)`, dur: 0.001, ok: true},
		{name: "executemany", msg: `(0.011) INSERT INTO t VALUES (%s, %s); args=[(17, Decimal('99.90')), (18, None)]; alias=default`,
			sql: `INSERT INTO t VALUES (%s, %s)`, params: `[(17, Decimal('99.90')), (18, None)]`, alias: "default", dur: 0.011, ok: true},
		{name: "dict params", msg: `(0.002) SELECT %(a)s; args={'a': b'\x00\'', 'd': datetime.date(2025, 6, 11)}; alias=default`,
			sql: `SELECT %(a)s`, params: `{'a': b'\x00\'', 'd': datetime.date(2025, 6, 11)}`, alias: "default", dur: 0.002, ok: true},
		{name: "multi-line", msg: "(0.087) SELECT a\nFROM t\nWHERE b = 'c'; args=('c',); alias=default\n",
			sql: "SELECT a\nFROM t\nWHERE b = 'c'", params: `('c',)`, alias: "default", dur: 0.087, ok: true},
		{name: "no args at all", msg: `(0.001) SELECT 1`, sql: `SELECT 1`, dur: 0.001, ok: true},
		{name: "unbalanced params fall back to the last separator", msg: `(0.001) SELECT 1; args=('x`,
			sql: `SELECT 1`, params: `('x`, dur: 0.001, ok: true},
		{name: "not sql", msg: `Not Found: /x`},
		{name: "bad duration", msg: `(0..1) SELECT 1; args=None`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := parseSQLMessage(tc.msg)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if m.sql != tc.sql || m.params != tc.params || m.alias != tc.alias || m.async != tc.async || m.duration != tc.dur {
				t.Errorf("got sql=%q params=%q alias=%q async=%v dur=%v", m.sql, m.params, m.alias, m.async, m.duration)
			}
		})
	}
}

func TestParseSchemaMessage(t *testing.T) {
	sql, params, ok := parseSchemaMessage(`CREATE TABLE "a" ("id" int); (params None)`)
	if !ok || sql != `CREATE TABLE "a" ("id" int)` || params != "None" {
		t.Errorf("got %q %q %v", sql, params, ok)
	}
	if _, _, ok := parseSchemaMessage(`CREATE TABLE "a" ("id" int)`); ok {
		t.Error("accepted a message without params")
	}
}

func TestCompileLayout(t *testing.T) {
	for _, tc := range []struct {
		format, line, err string
		level, name       string
	}{
		{format: Presets["verbose"], line: "INFO 2025-06-11 16:05:44,902 views 1 2 hi", level: "INFO"},
		{format: "%(asctime)s %(levelname)-8s %(name)s %(message)s", line: "2025-06-11 16:05:44,902 INFO     app hi", level: "INFO", name: "app"},
		{format: "{asctime}.{msecs:03.0f} {levelname:>8} {threadName} {name} {message}", line: "2025-06-11 16:05:44.902    ERROR Thread-1 (process_request_thread) app hi", level: "ERROR", name: "app"},
		{format: "{{literal}} {levelname} {message}", line: "{literal} DEBUG hi", level: "DEBUG"},
		{format: "100%% %(levelname)s %(message)s", line: "100% WARNING hi", level: "WARNING"},
		{format: "{levelname} {asctime}", err: "no message field"},
		{format: "{message} {message}", err: "twice"},
		{format: "{levelname", err: "unclosed"},
		{format: "{a{b}} {message}", err: "nested"},
		{format: "{message} }", err: "single '}'"},
		{format: "{lev-el} {message}", err: "not a LogRecord attribute"},
		{format: "%(levelname) %(message)s", err: "no conversion type"},
		{format: "%s %(message)s", err: "not followed by (name)"},
		{format: "%(message", err: "unclosed"},
		{format: "$levelname $message", err: "not supported"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			l, err := buildLayout(tc.format)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := l.prefix.FindStringSubmatch(tc.line)
			if m == nil {
				t.Fatalf("prefix %s does not match %q", l.prefix, tc.line)
			}
			if l.levelGroup >= 0 && strings.TrimSpace(m[l.levelGroup]) != tc.level {
				t.Errorf("level = %q", m[l.levelGroup])
			}
			if l.nameGroup >= 0 && m[l.nameGroup] != tc.name {
				t.Errorf("name = %q", m[l.nameGroup])
			}
		})
	}
}

func TestParseTimes(t *testing.T) {
	berlin := time.FixedZone("+02", 7200)
	for _, tc := range []struct {
		in   string
		want int64 // 0: must fail
	}{
		{"2025-06-11 16:05:44,902", 1749650744902000000},
		{"2025-06-11T16:05:44.902123", 1749650744902123000},
		{"2025-06-11 16:05:44", 1749650744000000000},
		{"2025-06-11T14:05:44.902+00:00", 1749650744902000000},
		{"2025-06-11T14:05:44Z", 1749650744000000000},
		{"11/Jun/2025 16:05:44", 1749650744000000000},
		{"1749650744.902", 1749650744902000000},
		{"1749650744902", 1749650744902000000},
		{"2025-02-30 10:00:00,000", 0},
		{"2025-13-01 10:00:00,000", 0},
		{"9999-01-01 10:00:00,000", 0},
		{"1960-01-01 10:00:00,000", 0},
		{"32/Jun/2025 16:05:44", 0},
		{"11/Xyz/2025 16:05:44", 0},
		{"yesterday", 0},
		{"-5", 0},
	} {
		got, ok := parseAnyTime(tc.in, berlin)
		if tc.want == 0 && ok || tc.want != 0 && got != tc.want {
			t.Errorf("parseAnyTime(%q) = %d, %v; want %d", tc.in, got, ok, tc.want)
		}
	}
}

func TestLooksLike(t *testing.T) {
	for _, tc := range []struct {
		line       string
		json, text bool
	}{
		{`{"asctime": "2025-06-11 16:05:44,902", "levelname": "INFO", "name": "x", "message": "hi"}`, true, false},
		{`{"level": "info", "event": "hi"}`, true, false},
		{`{"timestamp":"1749650744.902000000","channel":"SESSIONS","severity":"INFO","message":"x"}`, false, false},
		{`{"message": "no level or logger"}`, false, false},
		{`{"levelname": "INFO", "message": "truncated`, false, false},
		{`INFO 2025-06-11 16:05:44,902 views 1 2 hi`, false, true},
		{`django.request WARNING 2025-06-11 16:05:44,902 log 1 2 Not Found: /x`, false, true},
		{`[11/Jun/2025 16:05:44] "GET / HTTP/1.1" 200 12`, false, true},
		{`[99/Jun/2025 16:05:44] "GET / HTTP/1.1" 200 12`, false, false},
		{`(0.004) SELECT 1; args=None; alias=default`, false, true},
		{`"GET / HTTP/1.1" 200 12`, false, true},
		{`INFO hi`, false, false},
		{"I250611 14:20:31.440018 70112 9@util/log/event_log.go:39 ⋮ [T1] 1 hi", false, false},
		{"\x00\x01\x02", false, false},
	} {
		if got := LooksLikeJSON([]byte(tc.line)); got != tc.json {
			t.Errorf("LooksLikeJSON(%q) = %v", tc.line, got)
		}
		if got := LooksLikeText([]byte(tc.line)); got != tc.text {
			t.Errorf("LooksLikeText(%q) = %v", tc.line, got)
		}
	}
}
