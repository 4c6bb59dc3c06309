package formats_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/source"
)

// corpus holds loggen output, read once, by format: the lines of every
// file of that format in the generated tree.
var (
	corpusOnce sync.Once
	corpus     map[string][][]byte
	corpusErr  error
)

func loadCorpus(b *testing.B) map[string][][]byte {
	corpusOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rw-bench-")
		if err != nil {
			corpusErr = err
			return
		}
		defer os.RemoveAll(dir)
		cfg := loggen.DefaultConfig()
		cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, 42, 1, 60000
		if _, corpusErr = loggen.Generate(cfg); corpusErr != nil {
			return
		}
		corpus = map[string][][]byte{}
		corpusErr = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil || !info.Mode().IsRegular() || !strings.HasSuffix(p, ".log") {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			var lines [][]byte
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<26)
			for sc.Scan() {
				lines = append(lines, append([]byte(nil), sc.Bytes()...))
			}
			format := formats.Detect(lines)
			corpus[format] = append(corpus[format], lines...)
			return sc.Err()
		})
	})
	if corpusErr != nil {
		b.Fatal(corpusErr)
	}
	return corpus
}

// benchFormat measures parse + normalize + fingerprint + classify per
// event for one format: b.N events decoded from the corpus, cycling.
func benchFormat(b *testing.B, format string) {
	lines := loadCorpus(b)[format]
	if len(lines) == 0 {
		b.Fatalf("no %s lines in the corpus", format)
	}
	var bytes int64
	for _, l := range lines {
		bytes += int64(len(l)) + 1
	}
	n := parse.NewNormalizer(parse.NormalizerConfig{Key: []byte("bench-key-0123456789")})
	dec, err := formats.New(format, n, formats.Options{DjangoLocation: time.UTC, FallbackTime: 1})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]event.Event, 0, 64)
	events := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	i := 0
	for events < b.N {
		if i == len(lines) {
			i = 0
			out, _ = dec.Flush(out[:0])
			events += len(out)
		}
		out, _ = dec.Feed(source.Line{Text: lines[i], File: "bench"}, out[:0])
		events += len(out)
		i++
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	b.SetBytes(bytes / int64(len(lines)))
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		// CPU time, unlike wall time, does not grow while other jobs on a
		// shared machine hold the core (with GOMAXPROCS=1 it still
		// includes the GC's work).
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
	}
}

func BenchmarkPipelineCRDBJSON(b *testing.B)   { benchFormat(b, parse.FormatCRDBJSON) }
func BenchmarkPipelineCRDBV2(b *testing.B)     { benchFormat(b, parse.FormatCRDBV2) }
func BenchmarkPipelineDjangoText(b *testing.B) { benchFormat(b, parse.FormatDjangoText) }
func BenchmarkPipelineDjangoJSON(b *testing.B) { benchFormat(b, parse.FormatDjangoJSON) }
