package event

import "testing"

func TestIDerMatchesNewID(t *testing.T) {
	var d IDer
	for _, c := range []struct {
		src string
		raw string
	}{
		{SourceCRDB, `{"timestamp":"1.2"}`},
		{SourceDjango, ""},
		{"", "x"},
		{SourceCRDB, string(make([]byte, 1000))},
		{SourceDjango, "INFO 2024-01-01 django.db.backends (0.001) SELECT 1; args=()"},
	} {
		if got, want := d.ID(c.src, []byte(c.raw)), NewID(c.src, []byte(c.raw)); got != want {
			t.Errorf("ID(%q, %q) = %s, want %s", c.src, c.raw, got, want)
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	raw := make([]byte, 860)
	b.ReportAllocs()
	for b.Loop() {
		NewID(SourceCRDB, raw)
	}
}

func BenchmarkIDer(b *testing.B) {
	raw := make([]byte, 860)
	var d IDer
	b.ReportAllocs()
	for b.Loop() {
		d.ID(SourceCRDB, raw)
	}
}
