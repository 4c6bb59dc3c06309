package ack

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Checkpointer owns the checkpoint file: it remembers what was loaded at
// start, tracks the files being read in this run, and writes the
// committed positions every interval and once more when Run ends. Safe
// for concurrent use.
type Checkpointer struct {
	path     string
	interval time.Duration
	log      *slog.Logger
	m        *metrics

	mu      sync.Mutex
	loaded  map[string]FileState // from the file at start, not yet claimed by a tracker
	tracked map[string]*tracked
	last    map[string]FileState // what the file holds now
}

type tracked struct {
	t    *Tracker
	path string
}

type metrics struct {
	writes   prometheus.Counter
	failures prometheus.Counter
}

// NewCheckpointer loads the checkpoint file at path (missing: empty). An
// empty path disables persistence: positions are tracked but never
// written (stdin and one-shot imports).
func NewCheckpointer(path string, interval time.Duration, reg prometheus.Registerer, log *slog.Logger) (*Checkpointer, error) {
	loaded := map[string]FileState{}
	if path != "" {
		var err error
		if loaded, err = Load(path); err != nil {
			return nil, err
		}
	}
	f := promauto.With(reg)
	return &Checkpointer{
		path: path, interval: interval, log: log,
		m: &metrics{
			writes: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_checkpoint_writes_total",
				Help: "Checkpoint files written (each holds only Kafka-acknowledged positions)."}),
			failures: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_checkpoint_commit_failures_total",
				Help: "Checkpoint writes that failed; the previous checkpoint file stays in place."}),
		},
		loaded: loaded, tracked: map[string]*tracked{}, last: maps.Clone(loaded),
	}, nil
}

// Resume returns the saved position of file id, if any.
func (c *Checkpointer) Resume(id string) (Position, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.loaded[id]
	return s.Position, ok
}

// Track starts tracking file id (read from path) at position start and
// returns its tracker. A second call for the same id replaces the first
// (the caller restarted the file).
func (c *Checkpointer) Track(id, path string, start Position) *Tracker {
	t := NewTracker(start)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.loaded, id)
	c.tracked[id] = &tracked{t: t, path: path}
	return t
}

// Rename records that file id is now seen under path.
func (c *Checkpointer) Rename(id, path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tr := c.tracked[id]; tr != nil {
		tr.path = path
	}
}

// Forget drops file id (deleted, or its last byte acknowledged and gone).
func (c *Checkpointer) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tracked, id)
	delete(c.loaded, id)
}

// DropUnclaimed forgets loaded entries no tracker claimed: files that no
// longer exist under any watched path. Call it after the first scan.
func (c *Checkpointer) DropUnclaimed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.loaded)
	clear(c.loaded)
	return n
}

// snapshot builds the content of the checkpoint file.
func (c *Checkpointer) snapshot(now time.Time) map[string]FileState {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]FileState, len(c.loaded)+len(c.tracked))
	maps.Copy(out, c.loaded)
	for id, tr := range c.tracked {
		p := tr.t.Committed()
		st := FileState{Position: p, Path: tr.path, Updated: now}
		if old, ok := c.last[id]; ok && old.Position == p && old.Path == tr.path {
			st.Updated = old.Updated
		}
		out[id] = st
	}
	return out
}

// Sync writes the checkpoint file if anything changed.
func (c *Checkpointer) Sync() error {
	if c.path == "" {
		return nil
	}
	snap := c.snapshot(time.Now().UTC())
	c.mu.Lock()
	same := maps.Equal(snap, c.last)
	c.mu.Unlock()
	if same {
		return nil
	}
	if err := Save(c.path, snap); err != nil {
		c.m.failures.Inc()
		return err
	}
	c.m.writes.Inc()
	c.mu.Lock()
	c.last = snap
	c.mu.Unlock()
	return nil
}

// Run writes the checkpoint file every interval until ctx ends, then once
// more. Write failures are logged and retried at the next tick (the old
// file stays valid); only the final write's error is returned.
func (c *Checkpointer) Run(ctx context.Context) error {
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return c.Sync()
		case <-tick.C:
			if err := c.Sync(); err != nil {
				c.log.Warn("checkpoint write failed", "err", err)
			}
		}
	}
}
