// Package runner reads log files in one process: every file is decoded in
// its own goroutine, events are put back in event-time order (a bounded
// reorder buffer per file, then a k-way merge across files) and handed to
// one consumer, so stateful detectors see a time-ordered stream and the
// result does not depend on goroutine scheduling.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/source"
)

// Options configures a run.
type Options struct {
	Files         []source.File
	Format        string // parse.FormatAuto or a forced format
	Formats       formats.Options
	MaxLineBytes  int
	NewNormalizer func() *parse.Normalizer // one per file: normalizers are not concurrency-safe
	Workers       int                      // files decoding at the same time (CPU bound); <= 0 means 2
	Reorder       int                      // per-file reorder buffer in events; <= 0 means 1024
	IngestTime    int64                    // stamped on every event (ns)
	Log           *slog.Logger
	// OnError, when set, is called for every line or entry that could not
	// be parsed (each also counted in Stats.Errors), from the goroutine
	// decoding the file: concurrently for different files. format is the
	// file's format; l is the line being decoded when the error came (its
	// Text valid only during the call), or at the end of the file a Line
	// with Truncated set and no Text.
	OnError func(format string, l source.Line, err error)
}

// Stats summarizes a run.
type Stats struct {
	Files        int              `json:"files"`
	SkippedFiles []string         `json:"skipped_files,omitempty"` // unknown format or unreadable, with the reason
	Formats      map[string]int   `json:"formats"`                 // files per detected format
	Lines        int64            `json:"lines"`
	Bytes        int64            `json:"bytes"`
	Events       int64            `json:"events"`
	Errors       map[string]int64 `json:"parse_errors"`        // by reason
	Samples      []string         `json:"parse_error_samples"` // the first errors: file, offset, reason (never content)
	OutOfOrder   int64            `json:"out_of_order"`        // events older than one already delivered
	bytesRead    atomic.Int64
}

// BytesRead reports progress while the run is going on.
func (s *Stats) BytesRead() int64 { return s.bytesRead.Load() }

const (
	batchSize  = 256
	maxSamples = 20
)

// Run decodes opts.Files and calls handle for every event in event-time
// order, from the calling goroutine. handle owns nothing: the event is
// reused after it returns. Run stops at the first error handle returns,
// or when ctx ends.
func Run(ctx context.Context, opts Options, stats *Stats, handle func(*event.Event) error) error {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Reorder <= 0 {
		opts.Reorder = 1024
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stats.Files = len(opts.Files)
	stats.Formats = map[string]int{}
	stats.Errors = map[string]int64{}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cpu := make(chan struct{}, opts.Workers)
	groups := Sequences(opts.Files)
	streams := make([]*stream, len(groups))
	var wg sync.WaitGroup
	var mu sync.Mutex // guards stats maps and slices written by file goroutines
	for i, group := range groups {
		s := &stream{ch: make(chan []*event.Event, 2)}
		streams[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(s.ch)
			fr := &fileRun{opts: opts, stats: stats, mu: &mu, cpu: cpu, out: s.ch, log: log}
			for _, f := range group {
				fr.file = f
				err := fr.run(ctx)
				if errors.Is(err, context.Canceled) || ctx.Err() != nil {
					return
				}
				if err != nil {
					mu.Lock()
					stats.SkippedFiles = append(stats.SkippedFiles, fmt.Sprintf("%s: %v", f.Path, err))
					mu.Unlock()
					log.Warn("input file skipped", "file", f.Path, "err", err)
				}
			}
			fr.cpu <- struct{}{}
			_ = fr.drain(ctx) // only fails when ctx ended
			<-fr.cpu
		}()
	}
	err := merge(ctx, streams, stats, handle)
	cancel()
	wg.Wait()
	stats.Bytes = stats.bytesRead.Load()
	sort.Strings(stats.SkippedFiles)
	sort.Strings(stats.Samples)
	return err
}

type fileRun struct {
	opts  Options
	file  source.File
	stats *Stats
	mu    *sync.Mutex
	cpu   chan struct{}
	out   chan<- []*event.Event
	log   *slog.Logger

	reorder reorderBuf
	seq     int64
	errs    map[string]int64
	samples []string
	lines   int64
}

func (fr *fileRun) run(ctx context.Context) error {
	f, err := os.Open(fr.file.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	fallback := int64(0)
	if st, err := f.Stat(); err == nil {
		fallback = st.ModTime().UnixNano()
	}
	lr := source.NewLineReader(f, fr.file.Path, fr.opts.MaxLineBytes)
	reported := int64(0)
	defer func() { fr.stats.bytesRead.Add(lr.Bytes - reported) }()

	// Peek at the first lines to detect the format, then replay them.
	var head []source.Line
	for len(head) < 20 {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		l.Text = bytes.Clone(l.Text)
		head = append(head, l)
	}
	format := fr.opts.Format
	if format == "" || format == parse.FormatAuto {
		sample := make([][]byte, len(head))
		for i, l := range head {
			sample[i] = l.Text
		}
		format = formats.Detect(sample)
		if format == "" {
			if len(head) == 0 {
				return nil // empty file: nothing to do, nothing to report
			}
			return errors.New("unknown format (not CockroachDB json/crdb-v2 nor Django text/json); name it with input.format")
		}
	}
	fo := fr.opts.Formats
	fo.FallbackTime = fallback
	dec, err := formats.New(format, fr.opts.NewNormalizer(), fo)
	if err != nil {
		return err
	}
	fr.mu.Lock()
	fr.stats.Formats[format]++
	fr.mu.Unlock()

	fr.errs = map[string]int64{}
	defer fr.publish()
	batch := make([]event.Event, 0, batchSize)
	fr.cpu <- struct{}{}
	defer func() { <-fr.cpu }()
	feed := func(l source.Line) error {
		fr.lines++
		var err error
		if l.Truncated {
			fr.fail(format, l, parse.Malformed(l, parse.ReasonTooLong, fmt.Sprintf("line longer than input.max_line_bytes (%d)", fr.opts.MaxLineBytes)))
			return nil
		}
		n := len(batch)
		batch, err = dec.Feed(l, batch)
		fr.stamp(batch[n:])
		if err != nil {
			fr.fail(format, l, err)
		}
		if len(batch) >= batchSize {
			return fr.emit(ctx, &batch)
		}
		return nil
	}
	for _, l := range head {
		if err := feed(l); err != nil {
			return err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading at offset %d: %w", lr.Bytes, err)
		}
		if err := feed(l); err != nil {
			return err
		}
		if fr.lines%4096 == 0 {
			fr.stats.bytesRead.Add(lr.Bytes - reported)
			reported = lr.Bytes
		}
	}
	n := len(batch)
	batch, err = dec.Flush(batch)
	fr.stamp(batch[n:])
	if err != nil {
		fr.fail(format, source.Line{File: fr.file.Path, Offset: lr.Bytes, Truncated: true}, err)
	}
	return fr.emit(ctx, &batch)
}

func (fr *fileRun) stamp(evs []event.Event) {
	for i := range evs {
		evs[i].IngestTime = fr.opts.IngestTime
	}
}

// fail counts err and hands it to Options.OnError.
func (fr *fileRun) fail(format string, l source.Line, err error) {
	fr.count(err)
	if fr.opts.OnError != nil {
		fr.opts.OnError(format, l, err)
	}
}

func (fr *fileRun) count(err error) {
	var le *parse.LineError
	reason := "read_error"
	if errors.As(err, &le) {
		reason = le.Reason
	}
	fr.errs[reason]++
	if len(fr.samples) < maxSamples {
		fr.samples = append(fr.samples, err.Error())
	}
}

// publish adds this file's counts to the run's stats and resets them for
// the next file of the sequence.
func (fr *fileRun) publish() {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	defer func() { fr.lines, fr.errs, fr.samples = 0, nil, nil }()
	fr.stats.Lines += fr.lines
	for r, n := range fr.errs {
		fr.stats.Errors[r] += n
	}
	for _, s := range fr.samples {
		if len(fr.stats.Samples) < maxSamples {
			fr.stats.Samples = append(fr.stats.Samples, s)
		}
	}
}
