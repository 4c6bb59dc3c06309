package tail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/ack"
	"roachwatch/pipeline/parse"
)

// v2Entry is one crdb-v2 entry with counter n and cont continuation lines.
func v2Entry(n, cont int) string {
	var b strings.Builder
	prefix := fmt.Sprintf("I250611 14:10:%02d.%06d 55 1@cli/start.go:1210 ⋮ [T1,Vsystem,n2] %d ", n/1000000%60, n%1000000, n)
	b.WriteString(prefix + " message number " + fmt.Sprint(n) + "\n")
	for i := range cont {
		b.WriteString(prefix + fmt.Sprintf("+continuation %d of entry %d\n", i, n))
	}
	return b.String()
}

type harness struct {
	t      *testing.T
	cfg    Config
	ckpt   *ack.Checkpointer
	reg    *prometheus.Registry
	m      *Metrics
	mu     sync.Mutex
	msgs   []string // per event: Message
	rej    []Reject
	cancel context.CancelFunc
	done   chan struct{}
	noAck  bool
}

func testConfig(paths ...string) Config {
	return Config{
		Paths: paths, Format: parse.FormatAuto, MaxLineBytes: 4096,
		PollInterval: 50 * time.Millisecond, MultilineWait: 300 * time.Millisecond, ReadInterval: 10 * time.Millisecond,
		NewNormalizer: func() *parse.Normalizer {
			return parse.NewNormalizer(parse.NormalizerConfig{Key: []byte("0123456789abcdef0123")})
		},
	}
}

func startTail(t *testing.T, cfg Config, ckptPath string, noAck bool) *harness {
	t.Helper()
	return startTailDrain(t, cfg, ckptPath, noAck, context.Background())
}

// startTailDrain is startTail with the drain context of Tailer.Run: an
// already cancelled one stops like a crash (nothing flushed at the stop).
func startTailDrain(t *testing.T, cfg Config, ckptPath string, noAck bool, drain context.Context) *harness {
	t.Helper()
	h := &harness{t: t, cfg: cfg, reg: prometheus.NewRegistry(), done: make(chan struct{}), noAck: noAck}
	var err error
	h.ckpt, err = ack.NewCheckpointer(ckptPath, time.Hour, h.reg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	h.m = NewMetrics(h.reg)
	tl := New(cfg, h.ckpt, h.m, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	out := make(chan Batch, 4)
	go func() { _ = tl.Run(ctx, drain, out) }()
	go func() {
		defer close(h.done)
		for b := range out {
			h.mu.Lock()
			for _, ev := range b.Events {
				h.msgs = append(h.msgs, ev.Message)
			}
			h.rej = append(h.rej, b.Rejects...)
			h.mu.Unlock()
			if !h.noAck {
				b.Done()
			}
		}
	}()
	return h
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
	require.NoError(h.t, h.ckpt.Sync())
}

func (h *harness) waitEvents(n int) []string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		got := len(h.msgs)
		h.mu.Unlock()
		if got >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	require.GreaterOrEqual(h.t, len(h.msgs), n, "events: %v", h.msgs)
	return append([]string(nil), h.msgs...)
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = io.WriteString(f, s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// numbers extracts the entry numbers from event messages, counting each.
func numbers(t *testing.T, msgs []string) map[int]int {
	out := map[int]int{}
	for _, m := range msgs {
		var n int
		i := strings.Index(m, "message number ")
		require.GreaterOrEqual(t, i, 0, "message %q", m)
		_, err := fmt.Sscanf(m[i+len("message number "):], "%d", &n)
		require.NoError(t, err, m)
		out[n]++
	}
	return out
}

func requireAll(t *testing.T, got map[int]int, from, to int) {
	t.Helper()
	for n := from; n < to; n++ {
		require.GreaterOrEqual(t, got[n], 1, "entry %d missing", n)
	}
}
