package tail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/parse/formats"
)

// fpSize is how many leading bytes identify a file's content, together
// with its device and inode.
const fpSize = 512

// readChunk is the size of one read.
const readChunk = 256 << 10

// fileID returns the identity of a file: "dev:inode".
func fileID(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), true
}

// FileID returns the identity ("dev:inode") of the file at path, the one
// run keys checkpoints and DLQ records by; "" when it cannot be had.
func FileID(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	id, _ := fileID(fi)
	return id
}

// fingerprint hashes b (a file's first bytes).
func fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// tailFile is one open file being tailed.
type tailFile struct {
	id     string
	path   string
	f      *os.File
	off    int64  // next byte to read
	head   []byte // the file's first bytes, up to fpSize
	s      *stream
	orphan bool // its path no longer leads to it (renamed away or deleted)
	buf    []byte
}

// readHead (re)reads the file's first bytes.
func (tf *tailFile) readHead() error {
	b := make([]byte, fpSize)
	n, err := tf.f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	tf.head = b[:n]
	return nil
}

func (tf *tailFile) fp() (int, string) { return len(tf.head), fingerprint(tf.head) }

// resumeAt checks a saved position against the file: it is used only when
// the file still starts with the fingerprinted bytes and is not shorter
// than the offset. Otherwise the inode was reused or the file truncated
// while ingest was down, and reading starts at 0.
func (tf *tailFile) resumeAt(p ack.Position, size int64) (int64, string) {
	switch {
	case p.FPLen > len(tf.head):
		return 0, "fingerprint longer than file: inode reused or file truncated"
	case fingerprint(tf.head[:p.FPLen]) != p.FP:
		return 0, "fingerprint mismatch: inode reused or file rewritten"
	case size < p.Offset:
		return 0, "file shorter than checkpoint: truncated"
	}
	return p.Offset, ""
}

// read reads up to budget bytes and feeds them to the stream. It reports
// how many bytes it read and whether it reached the end of the file.
func (tf *tailFile) read(budget int, now time.Time) (int, bool, error) {
	if tf.buf == nil {
		tf.buf = make([]byte, readChunk)
	}
	total := 0
	for total < budget {
		n, err := tf.f.ReadAt(tf.buf, tf.off)
		if n > 0 {
			tf.off += int64(n)
			total += n
			tf.s.write(tf.buf[:n], now)
			if len(tf.head) < fpSize {
				if herr := tf.readHead(); herr != nil {
					return total, false, herr
				}
			}
		}
		if errors.Is(err, io.EOF) || n == 0 {
			return total, true, nil
		}
		if err != nil {
			return total, false, err
		}
	}
	return total, false, nil
}

// atEnd reports whether everything the file holds now has been read.
func (tf *tailFile) atEnd() bool {
	fi, err := tf.f.Stat()
	return err == nil && fi.Size() == tf.off
}

// truncated reports whether the file was truncated or rewritten under us:
// it is now shorter than what was read, or its first bytes changed.
func (tf *tailFile) truncated() (bool, error) {
	fi, err := tf.f.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() < tf.off {
		return true, nil
	}
	if len(tf.head) == 0 {
		return false, nil
	}
	b := make([]byte, len(tf.head))
	n, err := tf.f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return !bytes.Equal(b[:n], tf.head), nil
}

// deleted reports whether the file has no name left.
func (tf *tailFile) deleted() bool {
	fi, err := tf.f.Stat()
	if err != nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}

// detectFile names the format of f from its first complete lines (up to
// 64 KiB), "" when they do not suffice (yet).
func detectFile(f *os.File) string {
	b := make([]byte, 64<<10)
	n, _ := f.ReadAt(b, 0)
	b = b[:n]
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	} else {
		return ""
	}
	return formats.Detect(bytes.Split(b, []byte{'\n'}))
}
