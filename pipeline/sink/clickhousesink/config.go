package clickhousesink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"roachwatch/pipeline/secret"
)

// Protocols of Config.Protocol.
const (
	ProtocolNative = "native"
	ProtocolHTTP   = "http"
)

// Config configures the ClickHouse store (config key clickhouse).
type Config struct {
	Enabled         bool          `mapstructure:"enabled"`           // analyze run writes events and findings here
	Addr            []string      `mapstructure:"addr"`              // host:port of every server (native 9440/9000, https 8443/8123)
	Protocol        string        `mapstructure:"protocol"`          // native or http
	Database        string        `mapstructure:"database"`          // database of every table
	Username        string        `mapstructure:"username"`          // writer user
	Password        secret.String `mapstructure:"password"`          // prefer ROACHWATCH_CLICKHOUSE_PASSWORD
	TLS             TLSConfig     `mapstructure:"tls"`               // verify-full by default
	Compression     string        `mapstructure:"compression"`       // none, lz4, zstd
	DialTimeout     time.Duration `mapstructure:"dial_timeout"`      // per connection attempt
	BatchSize       int           `mapstructure:"batch_size"`        // rows per INSERT; larger writes are split
	FlushInterval   time.Duration `mapstructure:"flush_interval"`    // Buffer flushes rows older than this
	MaxRetries      int           `mapstructure:"max_retries"`       // transient failures retried per INSERT; 0 = none
	RetryBackoff    time.Duration `mapstructure:"retry_backoff"`     // first backoff; doubles per retry, with jitter
	RetryMaxBackoff time.Duration `mapstructure:"retry_max_backoff"` // cap of one backoff
	TTLDays         int           `mapstructure:"ttl_days"`          // events and rollups expire after this; 0 = never
	Cluster         string        `mapstructure:"cluster"`           // ON CLUSTER name for DDL; "" = single node
	Replicated      bool          `mapstructure:"replicated"`        // Replicated* engines (needs Keeper)
	AsyncInsert     bool          `mapstructure:"async_insert"`      // server-side buffering (async_insert=1, wait_for_async_insert=1)
}

// TLSConfig configures TLS to ClickHouse. Enabled with an empty CAFile
// verifies against the system roots; the server name is always verified
// unless InsecureSkipVerify is set.
type TLSConfig struct {
	Enabled            bool   `mapstructure:"enabled"`
	CAFile             string `mapstructure:"ca_file"`
	CertFile           string `mapstructure:"cert_file"` // client certificate (mutual TLS)
	KeyFile            string `mapstructure:"key_file"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
	ServerName         string `mapstructure:"server_name"` // "" = the host of each addr
}

// DefaultConfig returns the defaults: disabled, native protocol with TLS
// to localhost:9440, database roachwatch, 50,000-row batches or 1 s.
func DefaultConfig() Config {
	return Config{
		Addr:            []string{"localhost:9440"},
		Protocol:        ProtocolNative,
		Database:        "roachwatch",
		Username:        "roachwatch",
		TLS:             TLSConfig{Enabled: true},
		Compression:     "lz4",
		DialTimeout:     10 * time.Second,
		BatchSize:       50_000,
		FlushInterval:   time.Second,
		MaxRetries:      10,
		RetryBackoff:    500 * time.Millisecond,
		RetryMaxBackoff: 30 * time.Second,
		TTLDays:         90,
	}
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks every key and names it as clickhouse.<key> with the fix.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Addr) == 0 {
		add("clickhouse.addr: at least one host:port is required, e.g. [\"clickhouse:9440\"]")
	}
	for _, a := range c.Addr {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			add("clickhouse.addr: %q is not host:port, e.g. clickhouse:9440", a)
		}
	}
	if c.Protocol != ProtocolNative && c.Protocol != ProtocolHTTP {
		add("clickhouse.protocol: %q is not native or http", c.Protocol)
	}
	if !identifier.MatchString(c.Database) {
		add("clickhouse.database: %q must be a plain identifier (letters, digits, _)", c.Database)
	}
	if c.Username == "" {
		add("clickhouse.username: required (the server's user for roachwatch, e.g. roachwatch)")
	}
	if c.Compression != "none" && c.Compression != "lz4" && c.Compression != "zstd" {
		add("clickhouse.compression: %q is not none, lz4 or zstd", c.Compression)
	}
	if c.DialTimeout <= 0 {
		add("clickhouse.dial_timeout: must be positive, e.g. 10s; got %s", c.DialTimeout)
	}
	if c.BatchSize < 1 || c.BatchSize > 1_000_000 {
		add("clickhouse.batch_size: must be in 1..1000000 (10000-100000 recommended), got %d", c.BatchSize)
	}
	if c.FlushInterval <= 0 {
		add("clickhouse.flush_interval: must be positive, e.g. 1s; got %s", c.FlushInterval)
	}
	if c.MaxRetries < 0 {
		add("clickhouse.max_retries: must be 0 (no retry) or positive, got %d", c.MaxRetries)
	}
	if c.RetryBackoff <= 0 {
		add("clickhouse.retry_backoff: must be positive, e.g. 500ms; got %s", c.RetryBackoff)
	}
	if c.RetryMaxBackoff < c.RetryBackoff {
		add("clickhouse.retry_max_backoff: must be at least clickhouse.retry_backoff (%s), got %s", c.RetryBackoff, c.RetryMaxBackoff)
	}
	if c.TTLDays < 0 {
		add("clickhouse.ttl_days: must be 0 (keep forever) or positive, got %d", c.TTLDays)
	}
	if c.Cluster != "" && !identifier.MatchString(c.Cluster) {
		add("clickhouse.cluster: %q must be a cluster name from the server's remote_servers (letters, digits, _)", c.Cluster)
	}
	if c.Replicated && c.Cluster == "" {
		add("clickhouse.replicated: Replicated engines need clickhouse.cluster so every replica gets the DDL")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("clickhouse.tls.cert_file: set both tls.cert_file and tls.key_file for a client certificate, or neither")
	}
	if !c.TLS.Enabled && (c.TLS.CAFile != "" || c.TLS.CertFile != "") {
		add("clickhouse.tls.enabled: tls.ca_file/cert_file are set but TLS is off; set tls.enabled: true")
	}
	return errors.Join(errs...)
}

// tlsConfig builds the client TLS config, or nil when TLS is off.
func (c TLSConfig) tlsConfig() (*tls.Config, error) {
	if !c.Enabled {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // off by default; documented
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("clickhouse.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("clickhouse.tls.ca_file: %s holds no PEM certificate", c.CAFile)
		}
		t.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("clickhouse.tls.cert_file/key_file: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// options turns c into clickhouse-go options. The connection has no
// default database: every statement names {{db}} explicitly, so Migrate can
// create it.
func (c Config) options() (*clickhouse.Options, error) {
	t, err := c.TLS.tlsConfig()
	if err != nil {
		return nil, err
	}
	proto := clickhouse.Native
	if c.Protocol == ProtocolHTTP {
		proto = clickhouse.HTTP
	}
	method := clickhouse.CompressionNone
	switch c.Compression {
	case "lz4":
		method = clickhouse.CompressionLZ4
	case "zstd":
		method = clickhouse.CompressionZSTD
	}
	return &clickhouse.Options{
		Protocol:         proto,
		Addr:             append([]string(nil), c.Addr...),
		Auth:             clickhouse.Auth{Username: c.Username, Password: c.Password.Reveal()},
		TLS:              t,
		DialTimeout:      c.DialTimeout,
		Compression:      &clickhouse.Compression{Method: method},
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
		MaxOpenConns:     4,
		MaxIdleConns:     2,
		ConnMaxLifetime:  time.Hour,
		ClientInfo:       clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{Name: "roachwatch", Version: "1"}}},
	}, nil
}
