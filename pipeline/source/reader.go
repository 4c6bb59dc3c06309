package source

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// LineReader splits a stream into Lines. Lines longer than max are
// returned cut to max bytes with Truncated set; the rest of such a line is
// skipped, so one huge line never costs more than max bytes of memory and
// never hides the lines after it. "\r\n" endings lose the "\r". A last line
// without a newline is returned too.
type LineReader struct {
	r      *bufio.Reader
	file   string
	max    int
	offset int64
	buf    []byte
	// Bytes counts bytes consumed so far.
	Bytes int64
}

// NewLineReader reads from r; file names the source in Lines.
func NewLineReader(r io.Reader, file string, max int) *LineReader {
	if max <= 0 {
		max = 16 << 20
	}
	size := 256 << 10
	if max < size {
		size = max
	}
	return &LineReader{r: bufio.NewReaderSize(r, size), file: file, max: max}
}

// Next returns the next line. The Line's Text is valid until the next call.
// It returns io.EOF after the last line.
func (lr *LineReader) Next() (Line, error) {
	start := lr.offset
	lr.buf = lr.buf[:0]
	truncated := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.offset += int64(len(chunk))
		lr.Bytes += int64(len(chunk))
		if !truncated {
			body := bytes.TrimSuffix(chunk, []byte{'\n'}) // the terminator does not count
			if len(lr.buf)+len(body) > lr.max {
				lr.buf = append(lr.buf, body[:lr.max-len(lr.buf)]...)
				truncated = true
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return lr.line(start, truncated), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if lr.offset == start {
				return Line{}, io.EOF
			}
			return lr.line(start, truncated), nil
		default:
			return Line{}, err
		}
	}
}

func (lr *LineReader) line(start int64, truncated bool) Line {
	b := lr.buf
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return Line{Text: b, File: lr.file, Offset: start, Truncated: truncated}
}
