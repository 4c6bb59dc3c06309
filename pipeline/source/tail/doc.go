// Package tail follows log files the way ingest needs: new files are
// picked up, rotation and truncation are survived, multi-line entries are
// reassembled before anything leaves the reader, and every position is
// checkpointed only once Kafka has acknowledged it (pipeline/ack).
//
// # Identity
//
// A file is its device and inode ("dev:inode"), plus a fingerprint of its
// first 512 bytes; never its path. Checkpoints are keyed by identity and
// carry the fingerprint, so a renamed file resumes where it was, and a new
// file that reuses an inode (fingerprint mismatch) is read from offset 0.
//
// # Discovery
//
// Config.Paths (files, directories walked recursively, globs) are
// re-scanned every PollInterval. Globs and directory walks skip symbolic
// links: CockroachDB's cockroach[-group].log links point at the newest
// file of a group, which is tailed under its real name. A link named
// explicitly is followed, by identity of its target.
//
// # Decoding
//
// Each file has its own decoder. The format is input.format, or detected
// from the file's first 20 non-empty lines (or from what is there after
// MultilineWait without data). An undetectable file's lines all go to the
// DLQ as unknown_format. Multi-line entries (crdb-v2 '+', '|', '!' lines,
// Django tracebacks) are reassembled in the decoder; an entry the decoder
// holds pins the file's position at its first line, so it is never split
// across a restart. A held entry is flushed after MultilineWait (default
// 2s) without new data in the file, at rotation, and at truncation.
//
// # Rotation cases supported
//
//   - rename (CockroachDB's own rotation starts a new file; logrotate
//     "create"): the renamed file keeps its identity. If it still matches
//     the paths it is simply followed under its new name; if not (or it was
//     deleted), it becomes an orphan that is read to its end, and closed
//     once it has been quiet for MultilineWait (a writer may still append
//     to the old descriptor right after the rename). The new file at the
//     old path is a new identity, read from offset 0.
//   - copytruncate: the file shrinks below what was read, or its first
//     bytes change; that is counted (roachwatch_tail_truncations_total) and
//     logged, the held entry is flushed, and reading restarts at offset 0.
//   - deletion (CockroachDB's max-group-size cleanup): the open descriptor
//     is read to its end, then the file's checkpoint is dropped.
//   - restart of ingest: a file is resumed at its checkpoint if it still
//     has the fingerprint and is at least that long; otherwise from 0.
//
// # Where data can be lost or duplicated
//
// Duplicates (harmless: event ids are deterministic, analyze and
// ClickHouse deduplicate) arise from everything handed on but not yet
// acknowledged and checkpointed when ingest crashes (at most
// ingest.max_in_flight batches plus one checkpoint interval of
// acknowledged data), from kafka-go retrying a produce whose ack was lost,
// and from copytruncate when the copy also matches the paths (it is a new
// identity and is read in full).
//
// Loss windows, all outside ingest's control:
//   - copytruncate: lines written between the copy and the truncate, and
//     lines written to the truncated file and not yet read when it is
//     truncated again before the next read, are gone from the file.
//   - a file rotated away and deleted while ingest is down is not found
//     again; the unread tail of it is lost. A file renamed to a name the
//     paths do not match while ingest is down is likewise not read.
//   - a crash of the writer with buffered writes (CockroachDB
//     buffered-writes: true) loses its unflushed tail before ingest sees it.
//   - a multi-line entry whose writer pauses longer than MultilineWait in
//     the middle of the entry is split: the held part is flushed, the rest
//     arrives as orphan continuation lines (DLQ, reason
//     orphan_continuation). Not lost, but not reassembled.
//   - a truncation followed by a rewrite to at least the old size with the
//     same first 512 bytes is not detected; the rewritten part before the
//     old offset is skipped.
//
// On shutdown (SIGINT/SIGTERM) reading stops at once; what was handed on
// is produced and acknowledged, an entry a decoder still holds is not
// flushed but stays pinned, and the next run re-reads it from its first
// line. Stdin (ReadStream) has no checkpoint: it is flushed at EOF.
//
// Identity uses syscall.Stat_t: the package is for Linux and other Unix
// systems.
package tail
