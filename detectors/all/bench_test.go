package all_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
)

var (
	eventsOnce sync.Once
	events     []event.Event
	eventsErr  error
)

// loggenEvents decodes a 3-day loggen scenario once, in event-time order.
func loggenEvents(b *testing.B) []event.Event {
	eventsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rw-detbench-")
		if err != nil {
			eventsErr = err
			return
		}
		defer os.RemoveAll(dir)
		cfg := loggen.DefaultConfig()
		cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, 42, 3, 40000
		if _, eventsErr = loggen.Generate(cfg); eventsErr != nil {
			return
		}
		files, err := source.Expand([]string{dir + "/crdb", dir + "/django"})
		if err != nil {
			eventsErr = err
			return
		}
		eventsErr = runner.Run(context.Background(), runner.Options{
			Files:         files,
			Formats:       formats.Options{FallbackTime: 1},
			NewNormalizer: func() *parse.Normalizer { return parse.NewNormalizer(parse.NormalizerConfig{Key: []byte("bench")}) },
		}, &runner.Stats{}, func(ev *event.Event) error {
			events = append(events, *ev)
			return nil
		})
	})
	if eventsErr != nil {
		b.Fatal(eventsErr)
	}
	return events
}

// BenchmarkAllDetectors measures every detector of the catalog together,
// through the engine (grouping, allowlists), per event on loggen traffic.
// Compare with BenchmarkPipeline* in pipeline/parse/formats (parse cost).
func BenchmarkAllDetectors(b *testing.B) {
	evs := loggenEvents(b)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	var e *detectors.Engine
	for n < b.N {
		if n%len(evs) == 0 {
			var err error
			e, err = detectors.NewEngine(all.Detectors(all.DefaultConfig()), nil)
			if err != nil {
				b.Fatal(err)
			}
		}
		e.Observe(&evs[n%len(evs)])
		n++
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
