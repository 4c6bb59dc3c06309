package tail

import (
	"context"
	"log/slog"
	"os"
	"sort"
	"time"

	"roachwatch/pipeline/ack"
)

// readBudget bounds what one file may read per loop turn, so one busy
// file does not starve the others (rotated files are exempt: they are
// read to their end first).
const readBudget = 4 << 20

// Tailer follows files: it re-scans its paths every PollInterval, reads
// every file to its end, keeps following it, and hands Batches on. See
// doc.go for identity, rotation and the loss windows.
type Tailer struct {
	cfg      Config
	ckpt     *ack.Checkpointer
	m        *Metrics
	log      *slog.Logger
	files    map[string]*tailFile
	closed   map[string][]byte // ids read to the end and closed in this run -> their first bytes
	finished []Batch           // batches of files closed since the last send
	out      chan<- Batch
}

// New returns a tailer. ckpt supplies the resume positions and receives
// the trackers of every file.
func New(cfg Config, ckpt *ack.Checkpointer, m *Metrics, log *slog.Logger) *Tailer {
	cfg.defaults()
	return &Tailer{cfg: cfg, ckpt: ckpt, m: m, log: log, files: map[string]*tailFile{}, closed: map[string][]byte{}}
}

// Run tails until ctx ends, sending Batches to out, and closes out when it
// returns. Sending blocks when out is full: that is the backpressure, and
// reading pauses.
//
// When ctx ends (SIGINT/SIGTERM), reading stops at once and the tailer
// drains until drain ends (ingest passes the context of its shutdown
// grace): the held multi-line entry of every file read to its end is
// flushed as complete, as after MultilineWait, and every batch not yet
// sent is handed on, so once they are acknowledged the checkpoint moves
// past them and the next run neither loses nor repeats them. A last line
// without its newline is not taken; the checkpoint stays at its start. A
// file with unread data keeps its held entry pinned (its continuation
// lines may be in the unread part). Batches not handed on when
// drain ends are never acknowledged: the checkpoint stays before them and
// the next run reads them again, as after a crash. A drain context that
// is already done skips the drain (held entries stay pinned). Files are
// closed before Run returns. It returns nil after a cancellation.
func (t *Tailer) Run(ctx, drain context.Context, out chan<- Batch) error {
	t.out = out
	defer close(out)
	defer t.closeAll()
	t.scan()
	if n := t.ckpt.DropUnclaimed(); n > 0 {
		t.log.Info("dropped checkpoints of files that no longer exist", "files", n)
	}
	t.log.Info("tailing started", "files", len(t.files), "paths", len(t.cfg.Paths))
	nextScan := time.Now().Add(t.cfg.PollInterval)
loop:
	for ctx.Err() == nil {
		progressed := false
		for _, tf := range t.order() {
			n, err := t.step(ctx, tf)
			if err != nil {
				break loop // only ctx errors come back: a clean stop
			}
			progressed = progressed || n > 0
		}
		if now := time.Now(); !now.Before(nextScan) {
			t.scan()
			nextScan = now.Add(t.cfg.PollInterval)
		}
		if !progressed {
			select {
			case <-ctx.Done():
			case <-time.After(t.cfg.ReadInterval):
			}
		}
	}
	t.drain(drain)
	return nil
}

// drain is the end of a graceful stop: see Run.
func (t *Tailer) drain(ctx context.Context) {
	if ctx.Err() != nil {
		t.log.Warn("stopped without draining: held entries and unsent batches are read again at the next start")
		return
	}
	batches := t.finished
	t.finished = nil
	flushed := 0
	for _, tf := range t.order() {
		switch {
		case !tf.atEnd():
			// Unread data follows: the held entry may go on in it, and
			// flushing would split it. It stays pinned and is re-read
			// whole at the next start; what was decoded before it goes on.
			tf.s.cut()
			if tf.s.pending >= 0 {
				t.log.Info("file not read to its end at shutdown: its held entry is read again at the next start",
					"file", tf.path, "file_id", tf.id, "offset", tf.s.pending)
			}
		case tf.s.stop():
			flushed++
			t.log.Info("held entry flushed at shutdown", "file", tf.path, "file_id", tf.id)
		}
		batches = append(batches, tf.s.ready...)
		tf.s.ready = nil
	}
	t.m.ShutdownFlushes.Add(float64(flushed))
	for i, b := range batches {
		select {
		case t.out <- b:
		case <-ctx.Done():
			t.log.Warn("shutdown drain cut short: what was not handed on is read again at the next start",
				"batches", len(batches)-i)
			return
		}
	}
	t.log.Info("drained at shutdown", "held_entries_flushed", flushed, "batches", len(batches))
}

// order lists the open files, rotated-away ones first: they are finished
// before their successors get far.
func (t *Tailer) order() []*tailFile {
	out := make([]*tailFile, 0, len(t.files))
	for _, tf := range t.files {
		out = append(out, tf)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].orphan != out[j].orphan {
			return out[i].orphan
		}
		return out[i].path < out[j].path
	})
	return out
}

// step reads one file once and sends what became ready.
func (t *Tailer) step(ctx context.Context, tf *tailFile) (int, error) {
	budget := readBudget
	if tf.orphan {
		budget = 1 << 62
	}
	now := time.Now()
	n, eof, err := tf.read(budget, now)
	if err != nil {
		t.log.Warn("reading file failed; closing it", "file", tf.path, "file_id", tf.id, "err", err)
		t.finish(tf)
	} else if eof {
		tf.s.cut()
		if n == 0 {
			tf.s.idle(now)
			// A rotated file is done once it has been quiet for
			// multiline_wait: a writer may still append to its old fd
			// right after the rename.
			if tf.orphan && now.Sub(tf.s.lastData) >= t.cfg.MultilineWait {
				t.finish(tf)
			}
		}
	}
	return n, t.send(ctx, tf.s)
}

// send hands on the stream's ready batches and those of files finished
// since the last send. It blocks while out is full and fails only when
// ctx ends (the unsent batches are then never acknowledged).
func (t *Tailer) send(ctx context.Context, s *stream) error {
	batches := append(t.finished, s.ready...)
	t.finished, s.ready = nil, s.ready[:0]
	for i, b := range batches {
		select {
		case t.out <- b:
		case <-ctx.Done():
			t.finished = batches[i:]
			return ctx.Err()
		}
	}
	return nil
}

// finish ends a file: its last partial line and held entry are handed
// on, the file is closed, and a deleted file's checkpoint is dropped.
func (t *Tailer) finish(tf *tailFile) {
	tf.s.finish()
	t.finished = append(t.finished, tf.s.ready...)
	tf.s.ready = nil
	if tf.deleted() {
		t.ckpt.Forget(tf.id) // the inode may be reused: nothing to remember
	} else {
		t.closed[tf.id] = tf.head
	}
	_ = tf.f.Close()
	delete(t.files, tf.id)
	t.m.FilesOpen.Dec()
	t.log.Info("file finished", "file", tf.path, "file_id", tf.id, "offset", tf.off)
}

func (t *Tailer) closeAll() {
	for _, tf := range t.files {
		_ = tf.f.Close()
		t.m.FilesOpen.Dec()
	}
	clear(t.files)
}

// open starts tailing a newly found file.
func (t *Tailer) open(fd found) {
	f, err := os.Open(fd.path)
	if err != nil {
		t.log.Warn("opening file failed; retrying at the next scan", "file", fd.path, "err", err)
		return
	}
	fi, err := f.Stat()
	id, ok := fileID(fi)
	if err != nil || !ok || id != fd.id {
		_ = f.Close() // replaced between scan and open: the next scan sees the new one
		return
	}
	tf := &tailFile{id: id, path: fd.path, f: f}
	if err := tf.readHead(); err != nil {
		_ = f.Close()
		t.log.Warn("reading file head failed; retrying at the next scan", "file", fd.path, "err", err)
		return
	}
	var start int64
	if p, ok := t.ckpt.Resume(id); ok {
		var why string
		if start, why = tf.resumeAt(p, fi.Size()); why != "" {
			t.m.Truncations.Inc()
			t.log.Info("checkpoint not usable; reading from the start", "file", fd.path, "file_id", id, "reason", why)
		}
	}
	tf.off = start
	n, fp := tf.fp()
	tr := t.ckpt.Track(id, fd.path, ack.Position{Offset: start, FPLen: n, FP: fp})
	tf.s = newStream(&t.cfg, t.m, t.log, fd.path, id, start, tr, tf.fp)
	if tf.s.kind == "" {
		// Detect from the file's first lines, not from where reading
		// resumes: a resumed file may have only a few new lines.
		if f := detectFile(f); f != "" {
			tf.s.setFormat(f)
		}
	}
	t.files[id] = tf
	t.m.FilesOpen.Inc()
	t.log.Info("file opened", "file", fd.path, "file_id", id, "offset", start)
}
