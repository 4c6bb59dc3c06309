package detectors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// stateMagic starts a state file written by SaveState.
const stateMagic = "roachwatch-state/1\n"

// stateName names a detector in a state file: its first rule id.
func stateName(d Detector) string {
	if rs := d.Rules(); len(rs) > 0 {
		return rs[0].ID
	}
	return ""
}

// SaveState writes the state of every Stateful detector of ds to w: a
// magic line, then per detector its name and its snapshot, each
// length-prefixed.
func SaveState(w io.Writer, ds []Detector) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(stateMagic)
	var buf bytes.Buffer
	for _, d := range ds {
		s, ok := d.(Stateful)
		if !ok {
			continue
		}
		buf.Reset()
		if err := s.Snapshot(&buf); err != nil {
			return fmt.Errorf("snapshot of %s: %w", stateName(d), err)
		}
		writeChunk(bw, []byte(stateName(d)))
		writeChunk(bw, buf.Bytes())
	}
	return bw.Flush()
}

func writeChunk(w *bufio.Writer, b []byte) {
	var n [binary.MaxVarintLen64]byte
	w.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	w.Write(b)
}

// LoadState restores the detectors of ds from a file written by
// SaveState. Detectors absent from the file keep a fresh state; state for
// a detector that no longer exists is ignored.
func LoadState(r io.Reader, ds []Detector) error {
	br := bufio.NewReader(r)
	magic := make([]byte, len(stateMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != stateMagic {
		return errors.New("not a roachwatch state file")
	}
	byName := map[string]Stateful{}
	for _, d := range ds {
		if s, ok := d.(Stateful); ok {
			byName[stateName(d)] = s
		}
	}
	for {
		name, err := readChunk(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		blob, err := readChunk(br)
		if err != nil {
			return fmt.Errorf("state of %s: %w", name, err)
		}
		if s, ok := byName[string(name)]; ok {
			if err := s.Restore(bytes.NewReader(blob)); err != nil {
				return fmt.Errorf("restoring %s: %w", name, err)
			}
		}
	}
}

const maxChunk = 1 << 31

func readChunk(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxChunk {
		return nil, errors.New("corrupt state file: chunk too large")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("corrupt state file: %w", io.ErrUnexpectedEOF)
	}
	return b, nil
}

// SaveStateFile writes the state atomically: a temp file in the same
// directory, fsynced, then renamed over path.
func SaveStateFile(path string, ds []Detector) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := SaveState(tmp, ds); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// LoadStateFile restores from path; a missing file is a fresh start.
func LoadStateFile(path string, ds []Detector) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := LoadState(f, ds); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
