// Package event defines roachwatch's normalized event: the one type that
// flows from the parsers through Kafka to the detectors and ClickHouse.
//
// Compatibility rules. The Go field names, their JSON spelling and the
// meaning of each field are public API, mirrored by
// schemas/event.schema.json and the ClickHouse events table:
//
//   - Adding an optional field is compatible and keeps SchemaVersion.
//   - Renaming or removing a field, or changing its unit or meaning, bumps
//     SchemaVersion; consumers must accept the previous version for one
//     release.
//   - Zero values are omitted from JSON, as CockroachDB does: an absent
//     FullTableScan means false, an absent Rows means 0.
//
// Event types. For CockroachDB, Type is the EventType of the structured
// payload (client_authentication_ok, query_execute, ...), or "log" for an
// unstructured message. For Django it is one of django.sql,
// django.request, django.security, django.server or django.log.
//
// Identity. ID is a deterministic hash of the source kind and the raw bytes
// of the (reassembled) entry, so replaying the same input yields the same
// ids and downstream stores can deduplicate. Origin is informational and not
// part of the id, so the same file read through ingest or directly yields
// the same events.
package event
