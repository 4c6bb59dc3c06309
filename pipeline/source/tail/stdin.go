package tail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"roachwatch/pipeline/ack"
)

// ReadStream reads one unseekable stream (stdin) to its end, handing
// Batches to out, and closes out when it returns. A held multi-line entry
// is flushed after MultilineWait without new data, and at EOF. There is no
// checkpoint: a stream cannot be resumed.
//
// When ctx ends first, reading stops and, until drain ends, what was
// already read is finished as at EOF (the held entry and a last line
// without its newline included: nothing could read them again) and
// handed on. The goroutine blocked in r.Read cannot be interrupted; it
// ends with the process (or when r returns).
func ReadStream(ctx, drain context.Context, cfg Config, r io.Reader, name string, m *Metrics, log *slog.Logger) (<-chan Batch, func() error) {
	cfg.defaults()
	out := make(chan Batch, 4)
	s := newStream(&cfg, m, log, name, "", 0, ack.NewTracker(ack.Position{}), func() (int, string) { return 0, "" })
	s.prefix = "stdin-"
	chunks := make(chan []byte, 4)
	var readErr error
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, readChunk)
			n, err := r.Read(buf)
			if n > 0 {
				select {
				case chunks <- buf[:n]:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err // read by the loop only after chunks is closed
				}
				return
			}
		}
	}()
	run := func() error {
		defer close(out)
		tick := time.NewTicker(cfg.ReadInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				stopStream(drain, out, s, chunks, m)
				return nil
			case b, ok := <-chunks:
				if !ok {
					s.finish()
					if err := sendAll(ctx, out, s); err != nil {
						return nil //nolint:nilerr // cancelled: a clean stop
					}
					if readErr != nil {
						return fmt.Errorf("reading %s: %w", name, readErr)
					}
					return nil
				}
				s.write(b, time.Now())
			case now := <-tick.C:
				s.idle(now)
			}
			if err := sendAll(ctx, out, s); err != nil {
				return nil //nolint:nilerr // cancelled: a clean stop
			}
		}
	}
	return out, run
}

func sendAll(ctx context.Context, out chan<- Batch, s *stream) error {
	for i, b := range s.ready {
		select {
		case out <- b:
		case <-ctx.Done():
			s.ready = s.ready[i:]
			return ctx.Err()
		}
	}
	s.ready = s.ready[:0]
	return nil
}

// stopStream is the graceful stop of ReadStream: the chunks already read
// are decoded, the stream is finished and its batches handed on until
// drain ends.
func stopStream(drain context.Context, out chan<- Batch, s *stream, chunks <-chan []byte, m *Metrics) {
	if drain.Err() != nil {
		return
	}
	for more := true; more; {
		select {
		case b, ok := <-chunks:
			if more = ok; ok {
				s.write(b, time.Now())
			}
		default:
			more = false
		}
	}
	s.takeRest()
	if s.stop() {
		m.ShutdownFlushes.Inc()
	}
	_ = sendAll(drain, out, s) // fails only when drain ends: the rest is lost with the stream
}
