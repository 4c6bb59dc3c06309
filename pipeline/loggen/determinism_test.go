package loggen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDeterministicForSeed(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	_, err := Generate(testConfig(a, 9))
	require.NoError(t, err)
	_, err = Generate(testConfig(b, 9))
	require.NoError(t, err)
	_, err = Generate(testConfig(c, 10))
	require.NoError(t, err)

	filesA, filesB := regularFiles(t, a), regularFiles(t, b)
	require.Equal(t, filesA, filesB)
	require.NotEmpty(t, filesA)
	for _, f := range filesA {
		x, err := os.ReadFile(filepath.Join(a, f))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, f))
		require.NoError(t, err)
		require.True(t, bytes.Equal(x, y), "%s differs between two runs with the same seed", f)
	}
	links, err := filepath.Glob(filepath.Join(a, "crdb", "*", "logs", "cockroach*.log"))
	require.NoError(t, err)
	for _, l := range links {
		if fi, err := os.Lstat(l); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			rel, _ := filepath.Rel(a, l)
			ta, err := os.Readlink(l)
			require.NoError(t, err)
			tb, err := os.Readlink(filepath.Join(b, rel))
			require.NoError(t, err)
			require.Equal(t, ta, tb)
		}
	}

	x, err := os.ReadFile(filepath.Join(a, "truth.json"))
	require.NoError(t, err)
	y, err := os.ReadFile(filepath.Join(c, "truth.json"))
	require.NoError(t, err)
	require.NotEqual(t, x, y, "a different seed must give different output")
}
