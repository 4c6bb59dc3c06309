// Package detectorstest has helpers for detector tests: a decoded loggen
// corpus, split runs that move a detector's state through Snapshot and
// Restore, and the checks every snapshot format gets (rejects, fuzzing).
// It is imported by tests only.
package detectorstest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
)

var corpus struct {
	once sync.Once
	evs  []*event.Event
	err  error
}

// LoggenEvents generates two days of loggen traffic (seed 1, rate 4000)
// once per test binary and decodes it as cmd/analyze run does. Callers
// share the events and must not modify them.
func LoggenEvents(tb testing.TB) []*event.Event {
	tb.Helper()
	corpus.once.Do(func() {
		cfg := loggen.DefaultConfig()
		cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = filepath.Join(tb.TempDir(), "gen"), 1, 2, 4000
		if _, corpus.err = loggen.Generate(cfg); corpus.err != nil {
			return
		}
		files, err := source.Expand([]string{cfg.Out})
		if err != nil {
			corpus.err = err
			return
		}
		key := []byte("0123456789abcdef0123")
		corpus.err = runner.Run(context.Background(), runner.Options{
			Files:         files,
			Format:        parse.FormatAuto,
			Formats:       formats.Options{MaxEntryBytes: 16 << 20, DjangoLocation: time.UTC},
			MaxLineBytes:  16 << 20,
			NewNormalizer: func() *parse.Normalizer { return parse.NewNormalizer(parse.NormalizerConfig{Key: key}) },
			Workers:       1,
			IngestTime:    1,
		}, &runner.Stats{}, func(ev *event.Event) error {
			c := *ev
			corpus.evs = append(corpus.evs, &c)
			return nil
		})
	})
	require.NoError(tb, corpus.err)
	return corpus.evs
}
