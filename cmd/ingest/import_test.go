package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/formats"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/source"
	"roachwatch/pipeline/source/tail"
	"roachwatch/pipeline/transport/kafkatransport"
)

// testShipper is a shipper without a producer: what run and import hand
// on is read from the channel instead.
func testShipper() *shipper {
	return &shipper{log: slog.New(slog.DiscardHandler), sem: make(chan struct{}, 4),
		enc: &kafkatransport.Encoder{Topics: kafkatransport.TopicsConfig{Events: "ev", DLQ: "dlq"},
			MaxMessageBytes: 1 << 20, HashKey: []byte("0123456789abcdef0123456789abcdef")}}
}

// collector acknowledges every batch handed on and keeps the DLQ
// messages and the number of event messages.
type collector struct {
	mu     sync.Mutex
	dlq    []kafka.Message
	events int
	done   chan struct{}
}

func collect(t *testing.T, kout <-chan kafkatransport.Batch) *collector {
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for b := range kout {
			c.mu.Lock()
			for _, m := range b.Msgs {
				switch m.Topic {
				case "dlq":
					c.dlq = append(c.dlq, m)
				case "ev":
					c.events++
				default:
					t.Errorf("message for topic %q", m.Topic)
				}
			}
			c.mu.Unlock()
			b.Done()
		}
	}()
	return c
}

// counts reports what arrived so far.
func (c *collector) counts() (dlq, events int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.dlq), c.events
}

// wait returns everything once the channel is closed.
func (c *collector) wait() ([]kafka.Message, int) {
	<-c.done
	return c.dlq, c.events
}

// records decodes DLQ messages with their time zeroed (it is the
// ingest time), sorted by file and offset.
func records(t *testing.T, msgs []kafka.Message) []kafkatransport.DLQRecord {
	out := make([]kafkatransport.DLQRecord, len(msgs))
	for i, m := range msgs {
		require.NoError(t, json.Unmarshal(m.Value, &out[i]))
		out[i].Time = 0
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Offset < out[j].Offset
	})
	return out
}

func v2Line(n int) string {
	prefix := fmt.Sprintf("I250611 14:10:%02d.%06d 55 1@cli/start.go:1210 ⋮ [T1,Vsystem,n2] %d ", n%60, n, n)
	return prefix + " entry " + fmt.Sprint(n) + "\n" + prefix + "+second line of " + fmt.Sprint(n) + "\n"
}

// TestImportRejectsLikeRun: import hands every bad line to the DLQ with
// the very record ingest run makes for it (reason, detail, position, file
// id, keyed hash and key/headers; never the raw line), and the summary
// counts stay what they were.
func TestImportRejectsLikeRun(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for f, garbage := range map[string][]int{"a.log": {3, 11}, "b.log": {7}} {
		var b strings.Builder
		for n := range 15 {
			b.WriteString(v2Line(n))
			for _, g := range garbage {
				if g == n {
					fmt.Fprintf(&b, "garbage line with password=hunter2 %s %d\n", f, n)
				}
			}
		}
		if f == "b.log" {
			b.WriteString(strings.Repeat("x", 5000) + "\n") // too_long
			b.WriteString(v2Line(99))
		}
		p := filepath.Join(dir, f)
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
		files[p] = b.String()
	}
	norm := func() *parse.Normalizer {
		return parse.NewNormalizer(parse.NormalizerConfig{Key: []byte("0123456789abcdef0123")})
	}
	fo := formats.Options{MaxEntryBytes: 1 << 20}

	// ingest import: the runner with the reject feed.
	ship := testShipper()
	kout := make(chan kafkatransport.Batch, 4)
	col := collect(t, kout)
	var srcFiles []source.File
	for p := range files {
		srcFiles = append(srcFiles, source.File{Path: p})
	}
	sort.Slice(srcFiles, func(i, j int) bool { return srcFiles[i].Path < srcFiles[j].Path })
	rejects := newRejectFeed(ship, srcFiles, context.Background(), kout, 2) // small batches: several hand-offs
	stats := &runner.Stats{}
	events := 0
	err := runner.Run(context.Background(), runner.Options{Files: srcFiles, Format: parse.FormatCRDBV2, Formats: fo,
		MaxLineBytes: 4096, NewNormalizer: norm, Workers: 2, OnError: rejects.onError}, stats,
		func(*event.Event) error { events++; return nil })
	require.NoError(t, err)
	require.NoError(t, rejects.flush())
	close(kout)
	imported, _ := col.wait()
	require.Equal(t, map[string]int64{"no_prefix": 3, "too_long": 1}, stats.Errors, "summary unchanged")
	require.Equal(t, int64(31), stats.Events)
	require.Len(t, imported, 4, "one DLQ record per bad line")

	// ingest run over the same files: tail -> encode, stopped gracefully
	// once everything but the held last entry of each file went through.
	ship = testShipper()
	ckpt, err := ack.NewCheckpointer("", time.Hour, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	tcfg := tail.Config{Paths: []string{filepath.Join(dir, "*.log")}, Format: parse.FormatCRDBV2, Formats: fo,
		NewNormalizer: norm, MaxLineBytes: 4096, PollInterval: 50 * time.Millisecond, MultilineWait: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tailOut := make(chan tail.Batch, 4)
	kout = make(chan kafkatransport.Batch, 4)
	col = collect(t, kout)
	tl := tail.New(tcfg, ckpt, tail.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	go func() { _ = tl.Run(ctx, context.Background(), tailOut) }()
	encErr := make(chan error, 1)
	go func() { encErr <- ship.encode(context.Background(), tailOut, kout) }()
	require.Eventually(t, func() bool {
		d, e := col.counts()
		return d == 4 && e == 29
	}, 10*time.Second, 20*time.Millisecond, "run read everything")
	cancel()
	require.NoError(t, <-encErr)
	ran, ranEvents := col.wait()
	require.Equal(t, 31, ranEvents, "the held entries were flushed at the stop")
	require.Len(t, ran, 4)

	got, want := records(t, imported), records(t, ran)
	require.Equal(t, want, got, "import's DLQ records are run's")
	hashes := map[string]bool{}
	for _, text := range files {
		for l := range strings.Lines(text) {
			if strings.HasPrefix(l, "garbage") {
				hashes[kafkatransport.LineHash(ship.enc.HashKey, []byte(strings.TrimSuffix(l, "\n")))] = true
			}
		}
	}
	require.Len(t, hashes, 3)
	reasons := map[string]int{}
	for _, r := range got {
		reasons[r.Reason]++
		require.Equal(t, "crdb-v2", r.Source)
		require.NotEmpty(t, r.FileID)
		require.Equal(t, tail.FileID(r.File), r.FileID)
		require.Empty(t, r.Line)
		if r.Reason == "no_prefix" {
			require.True(t, hashes[r.LineHash], "keyed hash of the bad line: %+v", r)
			delete(hashes, r.LineHash)
		} else {
			require.Empty(t, r.LineHash, "a cut line has no hash")
		}
	}
	require.Equal(t, map[string]int{"no_prefix": 3, "too_long": 1}, reasons)
	byOffset := func(ms []kafka.Message) map[string]kafka.Message {
		out := map[string]kafka.Message{}
		for _, m := range ms {
			var r kafkatransport.DLQRecord
			require.NoError(t, json.Unmarshal(m.Value, &r))
			out[fmt.Sprint(r.File, r.Offset)] = m
		}
		return out
	}
	runBy := byOffset(ran)
	for k, m := range byOffset(imported) {
		require.NotContains(t, string(m.Value), "hunter2", "raw line in a DLQ record")
		require.Equal(t, string(runBy[k].Key), string(m.Key), "key")
		require.Equal(t, runBy[k].Headers, m.Headers, "headers")
	}
}
