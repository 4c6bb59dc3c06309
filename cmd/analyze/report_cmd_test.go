package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/internal/cli"
	"roachwatch/schemas"
)

// runReport runs `analyze report` built directly (main.go wires it into
// the root command).
func runReport(t *testing.T, args ...string) error {
	t.Helper()
	cmd := newReportCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&strings.Builder{})
	cmd.SetErr(&strings.Builder{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.Execute()
}

func TestReportCmd(t *testing.T) {
	td := filepath.Join("..", "..", "report", "testdata", "hostile")
	out := t.TempDir()
	for _, format := range []string{"html", "md", "json"} {
		path := filepath.Join(out, "report."+format)
		require.NoError(t, runReport(t, "--since", "3d", "--until", "2025-06-11", "--format", format, "--out", path,
			"--findings", filepath.Join(td, "findings.jsonl"), "--events", filepath.Join(td, "events.jsonl"),
			"--generated-at", "2025-06-12T09:00:00Z"))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NotEmpty(t, b)
		if format == "json" {
			s, err := schemas.Compile(schemas.Report)
			require.NoError(t, err)
			require.NoError(t, schemas.Validate(s, b))
			require.Contains(t, string(b), `"generated_at": "2025-06-12T09:00:00Z"`)
			require.Contains(t, string(b), `"to": "2025-06-11T23:59:59.999999999Z"`)
		}
	}
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	require.Len(t, entries, 3, "no temporary files left behind")
}

func TestReportCmdUsage(t *testing.T) {
	td := filepath.Join("..", "..", "report", "testdata")
	for name, args := range map[string][]string{
		"bad since":    {"--since", "week", "--out", "-", "--findings", filepath.Join(td, "hostile", "findings.jsonl")},
		"bad format":   {"--format", "pdf", "--out", "-", "--findings", filepath.Join(td, "hostile", "findings.jsonl")},
		"no out":       {"--findings", filepath.Join(td, "hostile", "findings.jsonl")},
		"no findings":  {"--out", "-"},
		"missing file": {"--out", "-", "--findings", filepath.Join(td, "nope.jsonl")},
		"no data":      {"--out", "-", "--findings", filepath.Join(td, "empty", "findings.jsonl")},
		"bad until":    {"--until", "yesterday", "--out", "-", "--findings", filepath.Join(td, "hostile", "findings.jsonl")},
	} {
		t.Run(name, func(t *testing.T) {
			err := runReport(t, args...)
			require.Error(t, err)
			require.Equal(t, cli.ExitUsage, cli.Code(err), err.Error())
		})
	}
}

func TestParseSpan(t *testing.T) {
	for in, want := range map[string]string{"7d": "168h0m0s", "2w": "336h0m0s", "36h": "36h0m0s"} {
		d, err := parseSpan(in)
		require.NoError(t, err)
		require.Equal(t, want, d.String())
	}
	for _, bad := range []string{"0d", "-1d", "d", "x"} {
		_, err := parseSpan(bad)
		require.Error(t, err, bad)
	}
}
