// Package report renders roachwatch's audit reports - HTML with inline
// SVG charts, Markdown and JSON - from a Source of findings and session
// statistics.
//
// Model. Build reads one period [until-since, until] and the previous
// period of the same length (for trends) from a Source and computes a
// Report: plain data, sorted, with no wall-clock time except the
// GeneratedAt the caller passes, so the same input always renders the same
// bytes. The renderers (WriteHTML, WriteMarkdown, WriteJSON) only format a
// Report; they do no analysis. The JSON form is public API, described by
// schemas/report.schema.json.
//
// Sources. JSONLSource reads the files of the embedded mode (findings
// JSONL and, optionally, events JSONL); a ClickHouse source implements the
// same interface. Without session data the TLS posture comes from RW-TLS-001
// findings and the report says so.
//
// Safety. Principal names, applications and summaries come from logs and
// are untrusted: HTML goes through html/template (SVG included), Markdown
// cells are escaped. The report copies rule ids, columns, value classes,
// secret types and counts from findings, never values or value hashes.
package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes r as indented JSON (schemas/report.schema.json).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
