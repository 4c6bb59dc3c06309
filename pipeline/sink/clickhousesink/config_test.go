package clickhousesink

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no addr", func(c *Config) { c.Addr = nil }, "clickhouse.addr: at least one host:port"},
		{"addr without port", func(c *Config) { c.Addr = []string{"clickhouse"} }, `clickhouse.addr: "clickhouse" is not host:port`},
		{"protocol", func(c *Config) { c.Protocol = "grpc" }, `clickhouse.protocol: "grpc" is not native or http`},
		{"database", func(c *Config) { c.Database = "road-watch" }, `clickhouse.database: "road-watch" must be a plain identifier`},
		{"database injection", func(c *Config) { c.Database = "x; DROP TABLE y" }, "clickhouse.database"},
		{"username", func(c *Config) { c.Username = "" }, "clickhouse.username: required"},
		{"compression", func(c *Config) { c.Compression = "gzip" }, `clickhouse.compression: "gzip"`},
		{"batch size", func(c *Config) { c.BatchSize = 0 }, "clickhouse.batch_size: must be in 1..1000000"},
		{"flush interval", func(c *Config) { c.FlushInterval = 0 }, "clickhouse.flush_interval: must be positive"},
		{"retries", func(c *Config) { c.MaxRetries = -1 }, "clickhouse.max_retries"},
		{"backoff", func(c *Config) { c.RetryBackoff = 0 }, "clickhouse.retry_backoff: must be positive"},
		{"max backoff", func(c *Config) { c.RetryMaxBackoff = time.Millisecond }, "clickhouse.retry_max_backoff: must be at least"},
		{"ttl", func(c *Config) { c.TTLDays = -1 }, "clickhouse.ttl_days"},
		{"cluster", func(c *Config) { c.Cluster = "a b" }, `clickhouse.cluster: "a b"`},
		{"replicated without cluster", func(c *Config) { c.Replicated = true }, "clickhouse.replicated: Replicated engines need clickhouse.cluster"},
		{"half a client cert", func(c *Config) { c.TLS.CertFile = "c.pem" }, "clickhouse.tls.cert_file: set both"},
		{"ca without tls", func(c *Config) { c.TLS.Enabled = false; c.TLS.CAFile = "ca.pem" }, "clickhouse.tls.enabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	c := DefaultConfig()
	c.Password = "hunter2-hunter2"
	c.TLS.Enabled = false
	c.Addr = []string{"127.0.0.1:1"}
	var buf bytes.Buffer
	s, err := Open(context.Background(), c, slog.New(slog.NewTextHandler(&buf, nil)))
	require.NoError(t, err)
	defer s.Close()
	fmt.Fprintf(&buf, "%v %+v %#v %s", c, c, c, c.Password)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "cfg", c)
	require.NotContains(t, buf.String(), "hunter2")
	opts, err := c.options()
	require.NoError(t, err)
	require.Equal(t, "hunter2-hunter2", opts.Auth.Password, "the driver gets the real password")
}

func TestTLSOptions(t *testing.T) {
	c := DefaultConfig()
	opts, err := c.options()
	require.NoError(t, err)
	require.NotNil(t, opts.TLS, "TLS is on by default")
	require.False(t, opts.TLS.InsecureSkipVerify, "verify-full by default")
	require.Equal(t, clickhouse.Native, opts.Protocol)
	c.TLS.CAFile = "/nonexistent/ca.pem"
	_, err = c.options()
	require.ErrorContains(t, err, "clickhouse.tls.ca_file")
	c = DefaultConfig()
	c.TLS.Enabled = false
	c.Protocol = ProtocolHTTP
	opts, err = c.options()
	require.NoError(t, err)
	require.Nil(t, opts.TLS)
	require.Equal(t, clickhouse.HTTP, opts.Protocol)
}

func TestIsTransient(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"timeout exceeded", &clickhouse.Exception{Code: 159}, true},
		{"readonly user (a permission, not a state)", &clickhouse.Exception{Code: 164}, false},
		{"too many queries", &clickhouse.Exception{Code: 202}, true},
		{"socket timeout", &clickhouse.Exception{Code: 209}, true},
		{"network error", &clickhouse.Exception{Code: 210}, true},
		{"too many parts", &clickhouse.Exception{Code: 252}, true},
		{"system error", &clickhouse.Exception{Code: 425}, true},
		{"syntax", &clickhouse.Exception{Code: 62}, false},
		{"unknown table", &clickhouse.Exception{Code: 60}, false},
		{"type mismatch", &clickhouse.Exception{Code: 53}, false},
		{"auth", &clickhouse.Exception{Code: 516}, false},
		{"wrapped exception", fmt.Errorf("send: %w", &clickhouse.Exception{Code: 210}), true},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"net error", &net.OpError{Op: "dial", Err: errors.New("x")}, true},
		{"eof", io.ErrUnexpectedEOF, true},
		{"canceled", context.Canceled, false},
		{"conversion", errors.New("clickhouse [Append]: converting string to UInt64 is unsupported"), false},
		// url.Error is a net.Error: a certificate failure over HTTP must not look like one.
		{"unknown CA over HTTP", &url.Error{Op: "Post", URL: "https://ch:8443", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, false},
		{"host name over native", &net.OpError{Op: "remote error", Err: x509.HostnameError{Host: "ch"}}, false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, IsTransient(tc.err), tc.name)
	}
}

func TestBackoff(t *testing.T) {
	c := DefaultConfig()
	c.RetryBackoff, c.RetryMaxBackoff = 100*time.Millisecond, time.Second
	for n, upper := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		upper *= time.Millisecond
		for range 50 {
			d := c.backoff(n)
			require.GreaterOrEqual(t, d, upper/2, "retry %d", n)
			require.LessOrEqual(t, d, upper, "retry %d", n)
		}
	}
}

func TestRetryStopsOnPermanentAndContext(t *testing.T) {
	c := DefaultConfig()
	c.RetryBackoff, c.RetryMaxBackoff, c.MaxRetries = time.Millisecond, 2*time.Millisecond, 3
	s := &Store{cfg: c, log: slog.New(slog.DiscardHandler)}
	calls := 0
	err := s.retry(context.Background(), "op", func(context.Context) error { calls++; return &clickhouse.Exception{Code: 62} })
	require.ErrorIs(t, err, ErrPermanent)
	require.Equal(t, 1, calls, "permanent errors are not retried")

	calls = 0
	err = s.retry(context.Background(), "op", func(context.Context) error { calls++; return syscall.ECONNREFUSED })
	require.ErrorIs(t, err, ErrRetriesExhausted)
	require.Equal(t, 4, calls)

	calls = 0
	err = s.retry(context.Background(), "op", func(context.Context) error {
		calls++
		if calls < 3 {
			return &clickhouse.Exception{Code: 252}
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, calls)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.retry(ctx, "op", func(context.Context) error { return syscall.ECONNREFUSED })
	require.ErrorIs(t, err, context.Canceled)
}
