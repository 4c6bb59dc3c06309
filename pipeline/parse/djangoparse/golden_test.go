package djangoparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

// caseOptions is testdata/<case>/options.json; every key is optional.
type caseOptions struct {
	Decoder       string   `json:"decoder"` // text (default) or json
	Format        string   `json:"format"`
	Zone          string   `json:"zone"` // fixed offset "+02:00"
	Host          string   `json:"host"`
	FallbackTime  int64    `json:"fallback_time"`
	Fields        FieldMap `json:"fields"`
	MaxLines      int      `json:"max_lines"`
	MaxEntryBytes int      `json:"max_entry_bytes"`
}

func (c caseOptions) options(t testing.TB) Options {
	o := Options{Format: c.Format, Host: c.Host, FallbackTime: c.FallbackTime, Fields: c.Fields,
		MaxLines: c.MaxLines, MaxEntryBytes: c.MaxEntryBytes}
	if c.Zone != "" {
		z, err := time.Parse("-07:00", c.Zone)
		if err != nil {
			t.Fatalf("zone %q: %v", c.Zone, err)
		}
		_, off := z.Zone()
		o.Location = time.FixedZone(c.Zone, off)
	}
	return o
}

func testNormalizer() *parse.Normalizer {
	return parse.NewNormalizer(parse.NormalizerConfig{Key: []byte("test-key")})
}

// captured is one event with the Raw the decoder handed to Finish.
type captured struct {
	ev  event.Event
	raw parse.Raw
}

// newDecoder builds the decoder of a case and hooks Finish so tests can see
// what went to Raw and count Finish calls.
func newDecoder(t testing.TB, c caseOptions, got *[]captured) parse.Decoder {
	t.Helper()
	n := testNormalizer()
	hook := func(ev *event.Event, raw *parse.Raw) {
		n.Finish(ev, raw)
		if got != nil {
			*got = append(*got, captured{ev: *ev, raw: parse.Raw{
				Entry: bytes.Clone(raw.Entry), Statement: bytes.Clone(raw.Statement),
				Params: raw.Params, Message: raw.Message}})
		}
	}
	if c.Decoder == "json" {
		d := NewJSONDecoder(n, c.options(t)).(*jsonDecoder)
		d.finish = hook
		return d
	}
	dec, err := NewTextDecoder(n, c.options(t))
	if err != nil {
		t.Fatalf("NewTextDecoder: %v", err)
	}
	d := dec.(*textDecoder)
	d.finish = hook
	return d
}

// feedAll splits data into lines as a file reader would, feeds them and
// flushes; it returns the events and the errors.
func feedAll(t testing.TB, d parse.Decoder, file string, data []byte) ([]event.Event, []error) {
	t.Helper()
	var evs []event.Event
	var errs []error
	off := int64(0)
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		var err error
		// A fresh copy per line, overwritten after Feed, catches decoders
		// that keep line.Text instead of copying it.
		text := bytes.Clone(l)
		evs, err = d.Feed(source.Line{Text: text, File: file, Offset: off}, evs)
		for i := range text {
			text[i] = 'X'
		}
		if err != nil {
			errs = append(errs, err)
		}
		off += int64(len(l)) + 1
	}
	evs, err := d.Flush(evs)
	if err != nil {
		errs = append(errs, err)
	}
	return evs, errs
}

func readCase(t testing.TB, dir string) (caseOptions, []byte) {
	t.Helper()
	var c caseOptions
	if b, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("options.json: %v", err)
		}
	}
	in, err := os.ReadFile(filepath.Join(dir, "input.log"))
	if err != nil {
		t.Fatal(err)
	}
	return c, in
}

func TestDecodeGolden(t *testing.T) {
	dirs, err := caseDirs()
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, in := readCase(t, dir)
			var caps []captured
			evs, errs := feedAll(t, newDecoder(t, c, &caps), "input.log", in)
			for _, err := range errs {
				t.Errorf("unexpected error: %v", err)
			}
			if len(caps) != len(evs) {
				t.Errorf("Finish called %d times for %d events", len(caps), len(evs))
			}
			got, err := json.MarshalIndent(evs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			want := filepath.Join(dir, "want.json")
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !jsonEqual(t, b, got) {
				t.Errorf("%s differs from the decoded events (run with -update to rewrite):\n%s", want, got)
			}
		})
	}
}

func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("want.json: %v", err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// sqlLiterals are values that appear only inside SQL statements and params
// of the fixtures (and in one runserver query string); no event may carry
// them in the clear.
var sqlLiterals = []string{"Okafor", "123-45-6789", "4111111111111111", "OR 1=1", "k3yv4lu3s3ss10n", "99.90", "gift"}

func TestNoSQLTextInEvents(t *testing.T) {
	dirs, _ := caseDirs()
	sqlEvents := 0
	for _, dir := range dirs {
		c, in := readCase(t, dir)
		var caps []captured
		feedAll(t, newDecoder(t, c, &caps), "input.log", in)
		for _, cp := range caps {
			b, err := json.Marshal(cp.ev)
			if err != nil {
				t.Fatal(err)
			}
			for _, lit := range sqlLiterals {
				if bytes.Contains(b, []byte(lit)) {
					t.Errorf("%s: event %s carries SQL literal %q: %s", dir, cp.ev.ID, lit, b)
				}
			}
			if cp.ev.Type != TypeSQL {
				continue
			}
			sqlEvents++
			if len(cp.raw.Statement) == 0 {
				t.Errorf("%s: SQL event %s without a statement in Raw", dir, cp.ev.ID)
			}
			// Until the Normalizer fingerprints, no part of the statement
			// may reach the event: check every statement line.
			for _, l := range strings.Split(string(cp.raw.Statement), "\n") {
				if l = strings.TrimSpace(l); len(l) > 8 && strings.Contains(string(b), jsonString(l)) {
					t.Errorf("%s: SQL event %s carries statement text %q", dir, cp.ev.ID, l)
				}
			}
			if cp.ev.Message != "" {
				t.Errorf("%s: SQL event %s has a message", dir, cp.ev.ID)
			}
		}
	}
	if sqlEvents < 10 {
		t.Errorf("only %d SQL events in the fixtures", sqlEvents)
	}
}

// jsonString is s as it appears inside a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// errorsAs is errors.As for *parse.LineError.
func errorsAs(err error) (*parse.LineError, bool) {
	var le *parse.LineError
	ok := errors.As(err, &le)
	return le, ok
}

// caseDirs lists the golden cases: directories of testdata with an
// input.log (testdata/fuzz holds fuzz findings, not cases).
func caseDirs() ([]string, error) {
	ins, err := filepath.Glob("testdata/*/input.log")
	dirs := make([]string, len(ins))
	for i, in := range ins {
		dirs[i] = filepath.Dir(in)
	}
	return dirs, err
}
