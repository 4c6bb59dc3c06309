package filesink

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"os"
	"sync"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink"
)

// Config says where the files go.
type Config struct {
	FindingsPath string // required: findings as JSON lines
	EventsPath   string // "" writes no events
	NoSync       bool   // skip fsync (benchmarks of the rest of the pipeline only)
}

// Sink appends findings and events to JSON-lines files. Safe for
// concurrent use: writes to one file are serialized.
type Sink struct {
	cfg      Config
	findings *jsonFile
	events   *jsonFile
}

var _ sink.Sink = (*Sink)(nil)

// New opens (creating or appending to) the configured files.
func New(cfg Config) (*Sink, error) {
	if cfg.FindingsPath == "" {
		return nil, errors.New("filesink: findings path is required")
	}
	s := &Sink{cfg: cfg}
	var err error
	if s.findings, err = openJSONFile(cfg.FindingsPath, !cfg.NoSync); err != nil {
		return nil, err
	}
	if cfg.EventsPath != "" {
		if s.events, err = openJSONFile(cfg.EventsPath, !cfg.NoSync); err != nil {
			_ = s.findings.close()
			return nil, err
		}
	}
	return s, nil
}

// Name is "file".
func (s *Sink) Name() string { return "file" }

// WriteEvents appends one line per event and fsyncs; without an events
// path it acknowledges at once.
func (s *Sink) WriteEvents(ctx context.Context, evs []event.Event) error {
	if s.events == nil || len(evs) == 0 {
		return ctx.Err()
	}
	return s.events.write(ctx, len(evs), func(i int) any { return &evs[i] })
}

// WriteFindings appends one line per finding version and fsyncs.
func (s *Sink) WriteFindings(ctx context.Context, fs []detectors.Finding) error {
	if len(fs) == 0 {
		return ctx.Err()
	}
	return s.findings.write(ctx, len(fs), func(i int) any { return &fs[i] })
}

// Close flushes and closes the files.
func (s *Sink) Close() error {
	errs := []error{s.findings.close()}
	if s.events != nil {
		errs = append(errs, s.events.close())
	}
	return errors.Join(errs...)
}

// jsonFile is one append-only JSON-lines file.
type jsonFile struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	bw     *bufio.Writer
	enc    *json.Encoder
	sync   bool
	closed bool
}

func openJSONFile(path string, sync bool) (*jsonFile, error) {
	if err := cutTornTail(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("filesink: opening %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonFile{path: path, f: f, bw: bw, enc: enc, sync: sync}, nil
}

// write encodes n items, flushes and fsyncs, under the file's lock so the
// lines of concurrent batches never interleave.
func (j *jsonFile) write(ctx context.Context, n int, item func(int) any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return sink.ErrClosed
	}
	for i := range n {
		if err := j.enc.Encode(item(i)); err != nil {
			// Drop what is buffered of this batch so a retry does not
			// follow half a line; lines already flushed stay (duplicates
			// are harmless by contract).
			j.bw.Reset(j.f)
			return fmt.Errorf("filesink: encoding into %s: %w", j.path, err)
		}
	}
	if err := j.bw.Flush(); err != nil {
		j.bw.Reset(j.f)
		return fmt.Errorf("filesink: writing %s: %w", j.path, err)
	}
	if j.sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("filesink: fsync %s: %w", j.path, err)
		}
	}
	return nil
}

func (j *jsonFile) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	return errors.Join(j.bw.Flush(), j.f.Close())
}

// cutTornTail removes a partial last line left by a process killed in
// the middle of a write. Such a line belongs to a batch that was never
// acknowledged (the acknowledgement follows the flush and fsync of whole
// lines), so it is replayed anyway; without the cut, the next append
// would glue its first line onto the fragment and corrupt both.
func cutTornTail(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("filesink: opening %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("filesink: %w", err)
	}
	end := fi.Size()
	buf := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := min(int64(len(buf)), pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return fmt.Errorf("filesink: reading the tail of %s: %w", path, err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return truncateAt(f, path, pos+int64(i)+1, end)
		}
	}
	return truncateAt(f, path, 0, end)
}

func truncateAt(f *os.File, path string, at, size int64) error {
	if at == size {
		return nil
	}
	if err := f.Truncate(at); err != nil {
		return fmt.Errorf("filesink: cutting the torn last line of %s: %w", path, err)
	}
	return f.Sync()
}
