package clickhousesink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrPermanent marks errors that retrying cannot fix: the statement, the
// schema or the data is wrong (syntax, unknown table or column, type
// mismatch, bad credentials). Test with errors.Is.
var ErrPermanent = errors.New("clickhousesink: permanent error")

// ErrRetriesExhausted marks transient errors that persisted through every
// retry; the caller may try the whole batch again later.
var ErrRetriesExhausted = errors.New("clickhousesink: retries exhausted")

// transientCodes are ClickHouse exception codes worth retrying: the server
// is overloaded, restarting, or lost its network or Keeper, but the
// statement itself is fine.
var transientCodes = map[int32]string{
	3:   "UNEXPECTED_END_OF_FILE",
	159: "TIMEOUT_EXCEEDED",
	202: "TOO_MANY_SIMULTANEOUS_QUERIES",
	203: "NO_FREE_CONNECTION",
	209: "SOCKET_TIMEOUT",
	210: "NETWORK_ERROR",
	236: "ABORTED",
	241: "MEMORY_LIMIT_EXCEEDED",
	242: "TABLE_IS_READ_ONLY",
	252: "TOO_MANY_PARTS",
	285: "TOO_FEW_LIVE_REPLICAS",
	286: "UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE",
	319: "UNKNOWN_STATUS_OF_INSERT",
	425: "SYSTEM_ERROR",
	439: "CANNOT_SCHEDULE_TASK",
	999: "KEEPER_EXCEPTION",
}

// IsTransient reports whether err is worth retrying: a network failure, a
// timeout of one attempt, or a ClickHouse exception whose code says the
// server (not the statement) is the problem. Context cancellation of the
// caller is never transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		_, ok := transientCodes[ex.Code]
		return ok
	}
	if isTLSVerification(err) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, clickhouse.ErrAcquireConnTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// The HTTP transport wraps some network failures as text only.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "i/o timeout", "EOF", "no such host", "server closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isTLSVerification reports whether err is a failed certificate check (wrong
// CA, host name, expiry): retrying cannot fix it, and the HTTP transport
// would otherwise pass it off as a network error (url.Error is a net.Error).
func isTLSVerification(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr)
}

// backoff returns the wait before retry n (0-based): RetryBackoff doubled
// per retry, capped at RetryMaxBackoff, with "equal jitter" (half fixed,
// half random) so writers that failed together do not retry together.
func (c Config) backoff(n int) time.Duration {
	d := c.RetryBackoff
	for i := 0; i < n && d < c.RetryMaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.RetryMaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// retry runs op until it succeeds, fails permanently, ctx ends, or
// MaxRetries transient failures are used up. what names the operation in
// errors and logs.
func (s *Store) retry(ctx context.Context, what string, op func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := op(ctx)
		if err == nil {
			if attempt > 0 {
				s.log.Info("clickhouse write recovered", "op", what, "retries", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (after %d retries; last error: %v)", what, ctx.Err(), attempt, err)
		}
		if !IsTransient(err) {
			return fmt.Errorf("%s: %w: %w", what, ErrPermanent, err)
		}
		if attempt >= s.cfg.MaxRetries {
			return fmt.Errorf("%s: %w after %d retries: %w", what, ErrRetriesExhausted, attempt, err)
		}
		wait := s.cfg.backoff(attempt)
		s.log.Warn("clickhouse write failed, retrying", "op", what, "attempt", attempt+1, "backoff", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (while backing off; last error: %v)", what, ctx.Err(), err)
		case <-t.C:
		}
	}
}
