package alertsink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
)

func TestWebhookSignature(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) bool {
		// The receiver verifies like a real one would.
		return false
	})
	r := newTestRouter(t, testConfig(webhookRoute(t, rc.srv.URL)), nil, nil)
	write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0))
	require.NoError(t, r.Close())

	require.Equal(t, 1, rc.attempts())
	h, body := rc.hdrs[0], rc.bodies[0]
	ts, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	require.NotEmpty(t, ts)
	require.True(t, strings.HasPrefix(sig, "sha256="))
	// Recompute the HMAC independently of sign().
	require.Equal(t, sig, hmacHex(testSecret, ts+"."+string(body)))
	require.NoError(t, Verify([]byte(testSecret), ts, sig, body, time.Now(), time.Minute))
	require.Error(t, Verify([]byte("wrong-secret"), ts, sig, body, time.Now(), time.Minute), "a wrong secret must not verify")
	require.Error(t, Verify([]byte(testSecret), ts, sig, append(body, ' '), time.Now(), time.Minute), "a changed body must not verify")
	require.Error(t, Verify([]byte(testSecret), ts, sig, body, time.Now().Add(time.Hour), time.Minute), "a replayed request must not verify")
	require.Equal(t, "application/json", h.Get("Content-Type"))
	a := rc.accepted(t)[0]
	require.Equal(t, a.ID, h.Get(HeaderAlertID))
	validateAlert(t, body)
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name         string
		handle       func(n int, w http.ResponseWriter, r *http.Request) bool
		close        bool // server closed: connection refused
		wantAttempts int
		wantSent     float64
		wantFailed   float64
		minGap       time.Duration // between the first two attempts
	}{
		{name: "500 then ok", handle: failFirst(2, http.StatusInternalServerError), wantAttempts: 3, wantSent: 1},
		{name: "timeout then ok", handle: func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 0 {
				time.Sleep(500 * time.Millisecond) // past the 300ms client timeout
				w.WriteHeader(http.StatusOK)
				return true
			}
			return false
		}, wantAttempts: 2, wantSent: 1},
		{name: "400 not retried", handle: failFirst(10, http.StatusBadRequest), wantAttempts: 1, wantFailed: 1},
		{name: "404 not retried", handle: failFirst(10, http.StatusNotFound), wantAttempts: 1, wantFailed: 1},
		{name: "429 honours Retry-After", handle: func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 0 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			return false
		}, wantAttempts: 2, wantSent: 1, minGap: 900 * time.Millisecond},
		{name: "503 until retries are used up", handle: failFirst(100, http.StatusServiceUnavailable), wantAttempts: 4, wantFailed: 1},
		{name: "redirect not followed", handle: func(n int, w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusTemporaryRedirect)
			return true
		}, wantAttempts: 1, wantFailed: 1},
		{name: "connection refused", close: true, wantFailed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.handle)
			if tt.close {
				rc.srv.Close()
			}
			r := newTestRouter(t, testConfig(webhookRoute(t, rc.srv.URL)), nil, nil)
			write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0))
			require.NoError(t, r.Close())
			require.Equal(t, tt.wantAttempts, rc.attempts())
			require.Equal(t, tt.wantSent, val(r.m.Sent.WithLabelValues(KindWebhook, "high")))
			require.Equal(t, tt.wantFailed, val(r.m.Failed.WithLabelValues(KindWebhook, "high")))
			if tt.wantAttempts > 1 {
				require.Equal(t, float64(tt.wantAttempts-1), val(r.m.Retries.WithLabelValues(KindWebhook)))
				require.GreaterOrEqual(t, rc.times[1].Sub(rc.times[0]), tt.minGap)
				// Every attempt carries the same alert.
				require.Equal(t, rc.hdrs[0].Get(HeaderAlertID), rc.hdrs[1].Get(HeaderAlertID))
			}
		})
	}
}

// failFirst answers the first n requests with status.
func failFirst(n, status int) func(int, http.ResponseWriter, *http.Request) bool {
	return func(i int, w http.ResponseWriter, _ *http.Request) bool {
		if i < n {
			w.WriteHeader(status)
			return true
		}
		return false
	}
}

func TestWebhookNoDuplicatesInWindow(t *testing.T) {
	rc := newReceiver(t, nil)
	r := newTestRouter(t, testConfig(webhookRoute(t, rc.srv.URL)), nil, nil)
	f := fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0)
	write(t, r, f, f)
	write(t, r, f) // a replayed batch
	for i := range int64(5) {
		write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 2+i, t0.Add(time.Duration(i)*time.Minute))) // it grows
	}
	// The next detector window of the same rule and principal, 30m later.
	next := fnd("RW-TLS-001", "app", "window-2", detectors.SeverityHigh, 1, t0.Add(30*time.Minute))
	write(t, r, next)
	require.NoError(t, r.Close())
	require.Len(t, rc.accepted(t), 1)
	require.Equal(t, float64(8), val(r.m.Deduplicated.WithLabelValues("high")))
}

func TestWebhookRealertOnSeverityRise(t *testing.T) {
	for _, tc := range []struct {
		realert []string
		want    []string // reasons delivered
	}{
		{nil, []string{ReasonNew}},
		{[]string{RealertSeverity}, []string{ReasonNew, ReasonSeverityRose}},
		{[]string{RealertSeverity, RealertCount}, []string{ReasonNew, ReasonCountGrew, ReasonSeverityRose}},
	} {
		t.Run(fmt.Sprint(tc.realert), func(t *testing.T) {
			rc := newReceiver(t, nil)
			cfg := testConfig(webhookRoute(t, rc.srv.URL))
			cfg.RealertOn = tc.realert
			r := newTestRouter(t, cfg, nil, nil)
			write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0))
			write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 2, t0.Add(time.Minute)))
			write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityCritical, 3, t0.Add(2*time.Minute)))
			write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityCritical, 3, t0.Add(2*time.Minute)))
			require.NoError(t, r.Close())
			var got []string
			for _, a := range rc.accepted(t) {
				got = append(got, a.Reason)
				if a.Reason == ReasonSeverityRose {
					require.Equal(t, detectors.SeverityHigh, *a.PreviousSeverity)
					require.Equal(t, detectors.SeverityCritical, a.Severity)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// Versions of many keys written concurrently (one writer per key, several
// workers, random latency and 500s in the receiver) arrive in order per key.
func TestWebhookOrderPerKeyUnderConcurrency(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) bool {
		time.Sleep(time.Duration(n%3) * time.Millisecond)
		if n%7 == 3 {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	route := webhookRoute(t, rc.srv.URL)
	route.MaxRetries = 20
	cfg := testConfig(route)
	cfg.RealertOn = []string{RealertCount}
	r := newTestRouter(t, cfg, nil, nil)
	const keys, versions = 12, 15
	var wg sync.WaitGroup
	for k := range keys {
		wg.Go(func() {
			user := fmt.Sprintf("user%02d", k)
			for v := range int64(versions) {
				f := fnd("RW-TLS-001", user, "", detectors.SeverityHigh, v+1, t0.Add(time.Duration(v)*time.Second))
				if err := r.WriteFindings(context.Background(), []detectors.Finding{f}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, r.Close())
	last := map[string]int64{}
	got := rc.accepted(t)
	require.Len(t, got, keys*versions)
	for _, a := range got {
		require.Equal(t, last[a.Principal.User]+1, a.Count, "user %s out of order", a.Principal.User)
		last[a.Principal.User] = a.Count
	}
}

func TestWebhookBoundedQueue(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) bool { <-release; return false })
	defer close(release)
	for _, tc := range []struct{ overflow string }{{OverflowBlock}, {OverflowDropOldest}} {
		t.Run(tc.overflow, func(t *testing.T) {
			route := webhookRoute(t, rc.srv.URL)
			route.QueueSize, route.Workers, route.Overflow, route.Timeout = 2, 1, tc.overflow, 10*time.Second
			cfg := testConfig(route)
			cfg.CloseTimeout = 200 * time.Millisecond
			r := newTestRouter(t, cfg, nil, nil)
			// One alert in flight (the receiver holds it) and two queued
			// fill the route; the fourth finds it full.
			for i := range 3 {
				write(t, r, fnd("RW-TLS-001", fmt.Sprint("u", i), "", detectors.SeverityHigh, 1, t0))
				if i == 0 {
					require.Eventually(t, func() bool { return val(r.m.Queued.WithLabelValues(KindWebhook)) == 0 }, time.Second, time.Millisecond)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := r.WriteFindings(ctx, []detectors.Finding{fnd("RW-TLS-001", "u3", "", detectors.SeverityHigh, 1, t0)})
			if tc.overflow == OverflowBlock {
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.Zero(t, val(r.m.Dropped.WithLabelValues(KindWebhook, "high")))
			} else {
				require.NoError(t, err)
				require.Equal(t, float64(1), val(r.m.Dropped.WithLabelValues(KindWebhook, "high")))
			}
			require.Equal(t, float64(2), val(r.m.Queued.WithLabelValues(KindWebhook)))
			dropped := val(r.m.Dropped.WithLabelValues(KindWebhook, "high"))

			// Close flushes until close_timeout, then aborts the request in
			// flight and drops (and counts) the rest.
			start := time.Now()
			require.ErrorContains(t, r.Close(), "flushing alert queue")
			require.Less(t, time.Since(start), 2*time.Second)
			require.Equal(t, dropped+3, val(r.m.Dropped.WithLabelValues(KindWebhook, "high")))
			require.Zero(t, val(r.m.Queued.WithLabelValues(KindWebhook)))
		})
	}
}

// Retry-storms and rejections are logged, but never with the secret, the
// URL's token or the body.
func TestWebhookSecretNeverLogged(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader([]int{http.StatusInternalServerError, http.StatusForbidden}[n%2])
		return true
	})
	var logs bytes.Buffer
	hook := webhookRoute(t, rc.srv.URL)
	t.Setenv("RW_TEST_SLACK_URL", rc.srv.URL+"/services/T000/B000/xoxb-slack-token-abc")
	slack := RouteConfig{Name: "chat", Kind: KindSlack, URLEnv: "RW_TEST_SLACK_URL", SecretEnv: "RW_TEST_ALERT_SECRET",
		Timeout: 300 * time.Millisecond, MaxRetries: 2, BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond, QueueSize: 10, Workers: 1}
	dead := hook
	dead.Name, dead.URL = "dead", "http://127.0.0.1:1/hook?token=url-token-xyz"
	r := newTestRouter(t, testConfig(hook, slack, dead), &logs, nil)
	f := fnd("RW-TLS-001", "app", "", detectors.SeverityCritical, 1, t0)
	f.Summary = "unique-summary-text-in-body"
	write(t, r, f)
	require.NoError(t, r.Close())
	out := logs.String()
	require.Contains(t, out, "alert delivery failed")
	for _, s := range []string{testSecret, "xoxb-slack-token-abc", "url-token-xyz", "unique-summary-text-in-body", "/services/"} {
		require.NotContains(t, out, s)
	}
	require.Equal(t, float64(3), val(r.m.Failed.WithLabelValues(KindWebhook, "critical"))+val(r.m.Failed.WithLabelValues(KindSlack, "critical")))
}

func TestMissingSecretNamesTheVariable(t *testing.T) {
	route := webhookRoute(t, "http://127.0.0.1:1/")
	route.SecretEnv = "RW_TEST_UNSET_SECRET"
	_, err := New(testConfig(route), Options{})
	require.ErrorContains(t, err, "RW_TEST_UNSET_SECRET is unset")
	require.False(t, errors.Is(err, context.Canceled))
}

// The shared secret may come from a file (trimmed), e.g. a mounted secret.
func TestWebhookSecretFromFile(t *testing.T) {
	rc := newReceiver(t, nil)
	path := t.TempDir() + "/secret"
	require.NoError(t, os.WriteFile(path, []byte("  file-secret-42\n"), 0o600))
	route := webhookRoute(t, rc.srv.URL)
	route.SecretEnv, route.SecretFile = "", path
	r := newTestRouter(t, testConfig(route), nil, nil)
	write(t, r, fnd("RW-TLS-001", "app", "", detectors.SeverityHigh, 1, t0))
	require.NoError(t, r.Close())
	require.Equal(t, hmacHex("file-secret-42", rc.hdrs[0].Get(HeaderTimestamp)+"."+string(rc.bodies[0])), rc.hdrs[0].Get(HeaderSignature))
}
