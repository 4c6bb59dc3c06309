package alertsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/secret"
	"roachwatch/pipeline/sink"
	"roachwatch/pipeline/transport/kafkatransport"
)

// Options are the router's dependencies. Only Rules and Log are needed
// for every configuration; Kafka only for kafka routes.
type Options struct {
	// Rules is the rule catalog by rule id (all.Rules()); it supplies the
	// "why it matters" explanation. Taken as a map so that this package
	// does not import detectors/all.
	Rules map[string]detectors.Rule
	// Kafka is the connection (brokers, TLS, SASL) of kafka routes.
	Kafka kafkatransport.Config
	Log   *slog.Logger
	// Registerer receives the metrics; nil keeps them private.
	Registerer prometheus.Registerer
	// Stdout is where stdout routes write (os.Stdout when nil).
	Stdout io.Writer
	// Now is the wall clock (time.Now when nil): silence expiry, sent_at,
	// signature timestamps. Dedup never reads it; it uses event time.
	Now func() time.Time
	// HTTPClient delivers webhook and Slack requests; nil builds one that
	// never follows redirects (a redirect must not carry a signed body to
	// another host). Per-request timeouts come from the route config.
	HTTPClient *http.Client
}

// route delivers alerts to one destination.
type route interface {
	// accept takes alerts of one WriteFindings call, in order. It returns
	// when the route has acknowledged them (see the package doc: written
	// for kafka and stdout, queued for webhook and slack) or ctx ends.
	accept(ctx context.Context, as []*Alert) error
	// close flushes within ctx and releases resources.
	close(ctx context.Context) error
}

type routeEntry struct {
	name, kind string
	match      matcher
	r          route
	order      sync.Mutex // held from the routing decision to accept: per-key order across concurrent writes
}

// Router is the alert sink: it decides which finding versions become
// alerts (silences, dedup, re-alert policy), routes them and hands them to
// the routes. It implements sink.Sink; see the package doc for the
// delivery contract. Safe for concurrent use.
type Router struct {
	cfg      Config
	rules    map[string]detectors.Rule
	routes   []*routeEntry
	silences []silence
	m        *Metrics
	log      *slog.Logger
	now      func() time.Time

	mu     sync.Mutex // guards dd and closed; held while deciding and taking route order locks
	dd     *dedup
	closed bool
}

var _ sink.Sink = (*Router)(nil)

// New builds the router and its routes: kafka writers (not connected
// yet), webhook and Slack queues with their worker goroutines (owned by
// the router; they exit in Close). Secrets are read here, from the env
// var or file each route names; a missing one is an error naming the
// variable or file, never its value.
func New(cfg Config, o Options) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	r := &Router{
		cfg: cfg, rules: o.Rules, m: NewMetrics(o.Registerer), log: o.Log.With("component", "alerts"), now: o.Now,
		silences: compileSilences(cfg.Silences),
		dd:       newDedup(cfg.SuppressionWindow, cfg.RealertOn, cfg.MaxKeys),
	}
	for _, rc := range cfg.Routes {
		rc = DefaultRoute(rc)
		rt, err := r.newRoute(rc, o)
		if err != nil {
			_ = r.closeRoutes(context.Background())
			return nil, fmt.Errorf("alerts route %s: %w", rc.Name, err)
		}
		r.routes = append(r.routes, &routeEntry{name: rc.Name, kind: rc.Kind, match: newMatcher(rc), r: rt})
	}
	now := o.Now()
	for _, s := range r.silences {
		r.log.Info("alert silence loaded", "rule", s.Rule, "user", s.User, "role", s.Role, "client_network", s.ClientNetwork,
			"route", s.Route, "expires", s.Expires, "active", s.active(now), "comment", s.Comment)
	}
	r.log.Info("alert router started", "routes", len(r.routes), "silences", len(r.silences), "suppression_window", cfg.SuppressionWindow)
	return r, nil
}

func (r *Router) newRoute(rc RouteConfig, o Options) (route, error) {
	switch rc.Kind {
	case KindKafka:
		return newKafkaRoute(rc, o.Kafka, r.m)
	case KindStdout:
		return newWriterRoute(o.Stdout, r.m), nil
	case KindWebhook, KindSlack:
		target, err := readSecret(rc.URL, rc.URLEnv, "")
		if err != nil {
			return nil, fmt.Errorf("url: %w", err)
		}
		key, err := readSecret("", rc.SecretEnv, rc.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		return newHTTPRoute(rc, target, key, o.HTTPClient, r, o.Now), nil
	}
	return nil, fmt.Errorf("unknown kind %q", rc.Kind)
}

// readSecret returns literal, or the value of env var env, or the trimmed
// content of file; "" when none is set.
func readSecret(literal, env, file string) (secret.String, error) {
	switch {
	case literal != "":
		return secret.String(literal), nil
	case env != "":
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is unset or empty", env)
		}
		return secret.String(v), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", file, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s is empty", file)
		}
		return secret.String(v), nil
	}
	return "", nil
}

// Name is "alerts".
func (r *Router) Name() string { return "alerts" }

// WriteEvents acknowledges at once: events are not alerts.
func (r *Router) WriteEvents(ctx context.Context, _ []event.Event) error { return ctx.Err() }

// WriteFindings decides, routes and hands the alerts of fs to the routes,
// in order, and returns when every route has acknowledged its share (see
// the package doc). On error the decisions of this call are forgotten, so
// the caller's retry of the batch alerts again (some routes may then see
// an alert twice; the alert id tells them).
func (r *Router) WriteFindings(ctx context.Context, fs []detectors.Finding) error {
	per := make([][]*Alert, len(r.routes))
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return sink.ErrClosed
	}
	now := r.now()
	r.dd.begin()
	for i := range fs {
		f := &fs[i]
		if r.silenced(f, now) {
			r.m.Silenced.WithLabelValues(f.Severity.String()).Inc()
			continue
		}
		key := IncidentKey(f)
		reason, prev := r.dd.decide(f, key)
		if reason == "" {
			r.m.Deduplicated.WithLabelValues(f.Severity.String()).Inc()
			continue
		}
		r.m.Alerts.WithLabelValues(f.Severity.String(), reason).Inc()
		a := newAlert(f, r.rules[f.RuleID], key, reason, prev, now, r.cfg.LinkTemplate)
		for j, rt := range r.routes {
			if rt.match.match(f) {
				per[j] = append(per[j], a)
			}
		}
	}
	undo := r.dd.end()
	r.flushEvictions()
	// Take every order lock this call needs before letting the next call
	// decide: a later version of a key can then never overtake an earlier
	// one on any route. Locks are taken in route order, so two calls cannot
	// wait for each other.
	for j, rt := range r.routes {
		if len(per[j]) > 0 {
			rt.order.Lock()
		}
	}
	r.mu.Unlock()

	var errs []error
	for j, rt := range r.routes {
		if len(per[j]) == 0 {
			continue
		}
		if err := rt.r.accept(ctx, per[j]); err != nil {
			errs = append(errs, fmt.Errorf("alerts route %s (%s): %w", rt.name, rt.kind, err))
		}
		rt.order.Unlock()
	}
	if err := errors.Join(errs...); err != nil {
		r.mu.Lock()
		r.dd.restore(undo)
		r.mu.Unlock()
		return err
	}
	return nil
}

// silenced reports whether an active silence mutes f.
func (r *Router) silenced(f *detectors.Finding, now time.Time) bool {
	for i := range r.silences {
		if s := &r.silences[i]; s.active(now) && s.mutes(f) {
			return true
		}
	}
	return false
}

func (r *Router) flushEvictions() {
	if r.dd.evictions > 0 {
		r.m.Evictions.Add(float64(r.dd.evictions))
		r.dd.evictions = 0
	}
}

// Close stops accepting writes and flushes: queued webhook and Slack
// alerts are delivered until alerts.close_timeout; what is still queued
// then is dropped and counted. Call it once, after the last write.
func (r *Router) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.CloseTimeout)
	defer cancel()
	err := r.closeRoutes(ctx)
	r.log.Info("alert router stopped")
	return err
}

func (r *Router) closeRoutes(ctx context.Context) error {
	var errs []error
	for _, rt := range r.routes {
		rt.order.Lock() // a write still queueing finishes first
		err := rt.r.close(ctx)
		rt.order.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("closing alerts route %s: %w", rt.name, err))
		}
	}
	return errors.Join(errs...)
}
