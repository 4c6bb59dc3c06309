package clickhousesink

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/schemas"
)

func testCatalogColumn() CatalogColumn {
	return CatalogColumn{
		Endpoint: "pg-main", Database: "shop", DatabaseKind: "postgresql", Schema: "app", Table: "customers",
		Column: "ssn", DataType: "text", Verdict: "plaintext", Classes: map[string]int{"ssn": 90, "text": 5, "empty": 0},
		Sampled: 100, Nulls: 5, ProbedAt: time.Date(2025, 6, 9, 12, 0, 0, 123, time.FixedZone("CEST", 7200)),
	}
}

func TestCatalogRow(t *testing.T) {
	c := testCatalogColumn()
	row, err := catalogRow(&c)
	require.NoError(t, err)
	require.Len(t, row, len(catalogColumnNames))
	get := func(name string) any { return row[slices.Index(catalogColumnNames, name)] }
	require.Equal(t, "pg-main", get("endpoint"))
	require.Equal(t, "shop", get("database"))
	require.Equal(t, "postgresql", get("database_kind"))
	require.Equal(t, "app", get("schema"))
	require.Equal(t, "customers", get("table"))
	require.Equal(t, "ssn", get("column"))
	require.Equal(t, "text", get("data_type"))
	require.Equal(t, "plaintext", get("verdict"))
	require.Equal(t, []string{"ssn", "text"}, get("classes"), "sorted, classes with no value left out")
	require.Equal(t, map[string]uint32{"ssn": 90, "text": 5}, get("class_counts"))
	require.Equal(t, uint32(100), get("sampled"))
	require.Equal(t, uint32(5), get("nulls"))
	require.Equal(t, "", get("error"))
	probed := get("probed_at").(time.Time)
	require.Equal(t, time.UTC, probed.Location())
	require.True(t, probed.Equal(c.ProbedAt))
	require.Equal(t, "app.customers.ssn", c.Qualified())

	// No classes (an empty or failed sample): empty array and map, not nil.
	c.Classes, c.Verdict, c.Error = nil, "error", "canceling statement due to statement timeout"
	row, err = catalogRow(&c)
	require.NoError(t, err)
	require.Equal(t, []string{}, row[slices.Index(catalogColumnNames, "classes")])
	require.Equal(t, map[string]uint32{}, row[slices.Index(catalogColumnNames, "class_counts")])
	require.Equal(t, c.Error, row[slices.Index(catalogColumnNames, "error")])

	for name, mutate := range map[string]func(*CatalogColumn){
		"verdict":  func(c *CatalogColumn) { c.Verdict = "maybe" },
		"kind":     func(c *CatalogColumn) { c.DatabaseKind = "" },
		"column":   func(c *CatalogColumn) { c.Column = "" },
		"endpoint": func(c *CatalogColumn) { c.Endpoint = "" },
		"time":     func(c *CatalogColumn) { c.ProbedAt = time.Time{} },
	} {
		bad := testCatalogColumn()
		mutate(&bad)
		_, err := catalogRow(&bad)
		require.Error(t, err, name)
	}
}

// Every Go value the Enum8 columns may receive is declared in the
// migration, and the column list names every column of the table.
func TestCatalogColumnsMatchMigration(t *testing.T) {
	b, err := schemas.ClickHouse.ReadFile("clickhouse/0007_catalog_columns.sql")
	require.NoError(t, err)
	ddl := string(b)
	start := strings.Index(ddl, "CREATE TABLE")
	end := strings.Index(ddl[start:], "\n)") + start
	var cols []string
	for _, line := range strings.Split(ddl[start:end], "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "(" || strings.HasPrefix(f[0], "--") {
			continue
		}
		cols = append(cols, f[0])
	}
	require.Equal(t, catalogColumnNames, cols)
	enum := func(col string) []string {
		m := regexp.MustCompile(`(?m)^\s+` + col + `\s+Enum8\(([^)]*)\)`).FindStringSubmatch(ddl)
		require.NotNil(t, m, col)
		var vals []string
		for _, v := range regexp.MustCompile(`'([a-z]+)'`).FindAllStringSubmatch(m[1], -1) {
			vals = append(vals, v[1])
		}
		slices.Sort(vals)
		return vals
	}
	require.Equal(t, slices.Sorted(slices.Values(databaseKinds)), enum("database_kind"))
	require.Equal(t, slices.Sorted(slices.Values(catalogVerdicts)), enum("verdict"))
}

func TestCatalogKey(t *testing.T) {
	a, b := testCatalogColumn(), testCatalogColumn()
	require.Equal(t, catalogKey(&a), catalogKey(&b))
	b.ProbedAt = b.ProbedAt.Add(time.Nanosecond)
	require.NotEqual(t, catalogKey(&a), catalogKey(&b), "a new probe is a new version")
	b = testCatalogColumn()
	b.Table, b.Column = "customers\x1fssn", ""
	require.NotEqual(t, catalogKey(&a), catalogKey(&b))
}
