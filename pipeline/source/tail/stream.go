package tail

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/source"
)

// sampleLines is how many non-empty lines format detection waits for.
const sampleLines = 20

// kindUnknown is the source kind of a file whose format was not detected.
const kindUnknown = "unknown"

// stream turns the bytes of one source into Batches: it splits lines,
// detects the format, feeds the decoder and tracks the position each batch
// makes safe. It is owned by one goroutine.
type stream struct {
	cfg     *Config
	m       *Metrics
	log     *slog.Logger
	file    string // path or logical name, for Lines and Rejects
	id      string // file id, "" for stdin
	prefix  string // source kind prefix ("stdin-" for stdin)
	tracker *ack.Tracker
	fp      func() (int, string) // fingerprint of the source for positions

	buf       []byte // unconsumed bytes; buf[0] is at offset base
	base      int64
	skipping  bool  // inside an over-long line: bytes are dropped up to the next '\n'
	skipStart int64 // offset of that line

	kind    string // detected format, kindUnknown, or "" before detection
	dec     parse.Decoder
	holding bool          // the format has continuation lines
	head    []source.Line // lines read before the format was known (copies)
	pending int64         // first line of the entry the decoder may hold; -1 none

	evs      []event.Event
	rejects  []Reject
	ready    []Batch
	lastData time.Time
	lastPos  int64 // last position handed to the tracker
}

func newStream(cfg *Config, m *Metrics, log *slog.Logger, file, id string, start int64, tr *ack.Tracker, fp func() (int, string)) *stream {
	s := &stream{cfg: cfg, m: m, log: log, file: file, id: id, tracker: tr, fp: fp,
		base: start, pending: -1, lastData: time.Now(), lastPos: start}
	if cfg.Format != parse.FormatAuto {
		s.setFormat(cfg.Format)
	}
	return s
}

// write consumes p (appended to whatever partial line is left over) and
// processes every complete line.
func (s *stream) write(p []byte, now time.Time) {
	s.lastData = now
	s.buf = append(s.buf, p...)
	consumed := 0
	for {
		rest := s.buf[consumed:]
		i := bytes.IndexByte(rest, '\n')
		if s.skipping {
			if i < 0 {
				s.base += int64(len(rest))
				consumed = len(s.buf)
				break
			}
			s.base += int64(i + 1)
			consumed += i + 1
			s.skipping = false
			continue
		}
		if i < 0 {
			if len(rest) > s.cfg.MaxLineBytes {
				// Report the over-long line now; its end is still to come.
				s.line(source.Line{Text: rest[:s.cfg.MaxLineBytes], File: s.file, Offset: s.base, Truncated: true})
				s.skipping, s.skipStart = true, s.base
				s.base += int64(len(rest))
				consumed = len(s.buf)
			}
			break
		}
		text := rest[:i]
		trunc := false
		if len(text) > s.cfg.MaxLineBytes {
			text, trunc = text[:s.cfg.MaxLineBytes], true
		}
		s.line(source.Line{Text: bytes.TrimSuffix(text, []byte{'\r'}), File: s.file, Offset: s.base, Truncated: trunc})
		s.base += int64(i + 1)
		consumed += i + 1
	}
	n := copy(s.buf, s.buf[consumed:])
	s.buf = s.buf[:n]
}

// line handles one complete physical line.
func (s *stream) line(l source.Line) {
	s.m.LinesRead.WithLabelValues(s.kindLabel()).Inc()
	s.m.BytesRead.WithLabelValues(s.kindLabel()).Add(float64(len(l.Text) + 1))
	if s.kind == "" {
		l.Text = bytes.Clone(l.Text)
		s.head = append(s.head, l)
		nonEmpty := 0
		for _, h := range s.head {
			if len(bytes.TrimSpace(h.Text)) > 0 {
				nonEmpty++
			}
		}
		if nonEmpty >= sampleLines {
			s.detect()
		}
		return
	}
	s.feed(l)
}

// detect names the format from the head lines and replays them.
func (s *stream) detect() {
	sample := make([][]byte, len(s.head))
	for i, l := range s.head {
		sample[i] = l.Text
	}
	f := formats.Detect(sample)
	if f == "" {
		f = kindUnknown
		s.log.Warn("unknown log format: every line goes to the dlq; name it with input.format", "file", s.file)
	}
	s.setFormat(f)
	head := s.head
	s.head = nil
	for _, l := range head {
		s.feed(l)
	}
}

func (s *stream) setFormat(f string) {
	s.kind = f
	if f == kindUnknown {
		return
	}
	fo := s.cfg.Formats
	fo.FallbackTime = time.Now().UnixNano()
	dec, err := formats.New(f, s.cfg.NewNormalizer(), fo)
	if err != nil {
		s.log.Warn("no decoder for format: every line goes to the dlq", "file", s.file, "format", f, "err", err)
		s.kind = kindUnknown
		return
	}
	s.dec = dec
	s.holding = f == parse.FormatCRDBV2 || f == parse.FormatDjangoText
}

func (s *stream) kindLabel() string {
	if s.kind == "" {
		return s.prefix + "detecting"
	}
	return s.prefix + s.kind
}

// feed hands one line to the decoder and keeps track of the first line
// of the entry the decoder may be holding.
func (s *stream) feed(l source.Line) {
	switch {
	case l.Truncated:
		s.reject(l, &parse.LineError{Reason: parse.ReasonTooLong, File: l.File, Offset: l.Offset,
			Detail: fmt.Sprintf("line longer than input.max_line_bytes (%d)", s.cfg.MaxLineBytes)})
	case s.dec == nil:
		s.reject(l, &parse.LineError{Reason: parse.ReasonUnknownFormat, File: l.File, Offset: l.Offset,
			Detail: "format not detected"})
	default:
		n := len(s.evs)
		var err error
		s.evs, err = s.dec.Feed(l, s.evs)
		s.completed(n)
		own := false
		for i := n; i < len(s.evs); i++ {
			own = own || s.evs[i].Origin.Offset == l.Offset
		}
		if err != nil {
			s.reject(l, err)
		}
		// Feed(l) returning l's own entry proves nothing is held. Returning
		// older entries (or an error) proves those ended before l, so l
		// may start the held entry. Returning nothing means l continues
		// the held entry, or starts one when none was held.
		switch {
		case !s.holding || own:
			s.pending = -1
		case len(s.evs) > n || err != nil:
			s.pending = l.Offset
		case s.pending < 0:
			s.pending = l.Offset
		}
	}
	if len(s.evs)+len(s.rejects) >= s.cfg.BatchEvents {
		s.cut()
	}
}

// completed stamps and counts the events appended since n.
func (s *stream) completed(n int) {
	now := time.Now().UnixNano()
	for i := n; i < len(s.evs); i++ {
		s.evs[i].IngestTime = now
	}
	if d := len(s.evs) - n; d > 0 {
		s.m.Events.WithLabelValues(s.kindLabel()).Add(float64(d))
	}
}

func (s *stream) reject(l source.Line, err error) {
	l.File = s.file
	r := NewReject(l, s.id, err)
	s.m.ParseErrors.WithLabelValues(s.kindLabel(), r.Reason).Inc()
	s.rejects = append(s.rejects, r)
}

// NewReject builds the Reject of err, raised while l (from the file with
// identity fileID) was being decoded: reason, detail and offset come from
// a *parse.LineError (reason read_error otherwise), and Line is a copy of
// l only when the error is about exactly l and l was not cut. ingest run
// and ingest import both build their DLQ records with it.
func NewReject(l source.Line, fileID string, err error) Reject {
	r := Reject{Reason: "read_error", Detail: err.Error(), File: l.File, FileID: fileID, Offset: l.Offset}
	var le *parse.LineError
	if errors.As(err, &le) {
		r.Reason, r.Detail, r.Offset = le.Reason, le.Detail, le.Offset
		if le.Offset == l.Offset && !l.Truncated {
			r.Line = bytes.Clone(l.Text)
		}
	}
	return r
}

// safe is the offset every byte before which has been handed on in full.
func (s *stream) safe() int64 {
	p := s.base
	if s.pending >= 0 {
		p = min(p, s.pending)
	}
	if len(s.head) > 0 {
		p = min(p, s.head[0].Offset)
	}
	if s.skipping {
		p = min(p, s.skipStart)
	}
	return p
}

// cut closes the current batch. An empty batch that only moves the
// position is acknowledged at once, in order, without leaving the reader.
func (s *stream) cut() {
	pos := s.safe()
	if len(s.evs) == 0 && len(s.rejects) == 0 && pos == s.lastPos {
		return
	}
	n, fp := s.fp()
	seq := s.tracker.Add(ack.Position{Offset: pos, FPLen: n, FP: fp, Source: s.kindLabel()})
	s.lastPos = pos
	if len(s.evs) == 0 && len(s.rejects) == 0 {
		s.tracker.Done(seq)
		return
	}
	tr := s.tracker
	s.ready = append(s.ready, Batch{Source: s.kindLabel(), Events: s.evs, Rejects: s.rejects, Done: func() { tr.Done(seq) }})
	s.evs = make([]event.Event, 0, min(s.cfg.BatchEvents, 256))
	s.rejects = nil
}

// idle is called when a read found no new data: after MultilineWait
// without data the format is decided and a held entry is flushed.
func (s *stream) idle(now time.Time) {
	if now.Sub(s.lastData) >= s.cfg.MultilineWait {
		if s.kind == "" && len(s.head) > 0 {
			s.detect()
		}
		if s.dec != nil && s.pending >= 0 {
			s.flush()
			s.m.Flushes.Inc()
		}
	}
	s.cut()
}

func (s *stream) flush() {
	n := len(s.evs)
	var err error
	s.evs, err = s.dec.Flush(s.evs)
	s.completed(n)
	if err != nil {
		s.reject(source.Line{File: s.file, Offset: max(s.pending, 0), Truncated: true}, err)
	}
	s.pending = -1
}

// finish ends the source: a last line without a newline is taken as
// complete, the format is decided and the decoder flushed.
func (s *stream) finish() {
	s.takeRest()
	s.stop()
}

// takeRest takes a last line without its newline as complete.
func (s *stream) takeRest() {
	if len(s.buf) > 0 && !s.skipping {
		s.line(source.Line{Text: bytes.TrimSuffix(s.buf, []byte{'\r'}), File: s.file, Offset: s.base})
	}
	s.base += int64(len(s.buf))
	s.buf = s.buf[:0]
	s.skipping = false
}

// stop ends a graceful shutdown of the source, after its last read: lines
// read before the format was known are decoded, and the entry the decoder
// holds is flushed as complete, exactly as after MultilineWait without new
// data. Unlike finish, a last line without its newline is not taken (the
// writer may be in the middle of it): the position stays at its start and
// the next run reads it. It reports whether anything came out of the
// decoder's flush.
func (s *stream) stop() bool {
	if s.kind == "" && len(s.head) > 0 {
		s.detect()
	}
	flushed := false
	if s.dec != nil {
		n := len(s.evs) + len(s.rejects)
		s.flush()
		flushed = len(s.evs)+len(s.rejects) > n
	}
	s.cut()
	return flushed
}

// restart begins the source again at offset 0 (the file was truncated).
// What the decoder holds belongs to the old content: it is complete.
func (s *stream) restart() {
	if s.kind == "" && len(s.head) > 0 {
		s.detect()
	}
	if s.dec != nil {
		s.flush()
	}
	s.cut()
	s.buf, s.base, s.skipping, s.pending, s.lastPos = s.buf[:0], 0, false, -1, 0
}
