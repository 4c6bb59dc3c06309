//go:build integration

package clickhousesink_test

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/internal/config"
	"roachwatch/internal/testenv/chenv"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/runner"
	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/pipeline/source"
)

// testConfig is a store config for the harness server over protocol, in
// database db, without TLS (the harness serves plain loopback only) and
// with short backoffs.
func testConfig(t testing.TB, env chenv.Env, protocol, db string) clickhousesink.Config {
	t.Helper()
	c := clickhousesink.DefaultConfig()
	c.Protocol = protocol
	c.Addr = []string{env.HTTPAddr}
	if protocol == clickhousesink.ProtocolNative {
		if env.NativeAddr == "" {
			t.Skip("native protocol not served by the harness")
		}
		c.Addr = []string{env.NativeAddr}
	}
	c.Username = "default"
	c.Database = db
	c.TLS.Enabled = false
	// Loggen data is from 2025: a 90-day TTL would expire it at once. Ten
	// years keeps the TTL clause exercised without deleting test data.
	c.TTLDays = 3650
	c.MaxRetries = 3
	c.RetryBackoff = 20 * time.Millisecond
	c.RetryMaxBackoff = 200 * time.Millisecond
	return c
}

// openStore opens a store on a fresh database, migrated, closed at the end.
func openStore(t testing.TB, protocol string, edit ...func(*clickhousesink.Config)) (*clickhousesink.Store, chenv.Env, string) {
	t.Helper()
	env := chenv.Server(t)
	db := env.TempDatabase(t, "rw_sink")
	cfg := testConfig(t, env, protocol, db)
	for _, e := range edit {
		e(&cfg)
	}
	s, err := clickhousesink.Open(context.Background(), cfg, testLogger(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(context.Background(), false, ioDiscard{})
	require.NoError(t, err)
	return s, env, db
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("ROACHWATCH_TEST_VERBOSE") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// corpus is loggen output decoded and analysed once per test binary.
type corpus struct {
	truth    *loggen.Truth
	events   []event.Event
	findings []detectors.Finding
}

var (
	corpusOnce sync.Once
	corpusData corpus
	corpusErr  error
)

// loadCorpus generates loggen data (seed 1, 1 day, rate 3000), decodes it
// the way cmd/analyze's analyzeFiles does, and runs the detectors.
func loadCorpus(t testing.TB) corpus {
	t.Helper()
	corpusOnce.Do(func() { corpusData, corpusErr = buildCorpus() })
	require.NoError(t, corpusErr)
	return corpusData
}

func buildCorpus() (corpus, error) {
	dir, err := os.MkdirTemp("", "rw-clickhousesink-loggen-")
	if err != nil {
		return corpus{}, err
	}
	defer os.RemoveAll(dir)
	cfg := loggen.DefaultConfig()
	cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, 1, 1, 3000
	truth, err := loggen.Generate(cfg)
	if err != nil {
		return corpus{}, err
	}
	files, err := source.Expand([]string{dir})
	if err != nil {
		return corpus{}, err
	}
	engine, err := detectors.NewEngine(all.Detectors(all.DefaultConfig()), nil)
	if err != nil {
		return corpus{}, err
	}
	conf := config.Default()
	conf.Redaction.Key = "clickhousesink-test-key-0123456789"
	dec, err := cli.NewDecoding(conf, slog.New(slog.DiscardHandler))
	if err != nil {
		return corpus{}, err
	}
	var c corpus
	c.truth = truth
	var last int64
	err = runner.Run(context.Background(), runner.Options{
		Files:         files,
		Format:        parse.FormatAuto,
		Formats:       dec.Formats,
		MaxLineBytes:  conf.Input.MaxLineBytes,
		NewNormalizer: dec.Normalizer,
		Workers:       runtime.GOMAXPROCS(0),
		IngestTime:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
	}, &runner.Stats{}, func(ev *event.Event) error {
		last = max(last, ev.Time)
		engine.Observe(ev)
		c.events = append(c.events, deepCopy(ev))
		return nil
	})
	if err != nil {
		return corpus{}, err
	}
	engine.Finish()
	c.findings = engine.Findings()
	return c, nil
}

// deepCopy copies ev with its slices and maps, since the runner reuses
// events after the callback returns.
func deepCopy(ev *event.Event) event.Event {
	c := *ev
	c.Tables = append([]string(nil), ev.Tables...)
	c.Columns = append([]string(nil), ev.Columns...)
	c.SensitiveColumns = append([]string(nil), ev.SensitiveColumns...)
	c.Values = append([]event.Value(nil), ev.Values...)
	c.Secrets = append([]event.Secret(nil), ev.Secrets...)
	c.GrantedPrivileges = append([]string(nil), ev.GrantedPrivileges...)
	c.RevokedPrivileges = append([]string(nil), ev.RevokedPrivileges...)
	c.Roles = append([]string(nil), ev.Roles...)
	c.Members = append([]string(nil), ev.Members...)
	c.Options = append([]string(nil), ev.Options...)
	c.QueryTags = cloneMap(ev.QueryTags)
	c.Attrs = cloneMap(ev.Attrs)
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
