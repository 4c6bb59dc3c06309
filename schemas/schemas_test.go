package schemas_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/schemas"
)

// Every event the parsers' golden files hold — real decoder output for
// every format and event type — must match the event schema.
func TestGoldenEventsMatchSchema(t *testing.T) {
	s, err := schemas.Compile(schemas.Event)
	require.NoError(t, err)
	files, err := filepath.Glob("../pipeline/parse/*/testdata/*/want.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 15, "golden files of both parsers")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var evs []json.RawMessage
		require.NoError(t, json.Unmarshal(b, &evs), f)
		for i, ev := range evs {
			require.NoError(t, schemas.Validate(s, ev), "%s: event %d", f, i)
			n++
		}
	}
	require.Greater(t, n, 100)
}

func TestSchemaRejectsBadEvents(t *testing.T) {
	s, err := schemas.Compile(schemas.Event)
	require.NoError(t, err)
	good := `{"v":1,"id":"0123456789abcdef0123456789abcdef","time":1,"source":"crdb","format":"crdb-v2","origin":{"offset":0},"type":"x"}`
	require.NoError(t, schemas.Validate(s, []byte(good)))
	for name, bad := range map[string]string{
		"missing id":    `{"v":1,"time":1,"source":"crdb","format":"crdb-v2","origin":{"offset":0},"type":"x"}`,
		"unknown field": `{"v":1,"id":"0123456789abcdef0123456789abcdef","time":1,"source":"crdb","format":"crdb-v2","origin":{"offset":0},"type":"x","statement":"SELECT 1"}`,
		"bad transport": `{"v":1,"id":"0123456789abcdef0123456789abcdef","time":1,"source":"crdb","format":"crdb-v2","origin":{"offset":0},"type":"x","transport":"tls"}`,
		"zero time":     `{"v":1,"id":"0123456789abcdef0123456789abcdef","time":0,"source":"crdb","format":"crdb-v2","origin":{"offset":0},"type":"x"}`,
	} {
		require.Error(t, schemas.Validate(s, []byte(bad)), name)
	}
}
