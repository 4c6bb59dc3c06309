package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/internal/cli"
	"roachwatch/pipeline/sink/clickhousesink"
)

// clickhouseRoot is the analyze root with the ClickHouse commands, as
// main.go will wire them.
func clickhouseRoot(args ...string) (*bytes.Buffer, *bytes.Buffer, error) {
	root := newRoot()
	root.AddCommand(newMigrateCmd(), newQueryCmd())
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.Execute()
	return &stdout, &stderr, err
}

func TestQueryList(t *testing.T) {
	out, _, err := clickhouseRoot("query", "--list")
	require.NoError(t, err)
	qs, err := clickhousesink.Queries()
	require.NoError(t, err)
	for _, q := range qs {
		require.Contains(t, out.String(), q.Name+"\n  "+q.Question)
	}
	require.Contains(t, out.String(), "--param session_id=String (required)")
	require.Contains(t, out.String(), `--param factor=Float64 (default "3")`)
}

func TestQueryUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"query":                     "name the query to run",
		"query x --format xml":      `--format: "xml"`,
		"query x --since yesterday": `--since: "yesterday"`,
		"query x --param novalue":   `--param "novalue": want name=value`,
		"migrate extra":             "migrate takes no arguments",
		"query a b":                 "query takes one query name",
	} {
		_, _, err := clickhouseRoot(strings.Fields(args)...)
		require.ErrorContains(t, err, want, args)
		require.Equal(t, cli.ExitUsage, cli.Code(err), args)
	}
}

func TestParseWhen(t *testing.T) {
	ref := time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h":                       ref.Add(-24 * time.Hour),
		"7d":                        ref.Add(-7 * 24 * time.Hour),
		"90m":                       ref.Add(-90 * time.Minute),
		"2025-06-09":                time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC),
		"2025-06-09 12:30:00":       time.Date(2025, 6, 9, 12, 30, 0, 0, time.UTC),
		"2025-06-09T12:30:00Z":      time.Date(2025, 6, 9, 12, 30, 0, 0, time.UTC),
		"2025-06-09T14:30:00+02:00": time.Date(2025, 6, 9, 12, 30, 0, 0, time.UTC),
	} {
		got, err := parseWhen(in, ref)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: %s", in, got)
	}
	_, err := parseWhen("7days", ref)
	require.Error(t, err)
}

func TestPrintTable(t *testing.T) {
	tb := &clickhousesink.Table{
		Columns: []string{"client", "user", "apps", "n", "first"},
		Rows: [][]any{{netip.MustParseAddr("::ffff:10.0.0.1"), "web", []string{"a", "b"}, uint64(3),
			time.Date(2025, 6, 9, 1, 2, 3, 4, time.UTC)}},
	}
	var b bytes.Buffer
	require.NoError(t, printTable(&b, tb, "table"))
	require.Contains(t, b.String(), "10.0.0.1")
	require.Contains(t, b.String(), "a,b")
	require.Contains(t, b.String(), "2025-06-09 01:02:03.000000004")
	require.Contains(t, b.String(), "(1 rows)")
	b.Reset()
	require.NoError(t, printTable(&b, tb, "csv"))
	require.Equal(t, "client,user,apps,n,first\n10.0.0.1,web,\"a,b\",3,2025-06-09 01:02:03.000000004\n", b.String())
	b.Reset()
	require.NoError(t, printTable(&b, tb, "json"))
	require.JSONEq(t, `{"client":"10.0.0.1","user":"web","apps":["a","b"],"n":3,"first":"2025-06-09T01:02:03.000000004Z"}`, b.String())
}
