// Package sqlfp fingerprints SQL statements as CockroachDB renders them in
// its logs (and as Django's django.db.backends logger prints them) and
// extracts what the detectors need to know about each statement: the verb,
// the tables and columns it touches, and which literal goes with which
// column.
//
// # Model
//
// The package is a lexer, not a parser. [Analyzer.Analyze] works in three
// linear steps over one statement:
//
//  1. CockroachDB redaction markers ‹ and › are removed (a copy is made only
//     when markers are present). Markers are treated as zero-width everywhere,
//     so a whole-statement span (v21.1), a span around one literal
//     (‹'Okafor'›) or a name (‹users›), and the ›‹ left at a size-split join
//     point all lex as if the markers were not there. ‹×›, a value removed at
//     the sink, becomes × and lexes as a redacted literal.
//  2. The statement is lexed once into a reused token slice. Every token
//     records whether whitespace or a comment preceded it; string and
//     identifier values are decoded into one reused byte buffer that is
//     reserved up front, so slices into it stay valid for the whole call.
//  3. The fingerprint is written from the tokens, and (Analyze only) a small
//     clause state machine walks the same tokens to collect tables, aliases,
//     columns and literal bindings. Lookahead is bounded or consumes the
//     tokens it reads, so the walk stays linear on megabyte statements.
//
// # Fingerprint
//
// Literals and placeholders become ?, true and false included (NULL is kept
// because IS NULL and IS NOT NULL are different shapes). Adjacent identical
// elements of IN (...), ARRAY[...] and VALUES lists are collapsed, so
// IN (?, ?, ?) becomes in (?) and VALUES (?, ?), (?, ?) becomes
// values (?, ?). Comments are dropped, whitespace is collapsed to one space
// (always one after a comma, none before , ) ] ; or after ( [), keywords and
// unquoted identifiers are lower-cased, simple lower-case quoted identifiers
// lose their quotes, the empty catalog/schema prefix "". is dropped and
// trailing semicolons are removed. Hash is xxhash64 of the fingerprint.
//
// # Ownership
//
// An Analyzer is reusable and not safe for concurrent use. Everything a
// Result points to (slices, Binding.Value, Comments) belongs to the Analyzer
// or to the statement passed in and is valid until the next call. Strings
// (table, column and verb names) are interned in a bounded per-Analyzer
// table and stay valid forever, which keeps steady-state calls free of
// allocations.
//
// # Limits
//
// Caps bound the output, not the work: at most 64 tables, 256 columns,
// 64 bindings and 8 comments are reported, and Result.Truncated says that a
// cap was hit. Subqueries and CTEs are handled on a best-effort basis: their
// tables and columns are reported with the statement's, and CTE names are
// not reported as tables.
package sqlfp
