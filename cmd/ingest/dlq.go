package main

import (
	"context"
	"sync"

	"github.com/segmentio/kafka-go"

	"roachwatch/pipeline/source"
	"roachwatch/pipeline/source/tail"
	"roachwatch/pipeline/transport/kafkatransport"
)

// handOff gives msgs to the producer as one batch, holding a
// max_in_flight token until Kafka acknowledged it. It blocks while
// max_in_flight hand-offs are unacknowledged, and fails only when hard
// ends.
func (s *shipper) handOff(hard context.Context, kout chan<- kafkatransport.Batch, msgs []kafka.Message) error {
	if err := s.acquire(hard); err != nil {
		return err
	}
	select {
	case kout <- kafkatransport.Batch{Msgs: msgs, Done: s.release}:
		return nil
	case <-hard.Done():
		s.release()
		return hard.Err()
	}
}

// rejectFeed sends the lines import could not parse to the DLQ, with the
// record ingest run writes for them (tail.NewReject, shipper.reject: same
// reason, detail, position, file id and keyed line hash, never the raw
// line unless redaction.keep_raw). The runner calls onError from its file
// goroutines, concurrently; records go on in batches of up to max, and a
// full hand-off blocks the decoding goroutine (backpressure).
type rejectFeed struct {
	ship *shipper
	ids  map[string]string // path -> file id ("dev:inode"); read-only
	hard context.Context
	kout chan<- kafkatransport.Batch
	max  int

	mu   sync.Mutex
	msgs []kafka.Message
	err  error // first failed hand-off: the import fails
}

func newRejectFeed(ship *shipper, files []source.File, hard context.Context, kout chan<- kafkatransport.Batch, max int) *rejectFeed {
	ids := make(map[string]string, len(files))
	for _, f := range files {
		ids[f.Path] = tail.FileID(f.Path)
	}
	return &rejectFeed{ship: ship, ids: ids, hard: hard, kout: kout, max: max}
}

// onError is runner.Options.OnError.
func (f *rejectFeed) onError(format string, l source.Line, err error) {
	m := f.ship.reject(tail.NewReject(l, f.ids[l.File], err), format)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, m)
	if len(f.msgs) >= f.max {
		f.flushLocked()
	}
}

// flush hands on what is gathered and reports the first failed hand-off.
func (f *rejectFeed) flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushLocked()
	return f.err
}

func (f *rejectFeed) flushLocked() {
	msgs := f.msgs
	f.msgs = nil
	if len(msgs) == 0 || f.err != nil {
		return
	}
	f.err = f.ship.handOff(f.hard, f.kout, msgs)
}
