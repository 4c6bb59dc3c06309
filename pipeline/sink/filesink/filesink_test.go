package filesink

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
)

// A process killed in the middle of a write leaves a partial last line;
// reopening cuts it so the next batch starts on a line of its own.
func TestReopenCutsTornLastLine(t *testing.T) {
	for _, tc := range []struct {
		name, before, want string
	}{
		{name: "clean", before: "{\"id\":\"a\"}\n", want: "{\"id\":\"a\"}\n"},
		{name: "torn", before: "{\"id\":\"a\"}\n{\"id\":\"b\",\"cou", want: "{\"id\":\"a\"}\n"},
		{name: "only a fragment", before: "{\"id\":", want: ""},
		{name: "torn after a long line", before: "{\"id\":\"" + strings.Repeat("x", 200<<10) + "\"}\n{", want: "{\"id\":\"" + strings.Repeat("x", 200<<10) + "\"}\n"},
		{name: "empty", before: "", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.jsonl")
			require.NoError(t, os.WriteFile(p, []byte(tc.before), 0o600))
			s, err := New(Config{FindingsPath: p, NoSync: true})
			require.NoError(t, err)
			require.NoError(t, s.WriteFindings(context.Background(), []detectors.Finding{{ID: "c"}}))
			require.NoError(t, s.Close())
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(string(b), tc.want), "kept lines")
			rest := strings.TrimPrefix(string(b), tc.want)
			require.True(t, strings.HasPrefix(rest, "{\"id\":\"c\""), "the next line starts cleanly: %.80q", rest)
			require.Equal(t, 1, strings.Count(rest, "\n"))
		})
	}
}
