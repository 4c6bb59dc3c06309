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
// across a crash. A held entry is flushed after MultilineWait (default
// 2s) without new data in the file, at rotation, at truncation, and at a
// graceful shutdown (see below).
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
//     orphan_continuation). Not lost, but not reassembled. The same holds
//     for an entry the writer is still writing when ingest is stopped
//     gracefully (below).
//   - a truncation followed by a rewrite to at least the old size with the
//     same first 512 bytes is not detected; the rewritten part before the
//     old offset is skipped.
//
// # Shutdown
//
// On SIGINT/SIGTERM reading stops at once and Tailer.Run drains, within
// ingest.shutdown_grace: the entry a decoder still holds is flushed as
// complete in every file read to its end, and everything decoded is
// handed on; once Kafka acknowledged it, the last checkpoint is past it,
// so the next run neither loses nor repeats it. A last line without its
// newline is not taken: the checkpoint stays at its start and the next
// run reads it whole.
//
// Flushing is a choice: nothing in a file says an entry is over except
// the next entry, so a held entry is either complete (the last entry of a
// quiet file: the common case) or still being written. Ingest treats it
// as it already does after MultilineWait without data while running: the
// entry is taken as complete. If the writer was in the middle of it, its
// remaining continuation lines arrive after the restart as orphan
// continuation lines (DLQ), as with a writer pausing longer than
// MultilineWait. The alternative, pinning, would re-read the entry at
// every start and lose it for good when the file is rotated away and
// deleted while ingest is down.
//
// Two cases keep the entry pinned instead, and the next run re-reads it
// from its first line (never produced, so no duplicate): a file that
// still had unread data at the stop (a backlog: the entry may go on in
// the unread part, and flushing would split a complete entry), and a stop
// that does not drain (kill -9, a crash, or shutdown_grace expiring
// before the drain was handed on).
//
// Stdin (ReadStream) has no checkpoint: it is flushed at EOF, and at a
// graceful stop what was read is finished as at EOF (a last line without
// its newline included).
//
// Identity uses syscall.Stat_t: the package is for Linux and other Unix
// systems.
package tail
