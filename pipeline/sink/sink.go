// Package sink is the contract between analyze and the places its output
// goes: storage (ClickHouse, or a JSON-lines file until ClickHouse is
// wired) and alerting (the roachwatch.alerts topic). Implementations live
// in subpackages (filesink, clickhousesink) or next to their transport
// (kafkatransport.AlertSink) and import this package, never the reverse.
//
// # Model
//
// analyze hands a sink whole batches. A batch is the unit of
// acknowledgement: Kafka offsets are committed only after every sink has
// returned nil for every batch that covers them, so a sink's nil is a
// promise that the batch is durable in that sink (fsynced, acknowledged by
// all in-sync replicas, inserted). A sink never acknowledges part of a
// batch: it writes all of it and returns nil, or returns an error, and the
// caller retries the whole batch (possibly much later, possibly after a
// restart). Replays are therefore normal, and sinks must make them
// harmless: events carry deterministic ids and findings deterministic ids
// plus a version (Count, LastSeen), so "last version per id" is the
// reader's view of the findings and "one row per id" its view of events.
package sink

import (
	"context"
	"errors"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// Sink durably writes batches of events and findings.
//
// WriteEvents and WriteFindings block until the whole batch is durable in
// the sink or until they fail; they return nil only for a whole batch and
// never acknowledge part of one. On error nothing may be assumed written:
// the caller retries the same batch (with backoff) and the sink must
// tolerate seeing some or all of its items again. ctx bounds the call;
// when it ends the sink returns promptly with an error wrapping ctx.Err().
//
// The slices are only borrowed for the duration of the call: a sink that
// keeps data afterwards copies it. Sinks must not modify the items.
// Findings are versions: the same Finding.ID is written again each time
// the incident changes (a larger Count, a later LastSeen); readers keep the
// last version.
//
// Implementations are safe for concurrent use by several goroutines
// (analyze writes batches of different partitions in parallel). Close
// flushes and releases resources; it is called once, after the last
// write has returned.
type Sink interface {
	WriteEvents(ctx context.Context, evs []event.Event) error
	WriteFindings(ctx context.Context, fs []detectors.Finding) error
	Close() error
}

// ErrClosed is returned by writes to a sink that has been closed.
var ErrClosed = errors.New("sink: closed")

// Named is implemented by sinks that report a short, bounded name for
// metrics and logs ("file", "alerts", "clickhouse").
type Named interface {
	Name() string
}

// NameOf returns s's name, or "sink" when it has none.
func NameOf(s Sink) string {
	if n, ok := s.(Named); ok {
		return n.Name()
	}
	return "sink"
}
