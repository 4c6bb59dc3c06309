package tail

import (
	"time"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
)

// Config configures a Tailer or a stdin reader. The zero values of the
// durations and sizes get the documented defaults.
type Config struct {
	Paths         []string // files, directories (walked) and globs; re-scanned every PollInterval
	Format        string   // parse.FormatAuto or a forced format
	Formats       formats.Options
	NewNormalizer func() *parse.Normalizer // one per file: normalizers are not concurrency-safe
	MaxLineBytes  int                      // longer lines are cut and rejected as too_long (default 16 MiB)
	PollInterval  time.Duration            // path re-scan and rotation check (default 1s)
	MultilineWait time.Duration            // a held entry is flushed after this long without new data (default 2s)
	ReadInterval  time.Duration            // how often files at EOF are read again (default 100ms)
	BatchEvents   int                      // events and rejects per Batch (default 1000)
}

func (c *Config) defaults() {
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = 16 << 20
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.MultilineWait <= 0 {
		c.MultilineWait = 2 * time.Second
	}
	if c.ReadInterval <= 0 {
		c.ReadInterval = min(100*time.Millisecond, c.PollInterval)
	}
	if c.BatchEvents <= 0 {
		c.BatchEvents = 1000
	}
	if c.Format == "" {
		c.Format = parse.FormatAuto
	}
}

// Batch is what a reader hands on: the events and rejected lines decoded
// from a contiguous part of one source, in file order. Done must be called
// exactly once, when everything in the batch is durable (acknowledged by
// Kafka); the source's checkpoint then may move past the batch. The
// receiver owns Events and Rejects.
type Batch struct {
	Source  string // bounded source kind for metrics: the format, "unknown" or "stdin-<format>"
	Events  []event.Event
	Rejects []Reject
	Done    func()
}

// Reject is a line (or entry) that could not be parsed. It must reach the
// DLQ and be counted; it is never dropped silently.
type Reject struct {
	Reason string // parse.Reason* (bounded)
	Detail string // never holds line content
	File   string // path the line was read from
	FileID string // "dev:inode", "" for stdin
	Offset int64
	// Line is a copy of the offending physical line when the error is
	// about exactly that line (nil for a reassembled entry). It may hold
	// secrets: the DLQ encoder decides whether to keep it or only a keyed
	// hash of it.
	Line []byte
}
