package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/config"
	"roachwatch/pipeline/sink/alertsink"
	"roachwatch/schemas"
)

// The embedded run's findings reach a real webhook receiver as signed,
// schema-valid alerts, one per incident key within the suppression
// window, each linking back to a finding of the run.
func TestEmbeddedRunAlerts(t *testing.T) {
	dir, _ := generate(t, 9, 1, 1500)
	const secret = "embedded-alerts-secret-0123"
	t.Setenv("RW_TEST_EMBEDDED_SECRET", secret)
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if alertsink.Verify([]byte(secret), r.Header.Get(alertsink.HeaderTimestamp), r.Header.Get(alertsink.HeaderSignature), b, time.Now(), time.Minute) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer srv.Close()

	cfg := config.Default()
	cfg.Alerts.Enabled = true
	cfg.Alerts.Routes = []alertsink.RouteConfig{{Name: "hook", Kind: alertsink.KindWebhook, URL: srv.URL, SecretEnv: "RW_TEST_EMBEDDED_SECRET", MinSeverity: "medium"}}
	require.NoError(t, cfg.Validate())
	var stdout, stderr bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	a, err := analyzeFiles(cmd, cfg, []string{dir}, "", "")
	require.NoError(t, err)
	require.NotEmpty(t, a.findings)
	require.NoError(t, alertFindings(cmd, cfg, a.findings))
	require.NotContains(t, stderr.String(), secret)

	ids := map[string]bool{}
	for _, f := range a.findings {
		ids[f.ID] = true
	}
	s, err := schemas.Compile(schemas.Alert)
	require.NoError(t, err)
	require.NotEmpty(t, bodies)
	seen := map[string]bool{}
	for _, b := range bodies {
		require.NoError(t, schemas.Validate(s, b))
		var al alertsink.Alert
		require.NoError(t, json.Unmarshal(b, &al))
		require.True(t, ids[al.FindingID], "alert %s links to an unknown finding", al.ID)
		require.NotEmpty(t, al.Query)
		require.False(t, seen[al.ID], "alert %s delivered twice", al.ID)
		seen[al.ID] = true
	}
	t.Logf("%d findings -> %d alerts", len(a.findings), len(bodies))
}

// newAlertSink is nil when alerts are off.
func TestAlertSinkOff(t *testing.T) {
	as, err := newAlertSink(config.Default(), nil, nil)
	require.NoError(t, err)
	require.Nil(t, as)
}
