package loggen

import (
	"testing"
)

// BenchmarkGenerate measures generation speed with --events: each
// iteration writes about 200k CockroachDB entries to a temp dir.
func BenchmarkGenerate(b *testing.B) {
	const events = 200_000
	var total int64
	for b.Loop() {
		cfg := testConfig(b.TempDir(), 1)
		cfg.Days, cfg.Rate, cfg.MaxEvents = 30, 400_000, events
		tr, err := Generate(cfg)
		if err != nil {
			b.Fatal(err)
		}
		total += tr.Counts.CRDBEvents
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}
