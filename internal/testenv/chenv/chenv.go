// Package chenv connects integration tests to the ClickHouse server that
// scripts/clickhouse.sh starts on loopback.
//
// That server is a real, current ClickHouse (26.x) taken from the chdb-core
// wheel on PyPI: ClickHouse's own HTTP interface and native TCP protocol, not
// an emulation (scripts/clickhouse/README.md explains how and lists the
// limits). The script prints its coordinates as environment variables:
//
//	bash scripts/clickhouse.sh start && eval "$(bash scripts/clickhouse.sh env)"
//	go test -tags integration ./...
//
// Tests call Server first. Without ROACHWATCH_TEST_CLICKHOUSE it skips the
// test with a message that says how to start the server; with
// ROACHWATCH_REQUIRE_CLICKHOUSE=1 it fails instead, so a CI run that meant to
// test against ClickHouse cannot pass by skipping. There is deliberately no
// in-process fake: driver behaviour is tested against the real engine.
package chenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Environment variables read by Server; scripts/clickhouse.sh env prints them.
const (
	// VarHTTP is the base URL of the HTTP interface, e.g. http://127.0.0.1:18123.
	VarHTTP = "ROACHWATCH_TEST_CLICKHOUSE"
	// VarNative is host:port of the native protocol listener (optional).
	VarNative = "ROACHWATCH_TEST_CLICKHOUSE_NATIVE"
	// VarTLSNative is host:port of the native protocol over TLS (optional).
	VarTLSNative = "ROACHWATCH_TEST_CLICKHOUSE_TLS_NATIVE"
	// VarHTTPS is host:port of the HTTP interface over TLS (optional).
	VarHTTPS = "ROACHWATCH_TEST_CLICKHOUSE_HTTPS"
	// VarCA is the PEM file of the CA that signed the TLS ports' certificate.
	VarCA = "ROACHWATCH_TEST_CLICKHOUSE_CA"
	// VarPasswordFile holds the password of the users "roachwatch"
	// (read-write) and "analyst" (read-only).
	VarPasswordFile = "ROACHWATCH_TEST_CLICKHOUSE_PASSWORD_FILE"
	// VarRequire set to 1 turns a missing server from a skip into a failure.
	VarRequire = "ROACHWATCH_REQUIRE_CLICKHOUSE"
)

// startHint is the command that brings the server up.
const startHint = "bash scripts/clickhouse.sh start && eval \"$(bash scripts/clickhouse.sh env)\""

// probeTimeout bounds the reachability check and the Ping in Open, so a server
// that is down fails a test quickly instead of hanging it.
const probeTimeout = 10 * time.Second

// DefaultSettings are sent with every query of a connection from Open unless
// the caller overrides them. They keep a stuck query from hanging a test run.
var DefaultSettings = clickhouse.Settings{
	"max_execution_time": 300,
}

// Env is where the test server listens.
type Env struct {
	HTTPURL    string // base URL of the HTTP interface (scheme://host:port)
	HTTPAddr   string // host:port of the HTTP interface
	NativeAddr string // host:port of the native protocol, "" if not served
	// The TLS ports ("" if not served) and the CA that signed their
	// certificate (for localhost and 127.0.0.1).
	TLSNativeAddr, HTTPSAddr, CAFile string
	// PasswordFile holds the password of the users "roachwatch"
	// (read-write) and "analyst" (read-only); "" if the server has none.
	PasswordFile string
}

// Password returns the password of the users "roachwatch" and "analyst",
// skipping the test when the server has none (or failing it with
// ROACHWATCH_REQUIRE_CLICKHOUSE=1).
func (e Env) Password(t testing.TB) string {
	t.Helper()
	if e.PasswordFile == "" {
		msg := fmt.Sprintf("clickhouse test needs the users with a password: %s is unset; run `%s`", VarPasswordFile, startHint)
		if os.Getenv(VarRequire) == "1" {
			t.Fatalf("%s (failing, not skipping, because %s=1)", msg, VarRequire)
		}
		t.Skip(msg)
	}
	b, err := os.ReadFile(e.PasswordFile)
	if err != nil {
		t.Fatalf("clickhouse test password: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// TLS returns the TLS ports and the CA file, skipping the test when the
// server has none (or failing it with ROACHWATCH_REQUIRE_CLICKHOUSE=1).
func (e Env) TLS(t testing.TB) (native, https, caFile string) {
	t.Helper()
	if e.TLSNativeAddr == "" || e.HTTPSAddr == "" || e.CAFile == "" {
		msg := fmt.Sprintf("clickhouse TLS test needs %s, %s and %s; run `%s`", VarTLSNative, VarHTTPS, VarCA, startHint)
		if os.Getenv(VarRequire) == "1" {
			t.Fatalf("%s (failing, not skipping, because %s=1)", msg, VarRequire)
		}
		t.Skip(msg)
	}
	return e.TLSNativeAddr, e.HTTPSAddr, e.CAFile
}

// FromEnviron reads Env from the process environment. It reports whether
// VarHTTP is set; a set but malformed value is an error.
func FromEnviron() (Env, bool, error) {
	raw := strings.TrimSpace(os.Getenv(VarHTTP))
	if raw == "" {
		return Env{}, false, nil
	}
	e, err := parse(raw, strings.TrimSpace(os.Getenv(VarNative)))
	if err != nil {
		return e, true, err
	}
	for _, v := range []struct {
		name string
		dst  *string
	}{{VarTLSNative, &e.TLSNativeAddr}, {VarHTTPS, &e.HTTPSAddr}} {
		a := strings.TrimSpace(os.Getenv(v.name))
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return e, true, fmt.Errorf("%s=%q: want host:port: %w", v.name, a, err)
		}
		*v.dst = a
	}
	e.CAFile = strings.TrimSpace(os.Getenv(VarCA))
	e.PasswordFile = strings.TrimSpace(os.Getenv(VarPasswordFile))
	return e, true, nil
}

func parse(httpURL, native string) (Env, error) {
	u, err := url.Parse(httpURL)
	if err != nil {
		return Env{}, fmt.Errorf("%s=%q: %w", VarHTTP, httpURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Env{}, fmt.Errorf("%s=%q: want an http:// URL such as http://127.0.0.1:18123", VarHTTP, httpURL)
	}
	if u.Port() == "" {
		return Env{}, fmt.Errorf("%s=%q: the URL needs an explicit port", VarHTTP, httpURL)
	}
	if u.Path != "" && u.Path != "/" {
		return Env{}, fmt.Errorf("%s=%q: the URL must not have a path", VarHTTP, httpURL)
	}
	e := Env{HTTPURL: u.Scheme + "://" + u.Host, HTTPAddr: u.Host}
	if native != "" {
		if _, _, err := net.SplitHostPort(native); err != nil {
			return Env{}, fmt.Errorf("%s=%q: want host:port: %w", VarNative, native, err)
		}
		e.NativeAddr = native
	}
	return e, nil
}

// Server returns the test server's Env. When ROACHWATCH_TEST_CLICKHOUSE is
// unset it skips the test, or fails it if ROACHWATCH_REQUIRE_CLICKHOUSE=1.
// When it is set, the server must answer /ping: a configured but dead server
// fails the test rather than skipping it.
func Server(t testing.TB) Env {
	t.Helper()
	e, ok, err := FromEnviron()
	if !ok {
		msg := fmt.Sprintf("clickhouse integration test needs a server: %s is unset; run `%s`", VarHTTP, startHint)
		if os.Getenv(VarRequire) == "1" {
			t.Fatalf("%s (failing, not skipping, because %s=1)", msg, VarRequire)
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatalf("clickhouse test env: %v", err)
	}
	if err := e.ping(); err != nil {
		t.Fatalf("clickhouse test server %s (%s) is not answering: %v; does `bash scripts/clickhouse.sh status` say it runs?",
			e.HTTPURL, VarHTTP, err)
	}
	return e
}

// ping checks the HTTP interface's /ping endpoint, which answers "Ok.\n".
func (e Env) ping() error {
	c := &http.Client{Timeout: probeTimeout}
	resp, err := c.Get(e.HTTPURL + "/ping")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /ping: %s", resp.Status)
	}
	return nil
}

// Options returns clickhouse-go options for database over protocol
// (clickhouse.HTTP or clickhouse.Native), with DefaultSettings. The caller
// may change them before clickhouse.Open.
func (e Env) Options(database string, protocol clickhouse.Protocol) (*clickhouse.Options, error) {
	addr := e.HTTPAddr
	if protocol == clickhouse.Native {
		if e.NativeAddr == "" {
			return nil, fmt.Errorf("the test server has no native listener (%s unset)", VarNative)
		}
		addr = e.NativeAddr
	}
	settings := clickhouse.Settings{}
	for k, v := range DefaultSettings {
		settings[k] = v
	}
	return &clickhouse.Options{
		Protocol:    protocol,
		Addr:        []string{addr},
		Auth:        clickhouse.Auth{Database: database, Username: "default"},
		Settings:    settings,
		DialTimeout: probeTimeout,
	}, nil
}

// Open connects to database over HTTP (clickhouse.HTTP, the protocol the
// project uses) and pings. The connection is closed when the test ends.
func (e Env) Open(t testing.TB, database string) driver.Conn {
	t.Helper()
	return e.OpenProtocol(t, database, clickhouse.HTTP)
}

// OpenProtocol is Open over the given protocol. Over clickhouse.Native it
// skips the test when the server has no native listener.
func (e Env) OpenProtocol(t testing.TB, database string, protocol clickhouse.Protocol) driver.Conn {
	t.Helper()
	if protocol == clickhouse.Native && e.NativeAddr == "" {
		t.Skipf("native protocol not served: %s is unset", VarNative)
	}
	opts, err := e.Options(database, protocol)
	if err != nil {
		t.Fatalf("clickhouse options: %v", err)
	}
	return e.OpenOptions(t, opts)
}

// OpenOptions opens a connection with opts (see Options), pings it, and
// closes it when the test ends.
func (e Env) OpenOptions(t testing.TB, opts *clickhouse.Options) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatalf("clickhouse.Open(%s %v): %v", opts.Protocol, opts.Addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("ping clickhouse over %s at %v: %v", opts.Protocol, opts.Addr, err)
	}
	return conn
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// TempDatabase creates a database with a unique name that starts with prefix
// and drops it when the test ends (set ROACHWATCH_KEEP_CLICKHOUSE_DB=1 to keep
// it for a look afterwards). Tests sharing one server stay out of each
// other's way by working in their own database.
func (e Env) TempDatabase(t testing.TB, prefix string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random: %v", err)
	}
	p := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(prefix), "_"), "_")
	if p == "" {
		p = "test"
	}
	name := fmt.Sprintf("%s_%s_%s", p, time.Now().UTC().Format("150405"), hex.EncodeToString(b[:]))

	admin := e.Open(t, "default")
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	if err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("CREATE DATABASE %s: %v", name, err)
	}
	t.Cleanup(func() {
		if os.Getenv("ROACHWATCH_KEEP_CLICKHOUSE_DB") == "1" {
			t.Logf("keeping clickhouse database %s", name)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		// admin is closed by its own cleanup, which runs after this one (LIFO).
		if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" SYNC"); err != nil {
			t.Errorf("DROP DATABASE %s: %v", name, err)
		}
	})
	return name
}
