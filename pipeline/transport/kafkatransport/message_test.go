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

// partition_key principal keeps the key ingest has always written
// (cluster/principal, falling back to address, session, node); cluster
// keys by cluster alone, never empty.
func TestPartitionKeys(t *testing.T) {
	evs := []event.Event{
		{Cluster: "c1", User: "alice", ClientAddr: "10.0.0.1", SessionID: "s1", Node: "1"},
		{Cluster: "c1", ClientAddr: "10.0.0.1", SessionID: "s1", Node: "1"},
		{Cluster: "c1", SessionID: "s1", Node: "1"},
		{Cluster: "c1", Node: "1"},
		{User: "bob", Source: "django"},
	}
	wantPrincipal := []string{"c1/alice", "c1/addr:10.0.0.1", "c1/session:s1", "c1/node:1", "/bob"}
	wantCluster := []string{"c1/", "c1/", "c1/", "c1/", "/"}
	enc := map[string]*Encoder{}
	for _, pk := range append([]string{""}, PartitionKeys...) {
		enc[pk] = &Encoder{Topics: DefaultConfig().Topics, MaxMessageBytes: 1 << 20, PartitionKey: pk}
	}
	for i := range evs {
		evs[i].V, evs[i].ID = event.SchemaVersion, "e"
		require.Equal(t, wantPrincipal[i], string(Key(&evs[i])))
		require.Equal(t, wantCluster[i], string(ClusterKey(&evs[i])))
		m, err := Encode(&evs[i])
		require.NoError(t, err)
		require.Equal(t, wantPrincipal[i], string(m.Key), "Encode keys by principal")
		for pk, e := range enc {
			m, ok, err := e.Event(&evs[i], "crdb")
			require.NoError(t, err)
			require.True(t, ok)
			want := wantPrincipal[i]
			if pk == PartitionKeyCluster {
				want = wantCluster[i]
			}
			require.Equal(t, want, string(m.Key), "partition_key %q, event %d", pk, i)
		}
	}
}

func TestPartitionKeyValidated(t *testing.T) {
	c := DefaultConfig()
	require.Equal(t, PartitionKeyPrincipal, c.Producer.PartitionKey)
	require.NoError(t, c.Validate())
	c.Producer.PartitionKey = PartitionKeyCluster
	require.NoError(t, c.Validate())
	c.Producer.PartitionKey = "user"
	require.EqualError(t, c.Validate(), `kafka.producer.partition_key: "user" is not one of principal, cluster`)
}
