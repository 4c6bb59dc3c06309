package alertsink

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"roachwatch/detectors"
)

// Route kinds.
const (
	KindKafka   = "kafka"   // alert JSON on a Kafka topic, key = incident key, RequireAll
	KindWebhook = "webhook" // generic signed JSON POST
	KindSlack   = "slack"   // Slack-compatible incoming-webhook payload
	KindStdout  = "stdout"  // one JSON line per alert
)

// Overflow policies of a webhook or Slack route's queue.
const (
	OverflowBlock      = "block"       // WriteFindings waits for room (backpressure into the consumer)
	OverflowDropOldest = "drop_oldest" // the oldest queued alert is dropped and counted
)

// Re-alert reasons accepted in realert_on.
const (
	RealertSeverity = "severity" // the incident's severity rose
	RealertCount    = "count"    // the incident's count grew
)

var kinds = []string{KindKafka, KindWebhook, KindSlack, KindStdout}

// Config is the alerts section of the config.
type Config struct {
	Enabled           bool          `mapstructure:"enabled"`
	SuppressionWindow time.Duration `mapstructure:"suppression_window"` // event time: one alert per incident key per window
	RealertOn         []string      `mapstructure:"realert_on"`         // severity, count
	MaxKeys           int           `mapstructure:"max_keys"`           // LRU cap of the dedup state
	LinkTemplate      string        `mapstructure:"link_template"`      // {finding_id} and {rule_id} are replaced; "" = no link
	CloseTimeout      time.Duration `mapstructure:"close_timeout"`      // Close flushes queued webhooks within this
	Routes            []RouteConfig `mapstructure:"routes"`             // from the file only: viper cannot env-override list items
	Silences          []Silence     `mapstructure:"silences"`           // from the file only
}

// RouteConfig is one route: which alerts (match keys, all optional; an
// empty list matches everything) go to which sink (kind and its keys).
type RouteConfig struct {
	Name         string   `mapstructure:"name"`
	Kind         string   `mapstructure:"kind"`
	MinSeverity  string   `mapstructure:"min_severity"` // "" = info
	Rules        []string `mapstructure:"rules"`        // rule id globs, RW-TLS-*
	Families     []string `mapstructure:"families"`     // rule family: tls, crypto, sqli, auth, priv, audit, anom
	Users        []string `mapstructure:"users"`        // principal user globs
	Applications []string `mapstructure:"applications"` // principal application globs

	Topic string `mapstructure:"topic"` // kafka

	URL        string        `mapstructure:"url"`         // webhook, slack
	URLEnv     string        `mapstructure:"url_env"`     // env var holding the URL (Slack URLs embed a token)
	SecretEnv  string        `mapstructure:"secret_env"`  // env var holding the HMAC secret
	SecretFile string        `mapstructure:"secret_file"` // file holding the HMAC secret
	Timeout    time.Duration `mapstructure:"timeout"`     // per request
	MaxRetries int           `mapstructure:"max_retries"` // after the first attempt; 0 = default 5, -1 = none
	BackoffMin time.Duration `mapstructure:"backoff_min"` // full jitter: sleep rand(0, min(backoff_max, backoff_min*2^n))
	BackoffMax time.Duration `mapstructure:"backoff_max"`
	QueueSize  int           `mapstructure:"queue_size"` // alerts queued per route
	Overflow   string        `mapstructure:"overflow"`   // block or drop_oldest
	Workers    int           `mapstructure:"workers"`    // concurrent deliveries; one key always goes to the same worker
}

// Silence mutes matching alerts until Expires (wall clock). Every
// non-empty field must match. A silence never disables a rule: findings
// are still detected, stored and counted (roachwatch_alerts_silenced_total).
type Silence struct {
	Rule          string `mapstructure:"rule"`           // rule id glob
	User          string `mapstructure:"user"`           // principal user
	Role          string `mapstructure:"role"`           // principal user (a role in CockroachDB) or a grantee named in the finding
	ClientNetwork string `mapstructure:"client_network"` // CIDR or address of the principal's client
	Fingerprint   string `mapstructure:"fingerprint"`    // statement fingerprint text or its hash in decimal
	Route         string `mapstructure:"route"`          // Django route of the finding (details.route)
	Expires       string `mapstructure:"expires"`        // RFC 3339, required
	Comment       string `mapstructure:"comment"`        // who and why; logged at start
}

// DefaultConfig is the documented default: off, one hour of suppression,
// no re-alerts, 100000 keys, no routes.
func DefaultConfig() Config {
	return Config{
		SuppressionWindow: time.Hour,
		RealertOn:         []string{},
		MaxKeys:           100_000,
		CloseTimeout:      10 * time.Second,
		Routes:            []RouteConfig{},
		Silences:          []Silence{},
	}
}

// DefaultRoute fills the unset delivery keys of r with their defaults.
func DefaultRoute(r RouteConfig) RouteConfig {
	if r.Topic == "" && r.Kind == KindKafka {
		r.Topic = "roachwatch.alerts"
	}
	if r.Timeout == 0 {
		r.Timeout = 5 * time.Second
	}
	if r.MaxRetries == 0 {
		r.MaxRetries = 5
	}
	if r.BackoffMin == 0 {
		r.BackoffMin = 200 * time.Millisecond
	}
	if r.BackoffMax == 0 {
		r.BackoffMax = 30 * time.Second
	}
	if r.QueueSize == 0 {
		r.QueueSize = 1000
	}
	if r.Overflow == "" {
		r.Overflow = OverflowBlock
	}
	if r.Workers == 0 {
		r.Workers = 2
	}
	return r
}

var familyRe = regexp.MustCompile(`^[a-z]+$`)

// Validate checks the section; errors name alerts.<key>.
func (c Config) Validate() error {
	var errs []error
	if c.SuppressionWindow <= 0 {
		errs = append(errs, fmt.Errorf("alerts.suppression_window: must be positive, got %s", c.SuppressionWindow))
	}
	for _, r := range c.RealertOn {
		if r != RealertSeverity && r != RealertCount {
			errs = append(errs, fmt.Errorf("alerts.realert_on: %q is not severity or count", r))
		}
	}
	if c.MaxKeys < 1 {
		errs = append(errs, fmt.Errorf("alerts.max_keys: must be at least 1, got %d", c.MaxKeys))
	}
	if c.CloseTimeout <= 0 {
		errs = append(errs, fmt.Errorf("alerts.close_timeout: must be positive, got %s", c.CloseTimeout))
	}
	if c.Enabled && len(c.Routes) == 0 {
		errs = append(errs, errors.New("alerts.routes: alerts.enabled needs at least one route (see configs/roachwatch.yaml)"))
	}
	names := map[string]bool{}
	for i, r := range c.Routes {
		key := fmt.Sprintf("alerts.routes[%d]", i)
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required (used in logs)", key))
		} else if names[r.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", key, r.Name))
		}
		names[r.Name] = true
		errs = append(errs, DefaultRoute(r).validate(key))
	}
	for i, s := range c.Silences {
		errs = append(errs, s.validate(fmt.Sprintf("alerts.silences[%d]", i)))
	}
	return errors.Join(errs...)
}

func (r RouteConfig) validate(key string) error {
	var errs []error
	if !slices.Contains(kinds, r.Kind) {
		errs = append(errs, fmt.Errorf("%s.kind: %q is not one of %s", key, r.Kind, strings.Join(kinds, ", ")))
	}
	if r.MinSeverity != "" {
		if _, ok := detectors.ParseSeverity(r.MinSeverity); !ok {
			errs = append(errs, fmt.Errorf("%s.min_severity: %q is not one of info, low, medium, high, critical", key, r.MinSeverity))
		}
	}
	for _, g := range append(slices.Clone(r.Rules), append(r.Users, r.Applications...)...) {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a valid glob", key, g))
		}
	}
	for _, f := range r.Families {
		if !familyRe.MatchString(f) {
			errs = append(errs, fmt.Errorf("%s.families: %q must be a lower-case family such as tls or crypto", key, f))
		}
	}
	if r.Kind == KindWebhook || r.Kind == KindSlack {
		switch {
		case r.URL == "" && r.URLEnv == "":
			errs = append(errs, fmt.Errorf("%s.url: required for kind %s (or url_env)", key, r.Kind))
		case r.URL != "" && r.URLEnv != "":
			errs = append(errs, fmt.Errorf("%s.url_env: set url or url_env, not both", key))
		case r.URL != "":
			if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, fmt.Errorf("%s.url: must be an http(s) URL", key))
			}
		}
		if r.SecretEnv != "" && r.SecretFile != "" {
			errs = append(errs, fmt.Errorf("%s.secret_file: set secret_env or secret_file, not both", key))
		}
		if r.Kind == KindWebhook && r.SecretEnv == "" && r.SecretFile == "" {
			errs = append(errs, fmt.Errorf("%s.secret_env: a webhook is signed; name the env var (or secret_file) holding the shared secret", key))
		}
		if r.Timeout <= 0 || r.BackoffMin <= 0 || r.BackoffMax < r.BackoffMin || r.MaxRetries < -1 {
			errs = append(errs, fmt.Errorf("%s: timeout and backoff_min must be positive, backoff_max >= backoff_min, max_retries >= -1", key))
		}
		if r.QueueSize < 1 || r.Workers < 1 || r.Workers > r.QueueSize {
			errs = append(errs, fmt.Errorf("%s: queue_size and workers must be positive and workers <= queue_size", key))
		}
		if r.Overflow != OverflowBlock && r.Overflow != OverflowDropOldest {
			errs = append(errs, fmt.Errorf("%s.overflow: %q is not block or drop_oldest", key, r.Overflow))
		}
	}
	if r.Kind == KindKafka && r.Topic == "" {
		errs = append(errs, fmt.Errorf("%s.topic: required for kind kafka", key))
	}
	return errors.Join(errs...)
}

func (s Silence) validate(key string) error {
	var errs []error
	if s.Rule == "" && s.User == "" && s.Role == "" && s.ClientNetwork == "" && s.Fingerprint == "" && s.Route == "" {
		errs = append(errs, fmt.Errorf("%s: name at least one of rule, user, role, client_network, fingerprint, route", key))
	}
	if _, err := path.Match(s.Rule, ""); err != nil {
		errs = append(errs, fmt.Errorf("%s.rule: %q is not a valid glob", key, s.Rule))
	}
	if s.ClientNetwork != "" {
		if _, err := parseNet(s.ClientNetwork); err != nil {
			errs = append(errs, fmt.Errorf("%s.client_network: %q is not a CIDR prefix or address", key, s.ClientNetwork))
		}
	}
	if _, err := time.Parse(time.RFC3339, s.Expires); err != nil {
		errs = append(errs, fmt.Errorf("%s.expires: %q must be an RFC 3339 time such as 2026-12-31T00:00:00Z (silences always expire)", key, s.Expires))
	}
	return errors.Join(errs...)
}

func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
