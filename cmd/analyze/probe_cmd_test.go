package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/posture"
)

// catalogColumns copies the schema results of every endpoint, with where
// each column lives and when it was probed; endpoints without columns add
// no row.
func TestCatalogColumns(t *testing.T) {
	t1 := time.Date(2025, 6, 9, 12, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Second)
	results := []*posture.Result{
		{Endpoint: "pg-main", Database: "shop", Flavor: posture.FlavorPostgreSQL, ProbedAt: t1, Columns: []posture.ColumnResult{
			{Schema: "app", Table: "customers", Column: "ssn", DataType: "text", Sampled: 150, Nulls: 2,
				Classes: map[string]int{"ssn": 148}, Verdict: posture.VerdictPlaintext},
			{Schema: "app", Table: "orders", Column: "card_number", DataType: "text", Verdict: posture.VerdictError, Error: "timeout"},
		}},
		{Endpoint: "lb", Address: "10.0.0.1:26257"}, // did not connect
		{Endpoint: "crdb-1", Database: "clinic", Flavor: posture.FlavorCockroachDB, ProbedAt: t2, Columns: []posture.ColumnResult{
			{Schema: "public", Table: "patients", Column: "iban", DataType: "BYTES", Sampled: 10,
				Classes: map[string]int{"ciphertext": 10}, Verdict: posture.VerdictEncrypted},
		}},
	}
	require.Equal(t, []clickhousesink.CatalogColumn{
		{Endpoint: "pg-main", Database: "shop", DatabaseKind: "postgresql", Schema: "app", Table: "customers", Column: "ssn",
			DataType: "text", Verdict: "plaintext", Classes: map[string]int{"ssn": 148}, Sampled: 150, Nulls: 2, ProbedAt: t1},
		{Endpoint: "pg-main", Database: "shop", DatabaseKind: "postgresql", Schema: "app", Table: "orders", Column: "card_number",
			DataType: "text", Verdict: "error", Error: "timeout", ProbedAt: t1},
		{Endpoint: "crdb-1", Database: "clinic", DatabaseKind: "cockroachdb", Schema: "public", Table: "patients", Column: "iban",
			DataType: "BYTES", Verdict: "encrypted", Classes: map[string]int{"ciphertext": 10}, Sampled: 10, ProbedAt: t2},
	}, catalogColumns(results))
	require.Empty(t, catalogColumns(nil))
	require.Equal(t, 3, countColumns(results))
}
