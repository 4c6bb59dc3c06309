package loggen

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testConfig is a small two-day run in dir.
func testConfig(dir string, seed uint64) Config {
	cfg := DefaultConfig()
	cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, seed, 2, 6000
	cfg.Start = time.Date(2025, 6, 13, 0, 0, 0, 0, time.UTC) // Friday: spans a weekend day
	return cfg
}

var (
	sharedOnce  sync.Once
	sharedDir   string
	sharedTruth *Truth
	sharedErr   error
)

// sharedRun generates one data set for the read-only format tests.
func sharedRun(t *testing.T) (string, *Truth) {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "loggen-test-")
		if err != nil {
			sharedErr = err
			return
		}
		sharedDir = dir
		sharedTruth, sharedErr = Generate(testConfig(dir, 42))
	})
	require.NoError(t, sharedErr)
	return sharedDir, sharedTruth
}

// TestMain removes the shared data set.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// regularFiles lists files (not symlinks) under dir, relative.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	}))
	return out
}
