package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"roachwatch/configs"
)

func TestBadConfigs(t *testing.T) {
	want := map[string]string{
		"unknown_key.bad.yaml":       "unknown key(s) inptu",
		"bad_format.bad.yaml":        `input.format: "xml" is not one of`,
		"unknown_rule.bad.yaml":      "detectors.rules.rw_nope_001: no such rule",
		"bad_severity.bad.yaml":      `detectors.rules.rw_tls_001.severity: "severe"`,
		"bad_network.bad.yaml":       `detectors.rules.rw_tls_001.allow.client_networks: "10.0.0.0/33"`,
		"short_key.bad.yaml":         "redaction.key: must be at least 16 bytes",
		"bad_zone.bad.yaml":          "input.django_timezone",
		"bad_window.bad.yaml":        "detectors.tls.window: must be positive",
		"bad_column.bad.yaml":        `catalog.columns: "ssn" must be table.column`,
		"bad_alert_route.bad.yaml":   `alerts.routes[0].kind: "pager" is not one of`,
		"alert_topic_clash.bad.yaml": "alerts.routes[0].topic: roachwatch.alerts is kafka.topics.alerts",
		"bad_partition_key.bad.yaml": `kafka.producer.partition_key: "user" is not one of principal, cluster`,
	}
	files, err := filepath.Glob("testdata/*.bad.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(want), "every bad config needs its expected error")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			require.Error(t, err)
			require.Contains(t, err.Error(), want[filepath.Base(f)])
		})
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	for name, b := range map[string][]byte{"local.yaml": configs.Local, "roachwatch.yaml": configs.Reference} {
		c, err := LoadBytes(b, name)
		require.NoError(t, err, name)
		require.Equal(t, Default().Input, c.Input, name)
		require.Equal(t, Default().Detectors, c.Detectors, name)
	}
	c, err := Load("")
	require.NoError(t, err)
	require.Equal(t, Default(), c)
}

// The reference config must document every key the code knows, and no
// other.
func TestReferenceNamesEveryKey(t *testing.T) {
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(configs.Reference, &doc))
	var got []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			for k, sub := range m {
				walk(join(prefix, k), sub)
			}
			return
		}
		// A list of structs (alerts.routes) is documented by one example
		// entry: its keys are <list>[].<key>.
		if l, ok := v.([]any); ok && len(l) > 0 {
			if _, isMap := l[0].(map[string]any); isMap {
				for _, item := range l {
					walk(prefix+"[]", item)
				}
				return
			}
		}
		got = append(got, prefix)
	}
	walk("", doc)
	// The per-rule map is documented by one example entry (rw_tls_001);
	// every rule has the same keys.
	require.Equal(t, normalizeRuleKeys(listKeys()), normalizeRuleKeys(got))
}

// listKeys is Keys with every list-of-structs key (alerts.routes) expanded
// into its element's keys, <list>[].<key>.
func listKeys() []string {
	var out []string
	for _, kv := range flatten(Default()) {
		v := reflect.ValueOf(kv.value)
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct {
			for _, sub := range flatten(reflect.Zero(v.Type().Elem()).Interface()) {
				out = append(out, join(kv.key+"[]", sub.key))
			}
			continue
		}
		out = append(out, kv.key)
	}
	return out
}

func normalizeRuleKeys(keys []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(k, "detectors.rules."); ok {
			if _, sub, ok := strings.Cut(rest, "."); ok {
				k = "detectors.rules.<rule>." + sub
			}
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestEnvOverridesEveryKind(t *testing.T) {
	t.Setenv("ROACHWATCH_INPUT_FORMAT", "crdb-v2")
	t.Setenv("ROACHWATCH_DETECTORS_TLS_WINDOW", "90m")
	t.Setenv("ROACHWATCH_DETECTORS_TLS_FLAG_LOCAL", "true")
	t.Setenv("ROACHWATCH_DETECTORS_RULES_RW_TLS_001_SEVERITY", "critical")
	t.Setenv("ROACHWATCH_DETECTORS_RULES_RW_TLS_001_ALLOW_USERS", "svc_a,svc_b")
	t.Setenv("ROACHWATCH_REDACTION_KEY", "0123456789abcdef0123")
	t.Setenv("ROACHWATCH_INPUT_MAX_ENTRY_BYTES", "33554432")
	c, err := Load("")
	require.NoError(t, err)
	require.Equal(t, "crdb-v2", c.Input.Format)
	require.Equal(t, "1h30m0s", c.Detectors.TLS.Window.String())
	require.True(t, c.Detectors.TLS.FlagLocal)
	require.Equal(t, "critical", c.Detectors.Rules["rw_tls_001"].Severity)
	require.Equal(t, []string{"svc_a", "svc_b"}, c.Detectors.Rules["rw_tls_001"].Allow.Users)
	require.Equal(t, 33554432, c.Input.MaxEntryBytes)
	key, ok, err := c.HMACKey()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "0123456789abcdef0123", string(key))

	t.Setenv("ROACHWATCH_INPUT_FORMAT", "yaml")
	_, err = Load("")
	require.ErrorContains(t, err, `input.format: "yaml"`)
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2-hunter2-hunter2")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "key", s)
	fmt.Fprintf(&buf, "%v %s %+v", s, s, Config{Redaction: RedactionConfig{Key: s}})
	require.NotContains(t, buf.String(), "hunter2")
	require.Equal(t, "hunter2-hunter2-hunter2", s.Reveal())
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(p, []byte("  fedcba9876543210fedcba\n"), 0o600))
	c := Default()
	c.Redaction.KeyFile = p
	key, ok, err := c.HMACKey()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "fedcba9876543210fedcba", string(key))
	c.Redaction.KeyFile = filepath.Join(dir, "missing")
	_, _, err = c.HMACKey()
	require.ErrorContains(t, err, "redaction.key_file")
	require.True(t, strings.Contains(err.Error(), "missing"))
}

// Routes and silences are lists: they come from the file (viper cannot
// override list items from the environment), scalars of the section from
// either.
func TestAlertsFromFile(t *testing.T) {
	t.Setenv("ROACHWATCH_ALERTS_SUPPRESSION_WINDOW", "2h")
	t.Setenv("ROACHWATCH_ALERTS_REALERT_ON", "severity,count")
	c, err := LoadBytes(configs.Reference, "roachwatch.yaml")
	require.NoError(t, err)
	require.False(t, c.Alerts.Enabled)
	require.Equal(t, "2h0m0s", c.Alerts.SuppressionWindow.String())
	require.Equal(t, []string{"severity", "count"}, c.Alerts.RealertOn)
	require.Len(t, c.Alerts.Routes, 1)
	r := c.Alerts.Routes[0]
	require.Equal(t, "webhook", r.Kind)
	require.Equal(t, []string{"RW-TLS-*", "RW-CRYPTO-*", "RW-SQLI-001"}, r.Rules)
	require.Equal(t, "ROACHWATCH_ALERTS_ONCALL_SECRET", r.SecretEnv)
	require.Equal(t, "5s", r.Timeout.String())
	require.Equal(t, "200ms", r.BackoffMin.String())
	require.Len(t, c.Alerts.Silences, 1)
	require.Equal(t, "2026-01-31T00:00:00Z", c.Alerts.Silences[0].Expires)
	require.Contains(t, listKeys(), "alerts.routes[].secret_env")
}
