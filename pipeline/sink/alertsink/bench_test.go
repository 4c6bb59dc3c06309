package alertsink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
)

// BenchmarkRoute measures findings per second through silences, dedup,
// routing and alert encoding to a stdout route writing to io.Discard:
// "alert" makes every finding a new incident (all are alerted), "dedup"
// repeats versions already alerted (none are).
func BenchmarkRoute(b *testing.B) {
	const batch = 100
	fs := make([]detectors.Finding, 4000)
	for i := range fs {
		fs[i] = fnd("RW-TLS-001", fmt.Sprintf("user%05d", i), "", detectors.SeverityHigh, 1, t0)
	}
	for _, mode := range []string{"alert", "dedup"} {
		b.Run(mode, func(b *testing.B) {
			cfg := testConfig(RouteConfig{Name: "discard", Kind: KindStdout}, RouteConfig{Name: "crit", Kind: KindStdout, MinSeverity: "critical"})
			cfg.MaxKeys = 1 << 20
			cfg.Silences = []Silence{{User: "nobody", Expires: "2999-01-01T00:00:00Z"}}
			r, err := New(cfg, Options{Rules: testRules, Stdout: io.Discard})
			require.NoError(b, err)
			defer r.Close()
			if mode == "dedup" {
				require.NoError(b, r.WriteFindings(context.Background(), fs))
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for i := 0; b.Loop(); i++ {
				start := (i * batch) % len(fs)
				chunk := fs[start : start+batch]
				if mode == "alert" {
					// Each pass over fs, every incident grew and is a
					// suppression window older: all are alerted again.
					for j := range chunk {
						chunk[j].Count++
						chunk[j].LastSeen = chunk[j].LastSeen.Add(2 * time.Hour)
					}
				}
				if err := r.WriteFindings(ctx, chunk); err != nil {
					b.Fatal(err)
				}
				n += batch
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "findings/s")
			if sent := val(r.m.Sent.WithLabelValues(KindStdout, "high")); mode == "alert" && sent < float64(n) {
				b.Fatalf("alerted %v of %d findings", sent, n)
			}
		})
	}
}

// The Slack route posts the Block Kit payload to the incoming webhook.
func TestSlackRoutePosts(t *testing.T) {
	rc := newReceiver(t, nil)
	t.Setenv("RW_TEST_SLACK_URL", rc.srv.URL+"/services/T1/B1/token")
	r := newTestRouter(t, testConfig(RouteConfig{Name: "chat", Kind: KindSlack, URLEnv: "RW_TEST_SLACK_URL"}), nil, nil)
	f := fnd("RW-TLS-001", "app", "", detectors.SeverityCritical, 1, t0)
	write(t, r, f)
	require.NoError(t, r.Close())
	require.Equal(t, 1, rc.attempts())
	require.Empty(t, rc.hdrs[0].Get(HeaderSignature), "no secret configured: unsigned")
	want, err := slackPayload(newAlert(&f, testRules[f.RuleID], IncidentKey(&f), ReasonNew, nil, time.Now(), ""))
	require.NoError(t, err)
	// Only sent_at-derived content may differ; the payload has none.
	require.JSONEq(t, string(want), string(rc.bodies[0]))
	_ = http.StatusOK
}
