package catalog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProbeFileRoundTripAndMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.probe.json")
	c := Config{ProbeFile: path, Plaintext: []string{"legacy.notes"}}

	// Not written yet: valid, and the catalog is the config's.
	require.NoError(t, c.Validate())
	require.False(t, New(c).Plaintext("customers", "ssn"))
	require.True(t, New(c).Plaintext("legacy", "notes"))

	require.NoError(t, WriteProbeFile(path, &ProbeFile{GeneratedAt: time.Now(), Endpoints: []string{"n1"},
		Plaintext: []string{"app.customers.ssn"}, Encrypted: []string{"app.customers.api_token"}, Hashed: []string{"app.customers.password"}}))
	p, err := LoadProbeFile(path)
	require.NoError(t, err)
	require.Equal(t, ProbeFileVersion, p.Version)
	require.NoError(t, c.Validate())
	k := New(c)
	require.True(t, k.Plaintext("customers", "ssn"))
	require.True(t, k.Plaintext("shop.app.customers", "SSN"))
	require.True(t, k.Plaintext("legacy", "notes"))
	require.True(t, k.MustEncrypt("customers", "api_token"))
	require.True(t, k.Sensitive("customers", "password"))
	require.Equal(t, []string{"legacy.notes"}, c.Plaintext, "Merge does not modify the config")

	require.NoError(t, os.WriteFile(path, []byte(`{"version": 99}`), 0o600))
	require.ErrorContains(t, c.Validate(), "catalog.probe_file")
	require.ErrorContains(t, c.Validate(), "version 99")
}
