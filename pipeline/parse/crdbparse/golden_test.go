package crdbparse

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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
