// Package ack keeps ingest's file checkpoints: per file identity, the
// offset up to which every line has been acknowledged by Kafka.
//
// Model. A reader hands its output on in batches. Each batch carries the
// position that becomes safe once the batch is durable: the offset of the
// next line the reader has not fully handed on. When a decoder still holds
// a partial multi-line entry, that position is the entry's first line, so
// a restart re-reads and re-decodes the whole entry (the entry "pins" the
// offset). A Tracker numbers the positions in the order they were handed
// on; completions may arrive in any order, and the committed position
// moves only to the highest position whose predecessors are all done
// (redpanda-data/connect franz_reader_ordered.go, Jeffail/checkpoint).
//
// The Checkpointer snapshots the committed positions of every tracked
// file and writes them to one JSON file atomically (temp file in the same
// directory, fsync, rename, fsync of the directory), so a crash leaves
// either the old or the new checkpoint file, never a torn one. Only
// acknowledged positions are ever written: a crash replays what was in
// flight (duplicates, harmless with deterministic event ids) and never
// skips a line.
//
// Files are keyed by identity ("dev:inode"), not by path, and each entry
// carries a fingerprint of the file's first bytes so a reused inode is
// recognised as a new file.
package ack
