//go:build integration

package clickhousesink_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/chenv"
	"roachwatch/internal/testenv/testca"
	"roachwatch/pipeline/secret"
	"roachwatch/pipeline/sink/clickhousesink"
)

// tlsConfig is testConfig pointed at the harness's TLS port for protocol,
// with TLS on and the harness CA (the production default, verify-full), as
// user with the harness password.
func tlsConfig(t *testing.T, env chenv.Env, protocol, db, user string) clickhousesink.Config {
	t.Helper()
	native, https, ca := env.TLS(t)
	c := testConfig(t, env, protocol, db)
	c.Username, c.Password = user, secret.String(env.Password(t))
	c.TLS = clickhousesink.DefaultConfig().TLS
	c.TLS.CAFile = ca
	c.Addr = []string{https}
	if protocol == clickhousesink.ProtocolNative {
		c.Addr = []string{native}
	}
	return c
}

// TestTLSVerifyFull writes and reads events through TLS with certificate
// and host name verification and a password, over both protocols; the
// read-only analyst user can run the analyst queries over the same
// connection settings but cannot write, and that is not retried.
func TestTLSVerifyFull(t *testing.T) {
	c := loadCorpus(t)
	for _, protocol := range []string{clickhousesink.ProtocolNative, clickhousesink.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			env := chenv.Server(t)
			db := env.TempDatabase(t, "rw_tls")
			cfg := tlsConfig(t, env, protocol, db, "roachwatch")
			require.True(t, cfg.TLS.Enabled)
			require.False(t, cfg.TLS.InsecureSkipVerify)
			s, err := clickhousesink.Open(context.Background(), cfg, testLogger(t))
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err = s.Migrate(ctx, false, ioDiscard{})
			require.NoError(t, err)

			evs := c.events[:min(len(c.events), 2000)]
			require.NoError(t, s.WriteEvents(ctx, evs))
			require.Equal(t, uint64(len(evs)), countEvents(t, ctx, s))

			acfg := cfg
			acfg.Username = "analyst"
			a, err := clickhousesink.Open(ctx, acfg, testLogger(t))
			require.NoError(t, err)
			t.Cleanup(func() { _ = a.Close() })
			require.Equal(t, uint64(len(evs)), countEvents(t, ctx, a), "the analyst reads")
			err = a.WriteEvents(ctx, evs[:1])
			require.Error(t, err, "the analyst must not write")
			require.Truef(t, errors.Is(err, clickhousesink.ErrPermanent), "a read-only user is a permanent error, got %v", err)
			require.Contains(t, err.Error(), "readonly")
		})
	}
}

// TestTLSRefusesUnverifiedServer: a CA that did not sign the server's
// certificate, the system roots (no ca_file) and a host name the
// certificate does not name must all fail the connection, at once and as
// a permanent error (retrying cannot fix a certificate).
func TestTLSRefusesUnverifiedServer(t *testing.T) {
	otherCA := testca.UnrelatedCA(t, "not the ClickHouse CA")
	cases := []struct {
		name string
		edit func(*clickhousesink.Config)
	}{
		{"wrong CA", func(c *clickhousesink.Config) { c.TLS.CAFile = otherCA }},
		{"system roots", func(c *clickhousesink.Config) { c.TLS.CAFile = "" }},
		{"host name", func(c *clickhousesink.Config) { c.TLS.ServerName = "clickhouse.example.net" }},
	}
	for _, protocol := range []string{clickhousesink.ProtocolNative, clickhousesink.ProtocolHTTP} {
		for _, tc := range cases {
			t.Run(protocol+"/"+tc.name, func(t *testing.T) {
				env := chenv.Server(t)
				cfg := tlsConfig(t, env, protocol, "rw_tls_refused", "roachwatch")
				tc.edit(&cfg)
				s, err := clickhousesink.Open(context.Background(), cfg, testLogger(t))
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				_, err = s.Migrate(ctx, false, ioDiscard{})
				require.Error(t, err)
				require.Truef(t, errors.Is(err, clickhousesink.ErrPermanent), "want a permanent error, got %v", err)
				require.Regexp(t, `certificate|x509`, err.Error())
			})
		}
	}
}

// countEvents counts the distinct events in s's database.
func countEvents(t *testing.T, ctx context.Context, s *clickhousesink.Store) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, s.Select(ctx, "count", "SELECT count() FROM {{db}}.events FINAL", nil, func(r driver.Rows) error {
		n = 0
		for r.Next() {
			if err := r.Scan(&n); err != nil {
				return err
			}
		}
		return nil
	}))
	return n
}
