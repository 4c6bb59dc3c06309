package djangoparse

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

const (
	vSQL  = `DEBUG 2025-06-11 16:05:44,902 utils 4121 1402 (0.004) SELECT 1; args=None; alias=default`
	v404  = `WARNING 2025-06-11 16:05:45,113 log 4121 1402 Not Found: /x/`
	v500  = `ERROR 2025-06-11 16:05:46,000 log 4121 1402 Internal Server Error: /boom/`
	jOK   = `{"asctime": "2025-06-11 16:05:44,902", "levelname": "INFO", "name": "app", "message": "hi"}`
	fixed = 1749650700000000000
)

// TestDecodeErrors feeds each case's lines and checks the error reasons
// in order and the number of good events around them.
func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name    string
		opts    caseOptions
		lines   []string
		reasons []string
		events  int
	}{
		{name: "truncated json", opts: caseOptions{Decoder: "json"},
			lines: []string{jOK, `{"levelname": "INFO", "message": "cut`, jOK}, reasons: []string{parse.ReasonInvalidJSON}, events: 2},
		{name: "json array", opts: caseOptions{Decoder: "json"},
			lines: []string{`[1, 2]`, `"str"`, jOK}, reasons: []string{parse.ReasonInvalidJSON, parse.ReasonInvalidJSON}, events: 1},
		{name: "json without message", opts: caseOptions{Decoder: "json"},
			lines: []string{`{"levelname": "INFO"}`, jOK}, reasons: []string{parse.ReasonMissingFields}, events: 1},
		{name: "json bad time", opts: caseOptions{Decoder: "json"},
			lines: []string{`{"asctime": "2025-02-30 10:00:00,000", "message": "x"}`, jOK}, reasons: []string{parse.ReasonBadTimestamp}, events: 1},
		{name: "json time-less without fallback", opts: caseOptions{Decoder: "json"},
			lines: []string{`{"message": "x"}`, jOK, `{"message": "inherits"}`}, reasons: []string{parse.ReasonMissingFields}, events: 2},
		{name: "json binary", opts: caseOptions{Decoder: "json"},
			lines: []string{"{\"message\": \"\x00\x00\"}", jOK}, reasons: []string{parse.ReasonBinary}, events: 1},
		{name: "json over limit", opts: caseOptions{Decoder: "json", MaxEntryBytes: 1000},
			lines: []string{`{"message": "` + long + `"}`, jOK}, reasons: []string{parse.ReasonTooLong}, events: 1},
		{name: "json invalid utf-8 and escapes are kept", opts: caseOptions{Decoder: "json"},
			lines: []string{"{\"asctime\": \"2025-06-11 16:05:44,902\", \"message\": \"caf\xe9 \\ud800 \\u0000\"}"}, events: 1},
		{name: "text binary line inside a traceback", opts: caseOptions{Format: "verbose"},
			lines:   []string{v500, "Traceback (most recent call last):", "\x00\x01\x02\x03garbage", "ValueError: x", v404},
			reasons: []string{parse.ReasonBinary}, events: 2},
		{name: "text orphan continuation at file start", opts: caseOptions{Format: "verbose"},
			lines: []string{"  File \"x.py\", line 1", "ValueError: x", v404}, reasons: []string{parse.ReasonOrphan, parse.ReasonOrphan}, events: 1},
		{name: "text bad timestamp swallows its continuation", opts: caseOptions{Format: "verbose"},
			lines:   []string{vSQL, `ERROR 2025-02-30 16:05:46,000 log 1 2 Internal Server Error: /x/`, "Traceback (most recent call last):", v404},
			reasons: []string{parse.ReasonBadTimestamp}, events: 2},
		{name: "text too many lines", opts: caseOptions{Format: "verbose", MaxLines: 3},
			lines: []string{v500, "a", "b", "c", "d", v404}, reasons: []string{parse.ReasonTooLong}, events: 1},
		{name: "text too many bytes", opts: caseOptions{Format: "verbose", MaxEntryBytes: 1000},
			lines: []string{v500, long, v404, "x" + long, vSQL}, reasons: []string{parse.ReasonTooLong, parse.ReasonTooLong}, events: 1},
		{name: "text start line over limit", opts: caseOptions{Format: "verbose", MaxEntryBytes: 100},
			lines: []string{vSQL + long, "continuation", v404}, reasons: []string{parse.ReasonTooLong}, events: 1},
		{name: "time-less record without fallback", opts: caseOptions{},
			lines:   []string{"Not Found: /x/", "Traceback (most recent call last):", `[11/Jun/2025 16:05:44] "GET / HTTP/1.1" 200 1`, "Not Found: /y/"},
			reasons: []string{parse.ReasonMissingFields}, events: 2},
		{name: "out of order and duplicates are kept", opts: caseOptions{Format: "verbose"},
			lines: []string{v404, vSQL, v404, v404}, events: 4},
		{name: "crlf and blank lines", opts: caseOptions{Format: "verbose"},
			lines: []string{"", vSQL + "\r", v500 + "\r", "Traceback (most recent call last):\r", "", v404 + "\r"}, events: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder(t, tc.opts, nil)
			evs, errs := feedAll(t, d, "f.log", []byte(strings.Join(tc.lines, "\n")))
			var reasons []string
			for _, err := range errs {
				le, ok := errorsAs(err)
				if !ok || !errors.Is(err, parse.ErrMalformed) {
					t.Fatalf("error %v is not a *parse.LineError", err)
				}
				if le.File != "f.log" {
					t.Errorf("error file %q", le.File)
				}
				for _, l := range tc.lines {
					if len(l) > 12 && strings.Contains(le.Detail, l[6:12]) {
						t.Errorf("detail %q quotes the input", le.Detail)
					}
				}
				reasons = append(reasons, le.Reason)
			}
			if strings.Join(reasons, ",") != strings.Join(tc.reasons, ",") {
				t.Errorf("reasons = %v, want %v", reasons, tc.reasons)
			}
			if len(evs) != tc.events {
				t.Errorf("%d events, want %d", len(evs), tc.events)
			}
			for _, ev := range evs {
				if ev.ID == "" || ev.Time <= 0 {
					t.Errorf("incomplete event %+v", ev)
				}
			}
		})
	}
}

func TestNewTextDecoderErrors(t *testing.T) {
	n := testNormalizer()
	for _, o := range []Options{
		{Format: "{levelname} {asctime}"},
		{Format: "simple"},
		{Format: "message"},
		{FallbackTime: -1},
	} {
		if _, err := NewTextDecoder(n, o); err == nil {
			t.Errorf("NewTextDecoder(%+v) accepted", o)
		}
	}
	if _, err := NewTextDecoder(n, Options{Format: "simple", FallbackTime: fixed}); err != nil {
		t.Errorf("time-less format with FallbackTime: %v", err)
	}
}

// TestHugeSQLLine decodes a 1 MB single-line statement between two good
// records.
func TestHugeSQLLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`DEBUG 2025-06-11 16:05:44,950 utils 4121 1402 (0.500) INSERT INTO t (v) VALUES `)
	for b.Len() < 1<<20 {
		b.WriteString(`('Okafor; args=x'), `)
	}
	b.WriteString(`('end'); args=None; alias=default`)
	var caps []captured
	d := newDecoder(t, caseOptions{Format: "verbose"}, &caps)
	evs, errs := feedAll(t, d, "f.log", []byte(vSQL+"\n"+b.String()+"\n"+v404))
	if len(errs) != 0 || len(evs) != 3 {
		t.Fatalf("%d events, errors %v", len(evs), errs)
	}
	if caps[1].ev.Type != TypeSQL || len(caps[1].raw.Statement) < 1<<20-100 || caps[1].raw.Params != "None" {
		t.Errorf("huge statement: type %s, %d bytes, params %q", caps[1].ev.Type, len(caps[1].raw.Statement), caps[1].raw.Params)
	}
}

// TestFileSwitch checks that a new file completes the held record and
// re-runs format detection.
func TestFileSwitch(t *testing.T) {
	d := newDecoder(t, caseOptions{FallbackTime: fixed}, nil)
	evs, err := d.Feed(source.Line{Text: []byte(v500), File: "a.log"}, nil)
	if err != nil || len(evs) != 0 {
		t.Fatalf("first line: %v %d", err, len(evs))
	}
	evs, err = d.Feed(source.Line{Text: []byte("Not Found: /y/"), File: "b.log"}, evs)
	if err != nil || len(evs) != 1 || evs[0].Origin.File != "a.log" || evs[0].Status != 500 {
		t.Fatalf("file switch: %v %+v", err, evs)
	}
	evs, _ = d.Flush(evs)
	if len(evs) != 2 || evs[1].Origin.File != "b.log" || evs[1].Status != 404 || evs[1].Time != evs[0].Time {
		t.Fatalf("second file: %+v", evs)
	}
}
