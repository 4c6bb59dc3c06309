package ack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// storeVersion is the version of the checkpoint file's JSON form.
const storeVersion = 1

// FileState is one file's entry in the checkpoint file.
type FileState struct {
	Position
	Path    string    `json:"path"` // last path the file was seen under (informational)
	Updated time.Time `json:"updated"`
}

type storeFile struct {
	Version int                  `json:"version"`
	Files   map[string]FileState `json:"files"` // by file id "dev:inode"
}

// Load reads the checkpoint file at path. A missing file is an empty
// checkpoint set, not an error.
func Load(path string) (map[string]FileState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]FileState{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints %s: %w", path, err)
	}
	var s storeFile
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decoding checkpoints %s: %w (move it away to start from the beginning of every file)", path, err)
	}
	if s.Version != storeVersion {
		return nil, fmt.Errorf("checkpoints %s: version %d, this ingest reads %d", path, s.Version, storeVersion)
	}
	if s.Files == nil {
		s.Files = map[string]FileState{}
	}
	return s.Files, nil
}

// Save writes files to path atomically: a temp file in the same directory
// is written and fsynced, renamed over path, and the directory is fsynced
// so the rename itself survives a power cut.
func Save(path string, files map[string]FileState) error {
	b, err := json.MarshalIndent(storeFile{Version: storeVersion, Files: files}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding checkpoints: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing checkpoints: %w", err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(append(b, '\n'))
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("writing checkpoints %s: %w", name, err)
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("replacing checkpoints %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing checkpoint dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing checkpoint dir %s: %w", dir, err)
	}
	return nil
}
