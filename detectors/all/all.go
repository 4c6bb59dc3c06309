// Package all assembles the detector catalog from the rule families.
package all

import (
	"errors"
	"fmt"

	"roachwatch/detectors"
	"roachwatch/detectors/anomaly"
	"roachwatch/detectors/auditrule"
	"roachwatch/detectors/authrule"
	"roachwatch/detectors/cryptorule"
	"roachwatch/detectors/privrule"
	"roachwatch/detectors/sqlirule"
	"roachwatch/detectors/tlsrule"
	"roachwatch/pipeline/catalog"
)

// Config holds the family-specific settings of every detector and the
// per-rule settings (enable, severity, allowlist) keyed by
// detectors.ConfigKey(rule id), e.g. rw_tls_001.
type Config struct {
	TLS     tlsrule.Config                  `mapstructure:"tls"`
	Crypto  cryptorule.Config               `mapstructure:"crypto"`
	Auth    authrule.Config                 `mapstructure:"auth"`
	Priv    privrule.Config                 `mapstructure:"priv"`
	Audit   auditrule.Config                `mapstructure:"audit"`
	SQLI    sqlirule.Config                 `mapstructure:"sqli"`
	Anomaly anomaly.Config                  `mapstructure:"anomaly"`
	Rules   map[string]detectors.RuleConfig `mapstructure:"rules"`

	// Catalog is the sensitive-column catalog the detectors share (built
	// from the catalog section, enriched by the schema probe); nil means
	// the default catalog. Not a config key.
	Catalog *catalog.Catalog `mapstructure:"-"`
}

// DefaultConfig returns every family's defaults, every rule enabled.
func DefaultConfig() Config {
	c := families()
	c.Rules = map[string]detectors.RuleConfig{}
	for _, r := range Rules() {
		c.Rules[detectors.ConfigKey(r.ID)] = detectors.RuleConfig{Enabled: true, Allow: detectors.Allowlist{
			Users: []string{}, ClientNetworks: []string{}, Applications: []string{}, Fingerprints: []string{}, Routes: []string{},
		}}
	}
	return c
}

// Validate checks every family's config and the per-rule entries.
func (c Config) Validate() error {
	errs := []error{c.TLS.Validate(), c.Crypto.Validate(), c.Auth.Validate(), c.Priv.Validate(), c.Audit.Validate(), c.SQLI.Validate(), c.Anomaly.Validate()}
	known := map[string]bool{}
	for _, r := range Rules() {
		known[detectors.ConfigKey(r.ID)] = true
	}
	for key, rc := range c.Rules {
		if !known[key] {
			errs = append(errs, fmt.Errorf("detectors.rules.%s: no such rule; `analyze rules` lists them (key = rule id in lower case with _)", key))
			continue
		}
		errs = append(errs, rc.Validate("detectors.rules."+key))
	}
	return errors.Join(errs...)
}

// families returns every family's default settings, without rule entries.
func families() Config {
	return Config{
		TLS:     tlsrule.DefaultConfig(),
		Crypto:  cryptorule.DefaultConfig(),
		Auth:    authrule.DefaultConfig(),
		Priv:    privrule.DefaultConfig(),
		Audit:   auditrule.DefaultConfig(),
		SQLI:    sqlirule.DefaultConfig(),
		Anomaly: anomaly.DefaultConfig(),
	}
}

// Detectors builds every detector of the catalog.
func Detectors(c Config) []detectors.Detector {
	return []detectors.Detector{
		tlsrule.New(c.TLS),
		cryptorule.New(c.Crypto, c.Catalog),
		authrule.New(c.Auth),
		privrule.New(c.Priv),
		auditrule.New(c.Audit),
		sqlirule.New(c.SQLI),
		anomaly.New(c.Anomaly),
	}
}

// Rules lists the catalog, in catalog order.
func Rules() []detectors.Rule {
	var out []detectors.Rule
	for _, d := range Detectors(families()) {
		out = append(out, d.Rules()...)
	}
	return out
}
