package detectors_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/detectors/tlsrule"
	"roachwatch/pipeline/event"
)

// counter is a Stateful test detector at our own seam.
type counter struct{ n byte }

func (c *counter) Rules() []detectors.Rule { return []detectors.Rule{{ID: "RW-TEST-001"}} }
func (c *counter) Observe(_ *event.Event, out []detectors.Finding) []detectors.Finding {
	c.n++
	return out
}
func (c *counter) Snapshot(w io.Writer) error { _, err := w.Write([]byte{c.n}); return err }
func (c *counter) Restore(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil || len(b) != 1 {
		return io.ErrUnexpectedEOF
	}
	c.n = b[0]
	return nil
}

func TestStateRoundTrip(t *testing.T) {
	a := &counter{}
	for i := 0; i < 7; i++ {
		a.Observe(nil, nil)
	}
	path := filepath.Join(t.TempDir(), "state")
	ds := []detectors.Detector{tlsrule.New(tlsrule.DefaultConfig()), a}
	require.NoError(t, detectors.SaveStateFile(path, ds))
	b := &counter{}
	require.NoError(t, detectors.LoadStateFile(path, []detectors.Detector{tlsrule.New(tlsrule.DefaultConfig()), b}))
	require.Equal(t, byte(7), b.n)

	require.NoError(t, detectors.LoadStateFile(filepath.Join(t.TempDir(), "missing"), ds), "a missing file is a fresh start")
	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
	require.ErrorContains(t, detectors.LoadStateFile(path, ds), "not a roachwatch state file")
	var buf bytes.Buffer
	require.NoError(t, detectors.SaveState(&buf, ds))
	trunc := buf.Bytes()[:buf.Len()-1]
	require.Error(t, detectors.LoadState(bytes.NewReader(trunc), []detectors.Detector{&counter{}}))
}
