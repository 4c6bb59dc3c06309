// Package filesink is the storage sink used until ClickHouse is wired:
// findings (and optionally events) appended as JSON lines to local files.
//
// Model: every WriteFindings call appends one line per finding version
// (the same id appears again whenever the incident changes; readers keep
// the last line per id), every WriteEvents call one line per event. A call
// returns nil only after its lines are written and the file is fsynced,
// which is the acknowledgement analyze waits for before it commits Kafka
// offsets. A failed call may leave a partial tail of lines behind; the
// batch is then retried whole, so readers must deduplicate events by id and
// findings by (id, last line) — both are deterministic, so duplicates are
// identical lines. Files are opened in append mode: a restart continues
// them.
package filesink
