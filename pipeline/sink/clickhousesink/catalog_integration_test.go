//go:build integration

package clickhousesink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/sink/clickhousesink"
)

// catalogProbe is one probe of three columns of one endpoint at t.
func catalogProbe(t0 time.Time, tokenVerdict string) []clickhousesink.CatalogColumn {
	base := clickhousesink.CatalogColumn{Endpoint: "pg-main", Database: "shop", DatabaseKind: "postgresql",
		Schema: "app", Table: "customers", DataType: "text", Sampled: 100, ProbedAt: t0}
	ssn, tok, pw := base, base, base
	ssn.Column, ssn.Verdict, ssn.Classes, ssn.Nulls = "ssn", "plaintext", map[string]int{"ssn": 95}, 5
	tok.Column, tok.Verdict = "api_token", tokenVerdict
	if tokenVerdict == "plaintext" {
		tok.Classes = map[string]int{"text": 100}
	} else {
		tok.Classes = map[string]int{"fernet": 100}
	}
	pw.Column, pw.Verdict, pw.Classes = "password", "hashed", map[string]int{"password_hash": 100}
	return []clickhousesink.CatalogColumn{ssn, tok, pw}
}

// TestWriteCatalog: a replayed write adds no row, the newest probe of a
// column decides whether v_catalog_plaintext lists it, and the
// plaintext_columns query reads the view.
func TestWriteCatalog(t *testing.T) {
	for _, protocol := range []string{clickhousesink.ProtocolNative, clickhousesink.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			ctx := context.Background()
			s, env, db := openStore(t, protocol, func(c *clickhousesink.Config) { c.BatchSize = 2 })
			conn := env.Open(t, db)
			t0 := time.Date(2025, 6, 9, 12, 0, 0, 123456789, time.UTC)

			first := catalogProbe(t0, "plaintext")
			require.NoError(t, s.WriteCatalog(ctx, first))
			require.NoError(t, s.WriteCatalog(ctx, first), "replay")
			require.EqualValues(t, 3, count(t, conn, "SELECT count() FROM catalog_columns"), "the replay was deduplicated")

			plaintext := func() []string {
				t.Helper()
				rows, err := conn.Query(ctx, "SELECT qualified FROM v_catalog_plaintext ORDER BY qualified")
				require.NoError(t, err)
				defer rows.Close()
				var out []string
				for rows.Next() {
					var q string
					require.NoError(t, rows.Scan(&q))
					out = append(out, q)
				}
				require.NoError(t, rows.Err())
				return out
			}
			require.Equal(t, []string{"app.customers.api_token", "app.customers.ssn"}, plaintext())

			// A day later the token column holds ciphertext: it leaves the view.
			require.NoError(t, s.WriteCatalog(ctx, catalogProbe(t0.Add(24*time.Hour), "encrypted")))
			require.Equal(t, []string{"app.customers.ssn"}, plaintext())
			var kind, dataType string
			var classes []string
			var counts map[string]uint32
			var sampled, nulls uint32
			var probed time.Time
			require.NoError(t, conn.QueryRow(ctx, "SELECT toString(database_kind), data_type, classes, class_counts, sampled, nulls, probed_at "+
				"FROM v_catalog_plaintext").Scan(&kind, &dataType, &classes, &counts, &sampled, &nulls, &probed))
			require.Equal(t, "postgresql", kind)
			require.Equal(t, "text", dataType)
			require.Equal(t, []string{"ssn"}, classes)
			require.Equal(t, map[string]uint32{"ssn": 95}, counts)
			require.EqualValues(t, 100, sampled)
			require.EqualValues(t, 5, nulls)
			require.True(t, probed.Equal(t0.Add(24*time.Hour)), probed)

			tb, err := s.Query(ctx, "plaintext_columns", t0, t0.Add(48*time.Hour), nil)
			require.NoError(t, err)
			require.Len(t, tb.Rows, 1)
			require.Equal(t, "app.customers.ssn", tb.Rows[0][0])
			tb, err = s.Query(ctx, "plaintext_columns", t0, t0.Add(48*time.Hour), map[string]string{"endpoint": "other"})
			require.NoError(t, err)
			require.Empty(t, tb.Rows)

			// A column the table cannot hold fails before anything is sent.
			bad := catalogProbe(t0.Add(48*time.Hour), "plaintext")
			bad[2].Verdict = "unsure"
			err = s.WriteCatalog(ctx, bad)
			require.ErrorIs(t, err, clickhousesink.ErrPermanent)
			require.EqualValues(t, 6, count(t, conn, "SELECT count() FROM catalog_columns"))
		})
	}
}
