package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ProbeFileVersion is the version of the probe file format this package
// reads and writes.
const ProbeFileVersion = 1

// ProbeFile is what `analyze probe` learned about sensitive columns, as
// JSON (catalog.probe_file). It holds verdicts and class counts only,
// never a sampled value. Column names are "schema.table.column"; the
// catalog compares their last two parts like every other entry.
type ProbeFile struct {
	Version     int           `json:"version"`
	GeneratedAt time.Time     `json:"generated_at"`
	Endpoints   []string      `json:"endpoints"`
	Plaintext   []string      `json:"plaintext"` // sensitive columns with plaintext values
	Encrypted   []string      `json:"encrypted"` // sensitive columns holding only ciphertext
	Hashed      []string      `json:"hashed"`    // sensitive columns holding one-way password hashes
	Columns     []ProbeColumn `json:"columns"`   // every sensitive column seen, with its evidence
}

// ProbeColumn is the evidence for one column.
type ProbeColumn struct {
	Endpoint string         `json:"endpoint"`
	Column   string         `json:"column"` // schema.table.column
	DataType string         `json:"data_type"`
	Verdict  string         `json:"verdict"` // plaintext, encrypted, hashed, empty, error
	Sampled  int            `json:"sampled"`
	Nulls    int            `json:"nulls"`
	Classes  map[string]int `json:"classes,omitempty"`
}

// LoadProbeFile reads a probe file. A missing file is reported with an
// error that matches fs.ErrNotExist.
func LoadProbeFile(path string) (*ProbeFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p ProbeFile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: not a probe catalog file: %w", path, err)
	}
	if p.Version != ProbeFileVersion {
		return nil, fmt.Errorf("%s: probe catalog file version %d, want %d (re-run analyze probe)", path, p.Version, ProbeFileVersion)
	}
	return &p, nil
}

// WriteProbeFile writes p to path atomically (temporary file, then rename).
func WriteProbeFile(path string, p *ProbeFile) error {
	p.Version = ProbeFileVersion
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".probe-*.json")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Merge returns c enriched by probe results: plaintext columns join
// Plaintext, columns seen holding only ciphertext join MustEncrypt (a
// plaintext write to them would be a regression), and every column the
// probe classified joins Columns. c itself is not modified.
func (c Config) Merge(p *ProbeFile) Config {
	if p == nil {
		return c
	}
	out := c
	out.Plaintext = append(append([]string(nil), c.Plaintext...), p.Plaintext...)
	out.MustEncrypt = append(append([]string(nil), c.MustEncrypt...), p.Encrypted...)
	out.Columns = append(append([]string(nil), c.Columns...), p.Hashed...)
	return out
}

// loadProbe returns c merged with its probe file. A probe file that does
// not exist yet (the probe has not run) leaves c as it is; Validate has
// already rejected a file that exists but cannot be read.
func (c Config) loadProbe() Config {
	if c.ProbeFile == "" {
		return c
	}
	p, err := LoadProbeFile(c.ProbeFile)
	if err != nil {
		return c
	}
	return c.Merge(p)
}

// validateProbeFile reports a probe file that exists but cannot be used.
func (c Config) validateProbeFile() error {
	if c.ProbeFile == "" {
		return nil
	}
	if _, err := LoadProbeFile(c.ProbeFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("catalog.probe_file: %w", err)
	}
	return nil
}
