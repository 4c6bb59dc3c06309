package alertsink

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"roachwatch/pipeline/secret"
)

// Headers of webhook requests.
const (
	HeaderTimestamp = "X-Roachwatch-Timestamp" // unix seconds of the attempt
	HeaderSignature = "X-Roachwatch-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderAlertID   = "X-Roachwatch-Alert-Id"  // Alert.ID: receivers drop repeats
)

// errClosedRoute is returned by accept after close.
var errClosedRoute = errors.New("alertsink: route closed")

// httpRoute delivers alerts as HTTP POSTs (generic JSON or Slack) from a
// bounded queue. The queue is split into one FIFO channel per worker, and
// an alert's incident key always picks the same worker, so the alerts of
// one key are delivered one at a time, in order, retries included.
//
// Goroutines: one per worker, started by newHTTPRoute; each exits when its
// channel is closed and drained (close) or, at the close deadline, after
// counting what is left as dropped.
type httpRoute struct {
	cfg    RouteConfig
	target secret.String // the URL: a Slack URL embeds a token, so it is never logged
	key    secret.String // HMAC key; "" = unsigned (Slack only)
	client *http.Client
	now    func() time.Time
	m      *Metrics
	log    *slog.Logger
	render func(*Alert) ([]byte, error)

	warn every // rate limit of per-alert warnings

	queues []chan *Alert
	ctx    context.Context // cancelled at the close deadline: aborts in-flight requests and backoffs
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool // guarded by the router's route order lock (accept) and close's caller
}

func newHTTPRoute(rc RouteConfig, target, key secret.String, client *http.Client, r *Router, now func() time.Time) *httpRoute {
	h := &httpRoute{cfg: rc, target: target, key: key, client: client, now: now, m: r.m,
		log:    r.log.With("route", rc.Name, "kind", rc.Kind),
		render: func(a *Alert) ([]byte, error) { return json.Marshal(a) }}
	if rc.Kind == KindSlack {
		h.render = slackPayload
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	per := max(1, rc.QueueSize/rc.Workers)
	for range rc.Workers {
		q := make(chan *Alert, per)
		h.queues = append(h.queues, q)
		h.wg.Go(func() { h.work(q) })
	}
	return h
}

// accept queues every alert. With overflow block it waits for room until
// ctx ends; with drop_oldest it drops the oldest queued alert of the
// worker's queue instead. Callers are serialized by the route order lock,
// so each queue has one producer.
func (h *httpRoute) accept(ctx context.Context, as []*Alert) error {
	if h.closed {
		return errClosedRoute
	}
	for i, a := range as {
		q := h.queues[shard(a.IncidentKey, len(h.queues))]
		if h.cfg.Overflow == OverflowDropOldest {
			h.pushDropOldest(q, a)
			continue
		}
		select {
		case q <- a:
			h.m.Queued.WithLabelValues(h.cfg.Kind).Inc()
		case <-ctx.Done():
			return fmt.Errorf("queueing alert %d of %d (queue full): %w", i+1, len(as), ctx.Err())
		}
	}
	return nil
}

func (h *httpRoute) pushDropOldest(q chan *Alert, a *Alert) {
	for {
		select {
		case q <- a:
			h.m.Queued.WithLabelValues(h.cfg.Kind).Inc()
			return
		default:
		}
		select {
		case old := <-q:
			h.m.Queued.WithLabelValues(h.cfg.Kind).Dec()
			h.m.Dropped.WithLabelValues(h.cfg.Kind, old.Severity.String()).Inc()
			if ok, skipped := h.warn.allow(); ok {
				h.log.Warn("alert queue full; oldest alert dropped", "alert_id", old.ID, "rule_id", old.RuleID, "warnings_suppressed", skipped)
			}
		default: // a worker took one meanwhile: there is room now
		}
	}
}

func shard(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// close stops the queues and waits for the workers to drain them until
// ctx ends; then it aborts in-flight deliveries and drops the rest.
func (h *httpRoute) close(ctx context.Context) error {
	if h.closed {
		return nil
	}
	h.closed = true
	for _, q := range h.queues {
		close(q)
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		h.cancel()
		return nil
	case <-ctx.Done():
		h.cancel()
		<-done // workers count the rest as dropped and exit promptly
		return fmt.Errorf("flushing alert queue: %w", ctx.Err())
	}
}

func (h *httpRoute) work(q <-chan *Alert) {
	for a := range q {
		h.m.Queued.WithLabelValues(h.cfg.Kind).Dec()
		if h.ctx.Err() != nil {
			h.m.Dropped.WithLabelValues(h.cfg.Kind, a.Severity.String()).Inc()
			continue
		}
		start := time.Now()
		h.deliver(a)
		h.m.Latency.WithLabelValues(h.cfg.Kind).Observe(time.Since(start).Seconds())
	}
}

// deliver posts a until it is accepted, a permanent error, the retries are
// used up or the route is closed. Logs name the route, the alert and the
// failure, never the URL, the secret or the body.
func (h *httpRoute) deliver(a *Alert) {
	sev := a.Severity.String()
	body, err := h.render(a)
	if err != nil {
		h.m.Failed.WithLabelValues(h.cfg.Kind, sev).Inc()
		h.log.Error("alert not encodable", "alert_id", a.ID, "err", err)
		return
	}
	retries := max(h.cfg.MaxRetries, 0)
	for attempt := 0; ; attempt++ {
		res := h.post(body, a.ID)
		if res.ok {
			h.m.Sent.WithLabelValues(h.cfg.Kind, sev).Inc()
			return
		}
		if h.ctx.Err() != nil {
			h.m.Dropped.WithLabelValues(h.cfg.Kind, sev).Inc()
			return
		}
		if !res.retry || attempt >= retries {
			h.m.Failed.WithLabelValues(h.cfg.Kind, sev).Inc()
			if ok, skipped := h.warn.allow(); ok {
				h.log.Warn("alert delivery failed", "alert_id", a.ID, "rule_id", a.RuleID, "severity", sev,
					"attempts", attempt+1, "status", res.status, "err", res.err, "retryable", res.retry, "warnings_suppressed", skipped)
			}
			return
		}
		wait := fullJitter(h.cfg.BackoffMin, h.cfg.BackoffMax, attempt)
		if res.retryAfter > 0 {
			wait = min(res.retryAfter, maxRetryAfter)
		}
		h.m.Retries.WithLabelValues(h.cfg.Kind).Inc()
		h.log.Debug("alert delivery retrying", "alert_id", a.ID, "attempt", attempt+1, "status", res.status, "err", res.err, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-h.ctx.Done():
			t.Stop()
			h.m.Dropped.WithLabelValues(h.cfg.Kind, sev).Inc()
			return
		}
	}
}

// sign returns the signature header value of body at timestamp ts.
func sign(key []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook request's signature headers against body and
// the shared secret, rejecting timestamps further than tolerance from now
// (replays). Receivers written in Go can use it as it is.
func Verify(key []byte, ts, sig string, body []byte, now time.Time, tolerance time.Duration) error {
	t, err := parseUnix(ts)
	if err != nil {
		return fmt.Errorf("alertsink: bad %s: %w", HeaderTimestamp, err)
	}
	if d := now.Sub(t); d > tolerance || d < -tolerance {
		return fmt.Errorf("alertsink: %s %s is outside the tolerance of %s", HeaderTimestamp, ts, tolerance)
	}
	if !hmac.Equal([]byte(sign(key, ts, body)), []byte(sig)) {
		return errors.New("alertsink: signature mismatch")
	}
	return nil
}

// warnInterval is the least time between two per-alert warnings of a
// route; the failures in between are counted in metrics and in the next
// warning's warnings_suppressed.
const warnInterval = 10 * time.Second

// every rate-limits a log line; safe for concurrent use.
type every struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// allow reports whether to log now and how many were skipped since the
// last time it did.
func (e *every) allow() (bool, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if now := time.Now(); e.last.IsZero() || now.Sub(e.last) >= warnInterval {
		n := e.skipped
		e.last, e.skipped = now, 0
		return true, n
	}
	e.skipped++
	return false, 0
}
