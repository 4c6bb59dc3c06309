package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestServerServesMetricsAndHealth(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	var healthy atomic.Bool
	healthy.Store(true)
	s := &Server{Addr: addr, Reg: NewRegistry(), Log: slog.New(slog.DiscardHandler), Health: func() error {
		if !healthy.Load() {
			return errors.New("producer stuck")
		}
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	get := func(path string) (int, string) {
		var resp *http.Response
		require.Eventually(t, func() bool {
			resp, err = http.Get("http://" + addr + path)
			return err == nil
		}, 5*time.Second, 20*time.Millisecond)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	require.Equal(t, 200, code)
	require.Contains(t, body, "go_goroutines")
	code, _ = get("/healthz")
	require.Equal(t, 200, code)
	healthy.Store(false)
	code, body = get("/healthz")
	require.Equal(t, 503, code)
	require.Contains(t, body, "producer stuck")
	cancel()
	require.NoError(t, <-done)
}
