package tail

import (
	"bytes"
	"os"
)

// scan re-discovers the paths: new files are opened, files whose path
// now leads elsewhere (or nowhere) become orphans that are read to their
// end, renamed files keep their identity, and truncation is checked.
func (t *Tailer) scan() {
	seen := discover(t.cfg.Paths)
	byPath := make(map[string]string, len(seen))
	for id, fd := range seen {
		byPath[fd.path] = id
	}
	for id, tf := range t.files {
		if fd, ok := seen[id]; ok && fd.path != tf.path {
			t.log.Info("file renamed", "file", fd.path, "old_path", tf.path, "file_id", id)
			tf.path = fd.path
			t.ckpt.Rename(id, fd.path)
		}
		if _, ok := seen[id]; !ok && !tf.orphan {
			tf.orphan = true
			t.m.Rotations.Inc()
			t.log.Info("file rotated away; reading it to the end", "file", tf.path, "file_id", id,
				"replaced", byPath[tf.path] != "")
		}
		if tf.orphan {
			continue
		}
		trunc, err := tf.truncated()
		if err != nil {
			t.log.Warn("checking file for truncation failed", "file", tf.path, "err", err)
			continue
		}
		if trunc {
			t.m.Truncations.Inc()
			t.log.Info("file truncated; reading again from offset 0", "file", tf.path, "file_id", id, "offset", tf.off)
			tf.s.restart()
			tf.off = 0
			if err := tf.readHead(); err != nil {
				t.log.Warn("reading file head failed", "file", tf.path, "err", err)
			}
		}
	}
	for id, fd := range seen {
		if _, open := t.files[id]; open {
			continue
		}
		if head, done := t.closed[id]; done {
			if !reused(fd.path, head) {
				continue
			}
			delete(t.closed, id)
		}
		t.open(fd)
	}
	lag := map[string]float64{}
	for _, tf := range t.files {
		lag[tf.s.kindLabel()] += float64(tf.s.tracker.Lag())
	}
	t.m.Unacked.Reset()
	for k, v := range lag {
		t.m.Unacked.WithLabelValues(k).Set(v)
	}
}

// reused reports whether the file at path no longer starts with head: the
// inode of a finished file now belongs to a new file.
func reused(path string, head []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(head))
	n, _ := f.ReadAt(b, 0)
	return !bytes.Equal(b[:n], head)
}
