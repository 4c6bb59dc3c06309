package runner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/source"
)

func TestSequences(t *testing.T) {
	files := []source.File{
		{Path: "n1/logs/cockroach-sql-exec.db-node-1.cockroach.2025-06-09T10_00_00Z.004127.log"},
		{Path: "n1/logs/cockroach-sql-exec.db-node-1.cockroach.2025-06-09T08_00_00Z.004127.log"},
		{Path: "n1/logs/cockroach-sql-audit.db-node-1.cockroach.2025-06-09T08_00_00Z.004127.log"},
		{Path: "n2/logs/cockroach-sql-exec.db-node-2.cockroach.2025-06-09T08_00_00Z.000311.log"},
		{Path: "n1/logs/cockroach.db-node-1.cockroach.2025-06-09T08_00_00Z.004127.log"},
		{Path: "django/app.json.log"},
		{Path: "django/app.log"},
	}
	got := Sequences(files)
	paths := make([][]string, len(got))
	for i, seq := range got {
		for _, f := range seq {
			paths[i] = append(paths[i], f.Path)
		}
	}
	require.Equal(t, [][]string{
		{"django/app.json.log"},
		{"django/app.log"},
		{"n1/logs/cockroach-sql-audit.db-node-1.cockroach.2025-06-09T08_00_00Z.004127.log"},
		{"n1/logs/cockroach-sql-exec.db-node-1.cockroach.2025-06-09T08_00_00Z.004127.log",
			"n1/logs/cockroach-sql-exec.db-node-1.cockroach.2025-06-09T10_00_00Z.004127.log"},
		{"n1/logs/cockroach.db-node-1.cockroach.2025-06-09T08_00_00Z.004127.log"},
		{"n2/logs/cockroach-sql-exec.db-node-2.cockroach.2025-06-09T08_00_00Z.000311.log"},
	}, paths)
}
