// Package catalog is the sensitive-column catalog: which columns hold
// sensitive data, which must hold ciphertext, and which are known to be
// stored in plaintext. It is built from config and enriched by the schema
// probe.
package catalog

import (
	"fmt"
	"path"
	"strings"
	"sync"
)

// Config is the user's description of sensitive columns. Patterns are
// case-insensitive globs (path.Match syntax) over the bare column name;
// Columns, MustEncrypt and Plaintext name explicit "table.column" entries
// (the table may be qualified: "db.schema.table.column"; only the last two
// parts are compared).
type Config struct {
	Patterns    []string `mapstructure:"patterns"`
	Columns     []string `mapstructure:"columns"`
	MustEncrypt []string `mapstructure:"must_encrypt"`
	Plaintext   []string `mapstructure:"plaintext"`
	// ProbeFile is the JSON file `analyze probe` writes (probe.catalog_file);
	// New merges its plaintext and encrypted columns. "" = none.
	ProbeFile string `mapstructure:"probe_file"`
}

// DefaultPatterns are the column-name patterns used when config names none.
var DefaultPatterns = []string{
	"ssn", "*_ssn", "social_security*", "tax_id", "*_tax_id", "national_id", "passport*",
	"card_number", "*card_number", "pan", "cc_number", "cvv", "cvc", "iban", "*_iban", "account_number",
	"api_key", "*api_key*", "*token*", "*secret*", "password", "*_password", "passwd",
	"dob", "date_of_birth", "birth_date", "birthdate",
}

// Validate reports patterns that path.Match rejects and malformed
// table.column entries.
func (c Config) Validate() error {
	var errs []string
	for _, p := range c.Patterns {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Sprintf("catalog.patterns: %q is not a valid glob (%v)", p, err))
		}
	}
	for key, list := range map[string][]string{"columns": c.Columns, "must_encrypt": c.MustEncrypt, "plaintext": c.Plaintext} {
		for _, e := range list {
			if !strings.Contains(e, ".") || strings.HasPrefix(e, ".") || strings.HasSuffix(e, ".") {
				errs = append(errs, fmt.Sprintf("catalog.%s: %q must be table.column", key, e))
			}
		}
	}
	if err := c.validateProbeFile(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Catalog answers "is this column sensitive?" quickly. Safe for concurrent
// use.
type Catalog struct {
	patterns    []string
	columns     map[string]bool // table.column
	mustEncrypt map[string]bool
	plaintext   map[string]bool

	mu    sync.RWMutex
	cache map[string]bool // bare column name -> pattern match
}

const maxCache = 65536

// New builds a catalog; empty Patterns means DefaultPatterns. The probe
// file, when configured and present, is merged in (see Config.Merge).
func New(c Config) *Catalog {
	c = c.loadProbe()
	pats := c.Patterns
	if len(pats) == 0 {
		pats = DefaultPatterns
	}
	k := &Catalog{
		columns:     set(c.Columns),
		mustEncrypt: set(c.MustEncrypt),
		plaintext:   set(c.Plaintext),
		cache:       make(map[string]bool),
	}
	for _, p := range pats {
		k.patterns = append(k.patterns, strings.ToLower(p))
	}
	for col := range k.mustEncrypt {
		k.columns[col] = true
	}
	for col := range k.plaintext {
		k.columns[col] = true
	}
	return k
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, e := range list {
		m[Key(e)] = true
	}
	return m
}

// Key normalizes "db.schema.table.column" or "table.column" to
// "table.column" in lower case, without quotes.
func Key(qualified string) string {
	s := strings.ToLower(strings.ReplaceAll(qualified, `"`, ""))
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, ".")
}

// Sensitive reports whether column (bare name) of table (possibly empty
// or qualified) is sensitive.
func (k *Catalog) Sensitive(table, column string) bool {
	col := strings.ToLower(column)
	if table != "" && len(k.columns) > 0 && k.columns[Key(table+"."+col)] {
		return true
	}
	return k.matches(col)
}

// SensitiveColumnsOf returns the explicitly listed sensitive columns of
// table (used to resolve SELECT *).
func (k *Catalog) SensitiveColumnsOf(table string) []string {
	t := Key(table + ".x")
	t = t[:len(t)-2]
	var out []string
	for c := range k.columns {
		if strings.HasPrefix(c, t+".") {
			out = append(out, c)
		}
	}
	return out
}

// MustEncrypt reports whether table.column must hold ciphertext.
func (k *Catalog) MustEncrypt(table, column string) bool {
	return k.mustEncrypt[Key(table+"."+column)]
}

// Plaintext reports whether table.column is known to be stored in the
// clear (config or schema probe).
func (k *Catalog) Plaintext(table, column string) bool {
	return k.plaintext[Key(table+"."+column)]
}

func (k *Catalog) matches(col string) bool {
	k.mu.RLock()
	v, ok := k.cache[col]
	k.mu.RUnlock()
	if ok {
		return v
	}
	for _, p := range k.patterns {
		if m, _ := path.Match(p, col); m {
			v = true
			break
		}
	}
	k.mu.Lock()
	if len(k.cache) >= maxCache {
		clear(k.cache)
	}
	k.cache[col] = v
	k.mu.Unlock()
	return v
}
