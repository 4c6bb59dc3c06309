//go:build integration

package clickhousesink_test

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink/clickhousesink"
)

// benchRows is how many events one benchmark operation writes through one
// WriteEvents call; the batch size decides how many INSERTs that takes.
const benchRows = 200_000

// synth returns n realistic events: the loggen corpus repeated, each copy
// with a fresh id (so neither the deduplication token nor the
// ReplacingMergeTree drops it) and shifted in time.
func synth(corpus []event.Event, n int, round int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = corpus[i%len(corpus)]
		out[i].ID = fmt.Sprintf("%08x%024x", round, i)
		out[i].Time += int64(i/len(corpus)) * int64(time.Millisecond)
	}
	return out
}

// BenchmarkWriteEvents measures events/s through WriteEvents into the
// harness server at several batch sizes over both protocols. Besides
// events/s it reports the client's encoding time (event -> columns, timed
// separately) and the server's own time for the INSERTs (from
// system.query_log), so the rest is clickhouse-go's serialization and the
// transport.
func BenchmarkWriteEvents(b *testing.B) {
	c := loadCorpus(b)
	for _, protocol := range []string{clickhousesink.ProtocolNative, clickhousesink.ProtocolHTTP} {
		for _, size := range []int{1_000, 10_000, 50_000, 100_000} {
			b.Run(fmt.Sprintf("%s/batch=%d", protocol, size), func(b *testing.B) {
				s, env, db := openStore(b, protocol, func(cfg *clickhousesink.Config) { cfg.BatchSize = size })
				ctx := context.Background()
				var encode, clientCPU time.Duration
				start := time.Now()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					evs := synth(c.events, benchRows, i)
					t0 := time.Now()
					clickhousesink.EncodeEvents(evs)
					encode += time.Since(t0)
					runtime.GC()
					cpu0 := processCPU()
					b.StartTimer()
					if err := s.WriteEvents(ctx, evs); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					clientCPU += processCPU() - cpu0
				}
				elapsed := b.Elapsed()
				rows := float64(b.N * benchRows)
				b.ReportMetric(rows/elapsed.Seconds(), "events/s")
				b.ReportMetric(encode.Seconds()/float64(b.N), "encode-s/op")
				conn := env.Open(b, db)
				require.NoError(b, conn.Exec(ctx, "SYSTEM FLUSH LOGS"))
				var serverMS, serverCPU, inserts uint64
				require.NoError(b, conn.QueryRow(ctx, `SELECT toUInt64(sum(query_duration_ms)),
					toUInt64(sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds'])), count() FROM system.query_log
					WHERE type = 'QueryFinish' AND query_kind = 'Insert' AND has(databases, ?) AND event_time >= ?`,
					db, start.Add(-time.Second).Truncate(time.Second)).Scan(&serverMS, &serverCPU, &inserts))
				n := float64(b.N)
				b.ReportMetric(float64(serverMS)/1000/n, "server-s/op")
				b.ReportMetric(float64(serverCPU)/1e6/n, "server-cpu-s/op")
				b.ReportMetric(clientCPU.Seconds()/n, "client-cpu-s/op")
				// Capacity on idle cores: client and server work in parallel on
				// two cores, so the slower side bounds the rate.
				b.ReportMetric(benchRows/max(float64(serverCPU)/1e6/n, clientCPU.Seconds()/n), "events/s-cpu-bound")
				b.ReportMetric(float64(inserts)/float64(b.N), "inserts/op")
			})
		}
	}
}

// processCPU is the user+system CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
