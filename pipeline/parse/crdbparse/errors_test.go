package crdbparse

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

const (
	goodJSON  = `{"channel_numeric":9,"channel":"SQL_EXEC","timestamp":"1749651402.000000000","node_id":2,"severity":"INFO","redactable":1,"event":{"Timestamp":1749651401000000000,"EventType":"query_execute","Statement":"SELECT 3","Tag":"SELECT","User":"root"}}`
	goodJSON2 = `{"c":4,"t":"1749651403.000000000","N":2,"sev":"I","r":1,"event":{"EventType":"client_connection_start","RemoteAddress":"‹10.20.3.14:55012›"}}`
	v2Pfx     = `I250611 14:11:12.502211 61230 9@util/log/event_log.go:39 ⋮ [T1,Vsystem,n2,client=10.20.3.14:55012,hostssl,user=‹app›] `
	goodV2    = v2Pfx + `1 ={"Timestamp":1749651072500001000,"EventType":"query_execute","Statement":"SELECT 1","Tag":"SELECT"}`
	goodV2b   = `W250611 14:11:13.000000 7 server/x.go:5 ⋮ [n2] 2  plain message`
)

func lines(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

// TestBadInput feeds bad lines between good ones: each bad line gives the
// expected reasons, and the good lines around it still decode.
func TestBadInput(t *testing.T) {
	big := strings.Repeat("y", 1<<20)
	var pipes []string
	pipes = append(pipes, v2Pfx+`5 ={"Timestamp":1749651072500001000,"EventType":"query_execute","Statement":"INSERT INTO t VALUES (‹'`)
	for i := 0; i < 64; i++ {
		pipes = append(pipes, v2Pfx+`5 |‹`+big[:16000]+`›`)
	}
	pipes = append(pipes, v2Pfx+`5 |‹'›)","Tag":"INSERT"}`)

	tests := []struct {
		name    string
		v2      bool
		opts    Options
		input   []byte
		reasons []string
		types   []string
	}{
		{name: "json truncated", input: lines(goodJSON, goodJSON[:80], goodJSON2),
			reasons: []string{parse.ReasonInvalidJSON}, types: []string{"query_execute", "client_connection_start"}},
		{name: "json not an object", input: lines(goodJSON, `[1,2,3]`, `"str"`, goodJSON2),
			reasons: []string{parse.ReasonInvalidJSON, parse.ReasonInvalidJSON}, types: []string{"query_execute", "client_connection_start"}},
		{name: "json NUL padding", input: lines(goodJSON, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", goodJSON2),
			reasons: []string{parse.ReasonBinary}, types: []string{"query_execute", "client_connection_start"}},
		{name: "json binary garbage", input: lines(goodJSON, "{\x01\x02\xff\xfe\x1b\x07garbage", goodJSON2),
			reasons: []string{parse.ReasonBinary}, types: []string{"query_execute", "client_connection_start"}},
		{name: "json control byte inside a valid object", input: lines(goodJSON, `{"channel_numeric":0,"timestamp":"1.0","message":"a`+"\x00"+`b"}`, goodJSON2),
			reasons: []string{parse.ReasonBinary}, types: []string{"query_execute", "client_connection_start"}},
		{name: "json missing timestamp", input: lines(`{"channel_numeric":1,"message":"x"}`, goodJSON),
			reasons: []string{parse.ReasonMissingFields}, types: []string{"query_execute"}},
		{name: "json bad timestamp", input: lines(`{"channel_numeric":1,"timestamp":"yesterday","message":"x"}`, `{"c":1,"t":"0.000","message":"x"}`, goodJSON),
			reasons: []string{parse.ReasonBadTimestamp, parse.ReasonBadTimestamp}, types: []string{"query_execute"}},
		{name: "json over the size limit", opts: Options{MaxEntryBytes: 300}, input: lines(goodJSON2, `{"c":1,"t":"1.5","message":"`+strings.Repeat("z", 400)+`"}`, goodJSON2),
			reasons: []string{parse.ReasonTooLong}, types: []string{"client_connection_start", "client_connection_start"}},
		{name: "json 1 MB statement", input: lines(goodJSON2, `{"c":9,"t":"1.5","r":1,"event":{"EventType":"query_execute","Statement":"INSERT INTO t VALUES ('`+big+`')"}}`, goodJSON2),
			types: []string{"client_connection_start", "query_execute", "client_connection_start"}},
		{name: "json header and blank lines", input: lines(`{"header":1,"timestamp":"1.0","tags":{"config":""},"message":"log format (utf8=✓): json"}`, "", "   ", goodJSON),
			types: []string{"query_execute"}},
		{name: "v2 orphan continuation", v2: true, input: lines(v2Pfx+`9 +orphan`, goodV2, v2Pfx+`8 |other entry`, goodV2b),
			reasons: []string{parse.ReasonOrphan, parse.ReasonOrphan}, types: []string{"query_execute", "log"}},
		{name: "v2 line without prefix is not glued", v2: true, input: lines(goodV2b, "a partial write at cra", goodV2),
			reasons: []string{parse.ReasonNoPrefix}, types: []string{"log", "query_execute"}},
		{name: "v2 bad date", v2: true, input: lines(goodV2b, `I251341 14:11:12.502211 1 x.go:1 ⋮ [n1] 3  bad month`, `I250230 14:11:12.502211 1 x.go:1 ⋮ [n1] 3  no 30 feb`, goodV2),
			reasons: []string{parse.ReasonBadTimestamp, parse.ReasonBadTimestamp}, types: []string{"log", "query_execute"}},
		{name: "v2 NUL inside a line", v2: true, input: lines(goodV2, v2Pfx+"2  nul\x00here", goodV2b),
			reasons: []string{parse.ReasonBinary}, types: []string{"query_execute", "log"}},
		{name: "v2 truncated structured JSON", v2: true, input: lines(goodV2b, v2Pfx+`3 ={"Timestamp":1749651072500001000,"EventType":"query_exe`, goodV2),
			reasons: []string{parse.ReasonInvalidJSON}, types: []string{"log", "query_execute"}},
		{name: "v2 over the line limit", v2: true, opts: Options{MaxLines: 3}, input: lines(goodV2b, v2Pfx+`4  a`, v2Pfx+`4 +b`, v2Pfx+`4 +c`, v2Pfx+`4 +d`, v2Pfx+`4 +e`, goodV2),
			reasons: []string{parse.ReasonTooLong}, types: []string{"log", "query_execute"}},
		{name: "v2 over the size limit", v2: true, opts: Options{MaxEntryBytes: 400}, input: lines(goodV2b, v2Pfx+`4  `+strings.Repeat("q", 200), v2Pfx+`4 |`+strings.Repeat("q", 200), v2Pfx+`4 |more`, goodV2),
			reasons: []string{parse.ReasonTooLong}, types: []string{"log", "query_execute"}},
		{name: "v2 single line over the size limit", v2: true, opts: Options{MaxEntryBytes: 400}, input: lines(goodV2b, v2Pfx+`4  `+strings.Repeat("q", 500), v2Pfx+`4 +tail`, goodV2),
			reasons: []string{parse.ReasonTooLong}, types: []string{"log", "query_execute"}},
		{name: "v2 1 MB statement over | lines", v2: true, input: lines(append(append([]string{goodV2b}, pipes...), goodV2)...),
			types: []string{"log", "query_execute", "query_execute"}},
		{name: "v2 duplicated and out of order lines", v2: true, input: lines(goodV2, goodV2b, goodV2, goodV2b),
			types: []string{"query_execute", "log", "query_execute", "log"}},
		{name: "v2 invalid UTF-8", v2: true, input: lines(goodV2b, v2Pfx+"3  bad \xff\xfe bytes", goodV2),
			types: []string{"log", "log", "query_execute"}},
		{name: "v2 header only", v2: true, input: lines(`I250611 08:00:03.104521 1 util/log/file_sync_buffer.go:237 ⋮ [config]   file created at: 2025/06/11 08:00:03`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := NewJSONDecoder(testNormalizer(), tc.opts)
			if tc.v2 {
				dec = NewV2Decoder(testNormalizer(), tc.opts)
			}
			evs, errs := decodeAll(t, dec, tc.input)
			checkInvariants(t, evs)
			if got := reasons(errs); !reflect.DeepEqual(got, append([]string{}, tc.reasons...)) {
				t.Errorf("reasons = %v, want %v", got, tc.reasons)
			}
			for _, e := range errs {
				if e.File != "test.log" || e.Detail == "" || strings.ContainsAny(e.Detail, "‹{\x00") {
					t.Errorf("bad LineError %+v", e)
				}
			}
			var types []string
			for _, ev := range evs {
				types = append(types, ev.Type)
				if strings.Contains(ev.Message, "partial write") || strings.Contains(ev.Message, "orphan") {
					t.Errorf("bad line glued into %q", ev.Message)
				}
			}
			if !reflect.DeepEqual(types, tc.types) {
				t.Errorf("types = %v, want %v", types, tc.types)
			}
		})
	}
}

// TestSizeSplitStatement checks that '|' lines reassemble the statement
// byte for byte, with the "›‹" of each split inside a span removed.
func TestSizeSplitStatement(t *testing.T) {
	body := strings.Repeat("k", 40000)
	parts := []string{
		v2Pfx + `7 ={"Timestamp":1749651072500001000,"EventType":"query_execute","Statement":"INSERT INTO notes VALUES (‹'` + body[:15000] + `›`,
		v2Pfx + `7 |‹` + body[15000:30000] + `›`,
		v2Pfx + `7 |‹` + body[30000:] + `'›)","Tag":"INSERT"}`,
	}
	d := NewV2Decoder(testNormalizer(), Options{}).(*v2Decoder)
	evs, errs := decodeAll(t, d, lines(parts...))
	if len(errs) != 0 || len(evs) != 1 {
		t.Fatalf("events %d errors %v", len(evs), errs)
	}
	want := "INSERT INTO notes VALUES (‹'" + body + "'›)"
	if got := string(d.raw.Statement); got != want {
		t.Fatalf("statement of %d bytes, want %d; join artefacts: %v", len(got), len(want), strings.Contains(got, "›‹"))
	}
	if got, want := string(d.raw.Entry), strings.Join(parts, "\n"); got != want {
		t.Fatalf("raw entry is not the physical lines joined with newlines")
	}
}

// TestTruncatedLine treats a line the reader cut short as too long and
// swallows the rest of its entry.
func TestTruncatedLine(t *testing.T) {
	d := NewV2Decoder(testNormalizer(), Options{})
	out, err := d.Feed(source.Line{Text: []byte(goodV2b)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err = d.Feed(source.Line{Text: []byte(v2Pfx + `6  cut he`), Truncated: true}, out)
	if le, ok := err.(*parse.LineError); !ok || le.Reason != parse.ReasonTooLong {
		t.Fatalf("err = %v", err)
	}
	out, err = d.Feed(source.Line{Text: []byte(v2Pfx + `6 +rest`)}, out)
	if err != nil {
		t.Fatalf("continuation of a dropped entry: %v", err)
	}
	out, err = d.Flush(out)
	if err != nil || len(out) != 1 || out[0].Type != "log" {
		t.Fatalf("out=%d err=%v", len(out), err)
	}
	j := NewJSONDecoder(testNormalizer(), Options{})
	if _, err := j.Feed(source.Line{Text: []byte(goodJSON), Truncated: true}, nil); err == nil {
		t.Fatal("truncated json line accepted")
	}
}

func TestLooksLike(t *testing.T) {
	for _, tc := range []struct {
		line      string
		v2, jsonF bool
	}{
		{goodV2, true, false},
		{goodV2b, true, false},
		{v2Pfx + `1 +continuation`, false, false},
		{"\x1b[0;1;36mI250611 14:11:00.000001 \x1b[0;36m1234 9@x.go:39\x1b[0m ⋮ \x1b[2m[n2]\x1b[0m 950  m", true, false},
		{`I250611 08:00:03.104521 1 util/log/file_sync_buffer.go:237 ⋮ [config]   file created at: x`, true, false},
		{`I250611 16:20:31.440018+020000 1 x.go:1  [n3] 2  tz, not redactable`, true, false},
		{goodJSON, false, true},
		{goodJSON2, false, true},
		{`{"header":1,"timestamp":"1.0"}`, false, true},
		{`{"asctime": "2025-06-11 16:05:44,902", "levelname": "DEBUG"}`, false, false},
		{"DEBUG 2025-06-11 16:05:44,902 utils 4121 1 (0.004) SELECT 1", false, false},
		{"", false, false},
	} {
		if got := LooksLikeV2([]byte(tc.line)); got != tc.v2 {
			t.Errorf("LooksLikeV2(%.40q) = %v", tc.line, got)
		}
		if got := LooksLikeJSON([]byte(tc.line)); got != tc.jsonF {
			t.Errorf("LooksLikeJSON(%.40q) = %v", tc.line, got)
		}
	}
	if !bytes.Contains([]byte(goodV2), []byte("⋮")) {
		t.Fatal("fixture lost its marker")
	}
}

func TestUnmarkAndClient(t *testing.T) {
	c := newCore(testNormalizer(), Options{})
	for in, want := range map[string]string{
		"‹web›":           "web",
		"plain":           "plain",
		"\xe2‹x›\xe2\x80": "\xe2x\xe2\x80",
		"a›‹b":            "ab",
		"":                "",
	} {
		if got := string(c.unmark([]byte(in))); got != want {
			t.Errorf("unmark(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"10.20.3.14:55012":    {"10.20.3.14", 55012},
		"‹[::1]:5432›":        {"::1", 5432},
		"[2001:db8::7]:26257": {"2001:db8::7", 26257},
		"2001:db8::7":         {"2001:db8::7", 0},
		"10.0.0.1:99999999":   {"10.0.0.1", 0},
		"[::1":                {"[::1", 0},
		"host.example:http":   {"host.example", 0},
		"10.0.0.1":            {"10.0.0.1", 0},
	} {
		h, p := c.client([]byte(in))
		if h != want.host || p != want.port {
			t.Errorf("client(%q) = %q %d, want %q %d", in, h, p, want.host, want.port)
		}
	}
}
