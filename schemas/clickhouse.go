package schemas

import "embed"

// ClickHouse holds the ClickHouse store's files, embedded in the binary:
//
//	clickhouse/NNNN_name.sql        ordered migrations, applied by `analyze migrate`
//	clickhouse/queries/NAME.sql     the analyst query pack, run by `analyze query NAME`
//
// The files are templates: {{db}}, {{on_cluster}}, {{engine:...}} and
// {{ttl:...}} are rendered from the clickhouse config section by
// pipeline/sink/clickhousesink, which also documents them. Migrations are
// append-only: an applied file must never change (its checksum is
// recorded); fix forward with a new file.
//
//go:embed clickhouse/*.sql clickhouse/queries/*.sql
var ClickHouse embed.FS

// Directories of ClickHouse within the embedded file system.
const (
	ClickHouseMigrations = "clickhouse"
	ClickHouseQueries    = "clickhouse/queries"
)
