// Package stream is analyze's streaming mode: a consumer-group member on
// the events topic that runs the detectors per partition and writes to
// the sinks, at least once, with harmless duplicates.
//
// # Model
//
// Membership comes from kafka-go's kafka.ConsumerGroup: every generation
// lists the partitions assigned to this member. For each of them a worker
// goroutine reads the partition with FetchMessage (never ReadMessage; the
// group never auto-commits), decodes events, puts them back in event-time
// order in a bounded per-partition Reorder buffer (watermark = max event
// time - stream.reorder_lateness) and feeds them to the partition's own
// detectors.Engine. What shares a partition is ingest's choice
// (kafka.producer.partition_key): with principal (the default, key
// cluster/principal) the events of one principal do, so per-principal
// state is complete in one engine but state that spans principals
// (spraying by address, cluster-wide silence) is split across partitions —
// see the package tests for which rules that changes; with cluster every
// event of a cluster does, and the findings are the embedded run's.
//
// Messages are grouped into batches of kafka.consumer.batch_size or
// whatever arrived within kafka.consumer.batch_timeout: the batch's events
// and the last version of each finding that changed while it was
// processed. Batches go to every sink through a writer with at most
// kafka.consumer.max_in_flight batches outstanding; when that many are
// waiting (a sink slow or down) the workers block, which stops fetching.
// A failed write is retried with backoff, never skipped. Batches of a
// partition may complete out of order; an AckTracker releases only the
// highest offset below which every batch is acknowledged, and only that is
// committed (Generation.CommitOffsets, every stream.commit_interval).
//
// A message that holds no usable event (bad JSON, an unknown rw-v schema
// version, no event id) is not dropped and does not block its partition:
// it becomes a DLQRecord (reason, detail, source topic/partition/offset,
// the original value) in its batch, and the batch is acknowledged only
// after the DLQ topic (kafka.topics.dlq) has it with RequireAll — so the
// offset is committed past it only then. Counted as
// roachwatch_stream_dlq_messages_total{reason}.
//
// # State
//
// A partition's state (every detectors.Stateful detector's snapshot, the
// engine's open findings, the events held for reordering) is saved to the
// compacted topic kafka.topics.state, key group/topic/partition, when the
// partition is revoked, at shutdown and every stream.snapshot_interval.
// A snapshot at offset S is saved only once everything below S is
// acknowledged, and always before the commit that follows it. Whoever is
// assigned the partition next loads the last snapshot S and the committed
// offset C: it replays [S, C) into the state without writing anything (that
// output was acknowledged before C was committed) and resumes writing at
// C. The result is the state a single owner would have had; the replay is
// deterministic because release order depends only on message order.
//
// # Shutdown
//
// When the run context ends, the generation ends (rebalance) or the topic
// is drained (stream.exit_when_idle): stop fetching, seal the last batch
// (after closing windows with Engine.Finish only in the drained case),
// wait for every acknowledgement, save the snapshot, commit, and leave the
// group — within stream.shutdown_grace. What is not acknowledged by then
// is not committed and is read again by the next owner.
//
// # Goroutines
//
// Run owns the sink workers (exit: after the last drain) and the
// generation loop. Each generation owns, through Generation.Start, one
// worker per partition (exit: after its drain), a committer and, with
// exit_when_idle, an idle watcher (exit: the generation's stop).
package stream
