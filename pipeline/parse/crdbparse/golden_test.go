package crdbparse

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"roachwatch/pipeline/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sensitive are raw values that sit inside ‹…› spans (or in entries that
// are not redactable) in the fixtures: none may appear in decoded events.
var sensitive = []string{
	"Okafor", "123-45-6789", "hunter2", "'a1f3'", "s3cr3t-oidc-value", "secret-tail",
	"worker-7", "/mnt/data1", "disk full", "xxxxxxxxxx", "0.0.0.0/0 cert-password",
	"password authentication failed", "abc-Okafor", "/Table/112/1/4411",
}

// TestDecodeGolden decodes testdata/<case>/input.log and compares the
// events with want.json; -update rewrites want.json.
func TestDecodeGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, "input.log"))
			if err != nil {
				t.Fatal(err)
			}
			evs, errs := decodeAll(t, decoderFor(input, Options{}), input)
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			checkInvariants(t, evs)
			got, err := json.MarshalIndent(evs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sensitive {
				if strings.Contains(string(got), s) {
					t.Errorf("decoded events contain the sensitive value %q", s)
				}
			}
			want := filepath.Join(dir, "want.json")
			if *update {
				if err := os.WriteFile(want, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("events differ from %s (run with -update and review the diff)\ngot:\n%s", want, got)
			}
		})
	}
}

// TestDeterministicIDs decodes every fixture twice, with fresh decoders,
// and expects identical ids.
func TestDeterministicIDs(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*/input.log")
	for _, p := range dirs {
		input, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := decodeAll(t, decoderFor(input, Options{}), input)
		b, _ := decodeAll(t, decoderFor(input, Options{}), input)
		if len(a) != len(b) {
			t.Fatalf("%s: %d vs %d events", p, len(a), len(b))
		}
		for i := range a {
			if a[i].ID != b[i].ID {
				t.Fatalf("%s: event %d id %s vs %s", p, i, a[i].ID, b[i].ID)
			}
		}
	}
}

// TestAttrsIndependentOfHistory decodes json entries through one decoder,
// in an order that makes the shared Attrs template apply, break and come
// back (tenants that change, tags that override envelope values, events
// with many attributes in between), and checks that every event equals
// the one a fresh decoder makes of its line alone.
func TestAttrsIndependentOfHistory(t *testing.T) {
	const base = `{"channel_numeric":9,"timestamp":"1749427205.536531000","cluster_id":"c1","node_id":1,%s"version":"v24.3.4","severity":"INFO","entry_counter":%d,"redactable":1,"tags":{"n":"1"%s},"event":{"Timestamp":1749427205517789605,"EventType":"query_execute","Statement":"SELECT 1","User":"root","TxnCounter":%d,"Network":"tcp"%s}}`
	var lines []string
	for i := range 12 {
		tenant := `"tenant_id":1,"tenant_name":"system",`
		if i%5 == 3 {
			tenant = `"tenant_id":2,"tenant_name":"‹app›",`
		}
		tags := ""
		if i%4 == 2 {
			tags = `,"T":"7","V":"other"`
		}
		extra := ""
		if i%6 == 5 {
			for k := range 12 {
				extra += fmt.Sprintf(`,"Stat%d":%d`, k, k)
			}
		}
		if i%7 == 6 {
			tenant = ""
		}
		lines = append(lines, fmt.Sprintf(base, tenant, i, tags, i%3, extra))
	}
	for _, f := range []string{"json-verbose", "json-compact", "json-fluent", "json-edge"} {
		b, err := os.ReadFile(filepath.Join("testdata", f, "input.log"))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	order := append([]string{}, lines...)
	for i := len(lines) - 1; i >= 0; i-- {
		order = append(order, lines[i], lines[i], lines[(i*7)%len(lines)])
	}
	dec := NewJSONDecoder(testNormalizer(), Options{})
	for i, l := range order {
		got, err := dec.Feed(source.Line{Text: []byte(l), File: "h.log"}, nil)
		want, err2 := NewJSONDecoder(testNormalizer(), Options{}).Feed(source.Line{Text: []byte(l), File: "h.log"}, nil)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("entry %d: error %v vs %v", i, err, err2)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("entry %d %q:\n got %+v\nwant %+v", i, l, got, want)
		}
	}
}
