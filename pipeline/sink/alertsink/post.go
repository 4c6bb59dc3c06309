package alertsink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxRetryAfter caps how long a 429's Retry-After may hold a worker.
const maxRetryAfter = 5 * time.Minute

// result of one POST attempt.
type result struct {
	ok         bool
	retry      bool          // transient: 5xx, 429, timeout, connection error
	retryAfter time.Duration // from a 429's Retry-After
	status     int           // 0 when no response
	err        string        // the cause without the URL (it may hold a token)
}

// post makes one attempt with the route's per-request timeout.
func (h *httpRoute) post(body []byte, alertID string) result {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.target.Reveal(), bytes.NewReader(body))
	if err != nil {
		return result{err: "building request: invalid url"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "roachwatch-alerts/1")
	req.Header.Set(HeaderAlertID, alertID)
	if h.key != "" {
		ts := strconv.FormatInt(h.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, sign([]byte(h.key.Reveal()), ts, body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return classifyErr(ctx, err)
	}
	// Drain a little so the connection is reused; the body is never logged.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return classifyStatus(resp, h.now())
}

// classifyStatus decides on a response: 2xx done; 5xx and 429 transient;
// anything else (other 4xx, 3xx: redirects are not followed) permanent.
func classifyStatus(resp *http.Response, now time.Time) result {
	s := resp.StatusCode
	switch {
	case s >= 200 && s < 300:
		return result{ok: true, status: s}
	case s == http.StatusTooManyRequests:
		return result{retry: true, status: s, err: "rate limited", retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now)}
	case s >= 500:
		return result{retry: true, status: s, err: "server error"}
	}
	return result{status: s, err: "rejected by the receiver"}
}

// classifyErr turns a transport error into a result. Every transport
// error is transient (timeouts, refused or reset connections, DNS);
// url.Error is unwrapped because its text holds the URL.
func classifyErr(ctx context.Context, err error) result {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return result{retry: true, err: "timeout"}
	case errors.Is(err, context.Canceled):
		return result{retry: false, err: "route closed"}
	}
	return result{retry: true, err: "connection: " + err.Error()}
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unreadable (the normal backoff applies then).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// fullJitter is "full jitter" exponential backoff: a uniform random
// duration in [0, min(hi, lo*2^attempt)], at least 1ms.
func fullJitter(lo, hi time.Duration, attempt int) time.Duration {
	ceil := hi
	if attempt < 30 {
		ceil = min(hi, lo<<attempt)
	}
	return max(time.Millisecond, time.Duration(rand.Int64N(int64(ceil)+1)))
}

func parseUnix(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(n, 0), nil
}
