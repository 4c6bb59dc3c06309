package crdbparse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// fuzzSeeds adds the first lines of every golden input and the bad-input
// fixtures to the corpus.
func fuzzSeeds(f *testing.F, prefix string) {
	paths, _ := filepath.Glob("testdata/" + prefix + "*/input.log")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		ls := bytes.SplitAfter(b, []byte("\n"))
		for i := 0; i < len(ls); i += 4 {
			end := min(i+4, len(ls))
			f.Add(bytes.Join(ls[i:end], nil))
		}
	}
}

// fuzzDecode feeds data split on '\n' through dec and checks the decoder
// contract: no panic, only *parse.LineError errors, complete events.
func fuzzDecode(t *testing.T, dec parse.Decoder, data []byte) {
	var out []event.Event
	check := func(err error) {
		if err == nil {
			return
		}
		var le *parse.LineError
		if !errors.As(err, &le) || !errors.Is(err, parse.ErrMalformed) {
			t.Fatalf("unclassified error %T: %v", err, err)
		}
		if le.Reason == "" || le.Detail == "" {
			t.Fatalf("bad LineError %+v", le)
		}
	}
	var off int64
	for _, l := range bytes.Split(data, []byte("\n")) {
		var err error
		out, err = dec.Feed(source.Line{Text: l, File: "fuzz", Offset: off}, out[:0])
		check(err)
		checkFuzzEvents(t, out)
		off += int64(len(l)) + 1
	}
	out, err := dec.Flush(out[:0])
	check(err)
	checkFuzzEvents(t, out)
}

func checkFuzzEvents(t *testing.T, evs []event.Event) {
	for _, ev := range evs {
		if ev.ID == "" || ev.Time == 0 || ev.Type == "" {
			t.Fatalf("incomplete event: id=%q time=%d type=%q", ev.ID, ev.Time, ev.Type)
		}
	}
}

func FuzzJSONDecoder(f *testing.F) {
	fuzzSeeds(f, "json")
	f.Add([]byte(goodJSON + "\n" + goodJSON[:70] + "\n" + goodJSON2))
	f.Add([]byte(`{"c":1,"t":1.5,"T":"x","tags":{"client":"[::1]:99999999999"},"event":{"Age":1e400,"NumRows":1e3,"Reason":-5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, NewJSONDecoder(testNormalizer(), Options{MaxEntryBytes: 4096}), data)
	})
}

func FuzzV2Decoder(f *testing.F) {
	fuzzSeeds(f, "v2")
	f.Add([]byte(goodV2 + "\n" + v2Pfx + "1 |‹x›\n" + v2Pfx + "1 !stack\n" + goodV2b))
	f.Add([]byte(v2Pfx + "9 +orphan\n" + v2Pfx + "9  a\n" + v2Pfx + "9 |›‹\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, NewV2Decoder(testNormalizer(), Options{MaxEntryBytes: 4096, MaxLines: 8}), data)
	})
}
