package kafkatransport

import (
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
)

// The wire form uses goccy/go-json for speed; it must be byte-identical
// to encoding/json for every event the parsers produce (the golden files
// of both parsers), and Decode must give back the same event.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	files, err := filepath.Glob("../../parse/*/testdata/*/want.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var evs []event.Event
		require.NoError(t, stdjson.Unmarshal(b, &evs), f)
		for i := range evs {
			want, err := stdjson.Marshal(&evs[i])
			require.NoError(t, err)
			m, err := Encode(&evs[i])
			require.NoError(t, err)
			require.Equal(t, string(want), string(m.Value), "%s event %d", f, i)
			var back event.Event
			require.NoError(t, Decode(m, &back))
			require.Equal(t, evs[i], back)
			n++
		}
	}
	require.Greater(t, n, 100)
}

func TestDecodeRejectsOtherSchemaVersions(t *testing.T) {
	ev := event.Event{V: event.SchemaVersion, ID: "x", Time: 1, Source: "crdb"}
	m, err := Encode(&ev)
	require.NoError(t, err)
	m.Headers[0].Value = []byte("99")
	require.ErrorContains(t, Decode(m, &ev), "schema version 99")
}
