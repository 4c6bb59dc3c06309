package anomaly

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the anomaly rules (config section detectors.anomaly).
// Durations are event time.
type Config struct {
	Window          time.Duration `mapstructure:"window"`           // incidents are grouped per rule, principal and key per window
	Warmup          time.Duration `mapstructure:"warmup"`           // global warm-up of event time before any rule alerts
	MinObservations int           `mapstructure:"min_observations"` // events a principal needs before RW-ANOM-001..005 judge it

	MaxPrincipals   int `mapstructure:"max_principals"`   // principals kept; least recently seen evicted beyond
	MaxFingerprints int `mapstructure:"max_fingerprints"` // top-K statement shapes per principal
	MaxTables       int `mapstructure:"max_tables"`       // tables with row baselines per principal
	MaxAddresses    int `mapstructure:"max_addresses"`    // client addresses remembered per principal
	MaxNetworks     int `mapstructure:"max_networks"`     // client networks (/24, /48) per principal
	MaxApps         int `mapstructure:"max_applications"` // application names per principal
	SeenFilterBits  int `mapstructure:"seen_filter_bits"` // bits of the filter of principals ever seen (power of two)

	SkipUsers       []string `mapstructure:"skip_users"`       // users never baselined (CockroachDB internals)
	SensitiveTables []string `mapstructure:"sensitive_tables"` // tables treated as sensitive besides catalog columns and audited tables
	AppUsers        []string `mapstructure:"app_users"`        // users that are application principals (RW-ANOM-002)
	AppNames        []string `mapstructure:"app_names"`        // application_name values that mark application principals
	AutoAppUsers    bool     `mapstructure:"auto_app_users"`   // also treat principals with a settled set of shapes as applications
	StableAfter     int      `mapstructure:"stable_after"`     // statements without a new shape before a principal counts as settled

	Alpha      float64 `mapstructure:"alpha"`       // weight of one observation in the robust EWMA baselines
	MinSamples int     `mapstructure:"min_samples"` // observations a row or rate baseline needs before it is used
	RowsMADs   float64 `mapstructure:"rows_mads"`   // rows above median*2^(rows_mads*scale) are anomalous (log2 scale)
	MinRows    int64   `mapstructure:"min_rows"`    // never flag reads below this many rows

	RateMADs      float64       `mapstructure:"rate_mads"`       // events/minute above median*2^(rate_mads*scale) are a spike
	MinRate       int           `mapstructure:"min_rate"`        // never flag minutes with fewer events
	OffHours      bool          `mapstructure:"off_hours"`       // keep the hour-of-week profile (RW-ANOM-004); 176 bytes per principal
	OffHoursRatio float64       `mapstructure:"off_hours_ratio"` // share of the profile (hour +-1) under which an hour counts as off-hours
	OffHoursMin   int           `mapstructure:"off_hours_min"`   // events of history needed before RW-ANOM-004 judges a principal
	OffHoursSpan  time.Duration `mapstructure:"off_hours_span"`  // history span needed before RW-ANOM-004 judges a principal

	NewPrincipalWindow time.Duration `mapstructure:"new_principal_window"` // how long after its first event a principal counts as new
}

// DefaultConfig is the documented default.
func DefaultConfig() Config {
	return Config{
		Window:             time.Hour,
		Warmup:             24 * time.Hour,
		MinObservations:    100,
		MaxPrincipals:      10000,
		MaxFingerprints:    64,
		MaxTables:          16,
		MaxAddresses:       16,
		MaxNetworks:        8,
		MaxApps:            8,
		SeenFilterBits:     1 << 20,
		SkipUsers:          []string{"node"},
		SensitiveTables:    []string{},
		AppUsers:           []string{},
		AppNames:           []string{},
		AutoAppUsers:       true,
		StableAfter:        2000,
		Alpha:              0.02,
		MinSamples:         10,
		RowsMADs:           8,
		MinRows:            10000,
		RateMADs:           6,
		MinRate:            120,
		OffHours:           true,
		OffHoursRatio:      0.002,
		OffHoursMin:        1000,
		OffHoursSpan:       48 * time.Hour,
		NewPrincipalWindow: 24 * time.Hour,
	}
}

// Validate reports every invalid key with its fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("detectors.anomaly."+key+": "+format, args...))
	}
	pos := func(key string, v time.Duration) {
		if v <= 0 {
			bad(key, "must be a positive duration (e.g. 1h), got %s", v)
		}
	}
	pos("window", c.Window)
	pos("new_principal_window", c.NewPrincipalWindow)
	pos("off_hours_span", c.OffHoursSpan)
	if c.Warmup < 0 {
		bad("warmup", "must not be negative (0 alerts from the first event; default 24h), got %s", c.Warmup)
	}
	ints := []struct {
		key       string
		v, lo, hi int
	}{
		{"min_observations", c.MinObservations, 0, 1 << 30},
		{"max_principals", c.MaxPrincipals, 1, 1 << 26},
		{"max_fingerprints", c.MaxFingerprints, 1, 4096},
		{"max_tables", c.MaxTables, 1, 1024},
		{"max_addresses", c.MaxAddresses, 1, 1024},
		{"max_networks", c.MaxNetworks, 1, 1024},
		{"max_applications", c.MaxApps, 1, 1024},
		{"stable_after", c.StableAfter, 1, 1 << 30},
		{"min_samples", c.MinSamples, 1, 1 << 20},
		{"min_rate", c.MinRate, 1, 1 << 30},
		{"off_hours_min", c.OffHoursMin, 1, 1 << 30},
	}
	for _, x := range ints {
		if x.v < x.lo || x.v > x.hi {
			bad(x.key, "must be in %d..%d, got %d", x.lo, x.hi, x.v)
		}
	}
	if c.SeenFilterBits < 1024 || c.SeenFilterBits > 1<<32 || c.SeenFilterBits&(c.SeenFilterBits-1) != 0 {
		bad("seen_filter_bits", "must be a power of two in 1024..2^32 (default 1048576 = 128 KiB), got %d", c.SeenFilterBits)
	}
	if !(c.Alpha > 0 && c.Alpha <= 1) {
		bad("alpha", "must be in (0, 1] (default 0.02: about 50 observations of memory), got %g", c.Alpha)
	}
	if !(c.RowsMADs > 0) {
		bad("rows_mads", "must be positive (default 8), got %g", c.RowsMADs)
	}
	if !(c.RateMADs > 0) {
		bad("rate_mads", "must be positive (default 6), got %g", c.RateMADs)
	}
	if c.MinRows < 0 {
		bad("min_rows", "must not be negative (default 10000), got %d", c.MinRows)
	}
	if !(c.OffHoursRatio >= 0 && c.OffHoursRatio < 1) {
		bad("off_hours_ratio", "must be in [0, 1) (default 0.002), got %g", c.OffHoursRatio)
	}
	return errors.Join(errs...)
}
