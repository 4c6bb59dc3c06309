package djangoparse

import (
	"bytes"
	"errors"
	"testing"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// fuzzFormats are the text formats a fuzz input can pick (by its first
// byte); "" is auto-detection.
var fuzzFormats = []string{"", "verbose", "message", "simple", "%(asctime)s [%(levelname)-8s] %(name)s: %(message)s",
	"{levelname} {asctime} {message} [{name}:{lineno}]", "server", "{created} {msecs} {threadName} {message}"}

// fuzzFeed splits data on '\n', feeds every line and flushes, checking the
// decoder's invariants.
func fuzzFeed(t *testing.T, d parse.Decoder, data []byte) {
	var evs []event.Event
	check := func(err error) {
		if err == nil {
			return
		}
		var le *parse.LineError
		if !errors.As(err, &le) || !errors.Is(err, parse.ErrMalformed) || le.Reason == "" {
			t.Fatalf("unclassified error %T: %v", err, err)
		}
	}
	off := int64(0)
	for _, l := range bytes.Split(data, []byte("\n")) {
		var err error
		evs, err = d.Feed(source.Line{Text: l, File: "fuzz.log", Offset: off}, evs[:0])
		check(err)
		checkEvents(t, evs)
		off += int64(len(l)) + 1
	}
	evs, err := d.Flush(evs[:0])
	check(err)
	checkEvents(t, evs)
}

func checkEvents(t *testing.T, evs []event.Event) {
	for _, ev := range evs {
		if ev.ID == "" || ev.Time <= 0 || ev.Type == "" || ev.Source != event.SourceDjango {
			t.Fatalf("incomplete event %+v", ev)
		}
	}
}

// addSeeds adds the golden inputs of the given decoder kind.
func addSeeds(f *testing.F, json bool) {
	dirs, _ := caseDirs()
	for _, dir := range dirs {
		c, in := readCase(f, dir)
		if (c.Decoder == "json") != json {
			continue
		}
		f.Add(in)
	}
	f.Add([]byte(vSQL + "\n" + v500 + "\nTraceback (most recent call last):\n  File \"x\"\n" + v404))
}

func FuzzTextDecoder(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		format := ""
		if len(data) > 0 {
			format = fuzzFormats[int(data[0])%len(fuzzFormats)]
		}
		d, err := NewTextDecoder(testNormalizer(), Options{Format: format, FallbackTime: fixed, MaxLines: 50, MaxEntryBytes: 4096})
		if err != nil {
			t.Fatal(err)
		}
		fuzzFeed(t, d, data)
	})
}

func FuzzJSONDecoder(f *testing.F) {
	addSeeds(f, true)
	f.Add([]byte(`{"created": 1e300, "levelname": "x", "sql": "S", "params": {"a": [1, {"b": null}]}, "duration": "NaN", "status_code": "99999"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFeed(t, NewJSONDecoder(testNormalizer(), Options{MaxEntryBytes: 1 << 16}), data)
	})
}
