// Package cryptorule holds the cryptographic-failure rules:
//
//   - RW-CRYPTO-001: a plaintext value (personal data, text or a number, not
//     a ciphertext envelope) written to or compared against a sensitive
//     column;
//   - RW-CRYPTO-002: a read of a sensitive column that the catalog says is
//     stored in plaintext;
//   - RW-CRYPTO-003: a secret or personal value in the clear in a log line,
//     and Django SQL debug logging (DEBUG=True) itself.
//
// The detector sees only what the parser kept: value classes and keyed
// hashes (event.Value, event.Secret), never the values. Findings repeat
// classes, types, locations and counts of distinct hashes; they never
// carry a value or a value hash.
package cryptorule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"roachwatch/detectors"
)

const owaspCrypto = "A02:2021-Cryptographic Failures"

// Rule001 is RW-CRYPTO-001.
var Rule001 = detectors.Rule{
	ID:       "RW-CRYPTO-001",
	Title:    "Plaintext value written to or compared against a sensitive column",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-311", "CWE-312"},
	OWASP:    []string{owaspCrypto},
	MITRE:    []string{"T1213", "T1005"},
	PCI:      []string{"3.5.1"},
	Explanation: "A statement bound a value that is not ciphertext - a social security number, card number, IBAN, e-mail, phone, " +
		"date of birth, national id, or plain text or number - to a column the catalog marks sensitive, either writing it or " +
		"comparing the column against it. The column therefore holds (or is matched against) the data in the clear: anyone " +
		"with read access to the table, its backups, changefeeds or the statement logs can read it. Writes of Fernet tokens, " +
		"pgcrypto armor, BYTES or other high-entropy ciphertext are not reported. Card numbers, SSNs, IBANs and columns the " +
		"catalog says must be encrypted make the finding critical.",
	Remediation: "Encrypt the field in Django before save: use an encrypted model field (a custom EncryptedCharField or a " +
		"django-fernet-fields-style field whose get_prep_value returns Fernet(key).encrypt(...)) and load the key from a " +
		"secrets manager or KMS through the environment - never from settings.py or the repository. Backfill-encrypt the " +
		"existing rows with a data migration, rotate keys with MultiFernet (new key first, re-encrypt, drop the old key), " +
		"and look up encrypted columns through a keyed hash (HMAC) column instead of comparing plaintext. PCI DSS 3.5.1: " +
		"PAN must be unreadable wherever it is stored.",
}

// Rule002 is RW-CRYPTO-002.
var Rule002 = detectors.Rule{
	ID:       "RW-CRYPTO-002",
	Title:    "Read of a sensitive column stored in plaintext",
	Severity: detectors.SeverityMedium,
	CWE:      []string{"CWE-312", "CWE-359"},
	OWASP:    []string{owaspCrypto, "A01:2021-Broken Access Control"},
	MITRE:    []string{"T1213"},
	PCI:      []string{"3.5.1", "7.2.1"},
	Explanation: "A principal read a sensitive column that the catalog (config or schema probe) lists as stored in plaintext. " +
		"Every such read returns the data in the clear to the client, its logs and its caches. Reads are aggregated per " +
		"principal, table and column per window; many rows in one window make the finding high.",
	Remediation: "Encrypt the column at rest at the application layer (an encrypted Django model field with a Fernet key " +
		"from a secrets manager, plus a data migration that encrypts the existing rows) so reads return ciphertext. Until " +
		"then restrict SELECT on the table to the principals that need it (REVOKE SELECT ... FROM <role>; expose a view " +
		"without the column to the others) and audit the reads with ALTER TABLE <table> EXPERIMENTAL_AUDIT SET READ WRITE.",
}

// Rule003 is RW-CRYPTO-003.
var Rule003 = detectors.Rule{
	ID:       "RW-CRYPTO-003",
	Title:    "Secret or personal data in the clear in a log line",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-532", "CWE-215"},
	OWASP:    []string{"A09:2021-Security Logging and Monitoring Failures", owaspCrypto},
	MITRE:    []string{"T1552.001"},
	PCI:      []string{"3.5.1", "8.3.2"},
	Explanation: "A log line carried a credential (a DSN with its password, a private key, a cloud or SaaS API key, a JWT, " +
		"Django's SECRET_KEY, an assigned password) or personal data (SSN, card number, IBAN) in the clear. Logs are copied " +
		"to collectors, tickets and laptops with much weaker access control than the database; whoever reads them gets the " +
		"secret. Credentials are critical. The rule also reports Django SQL debug logging: django.db.backends logs every " +
		"statement with its parameters only when settings.DEBUG is True, which must never be the case in production.",
	Remediation: "Fix the logging call sites so they never format credentials or personal values; never log connection " +
		"strings - build DATABASES from separate environment variables (HOST, USER, PASSWORD, 'OPTIONS': {'sslmode': " +
		"'verify-full'}) and log only the host. Rotate every exposed credential now (the finding names the types). Set " +
		"DEBUG = False in production settings, and add a logging.Filter on the root handlers that masks DSN passwords, " +
		"bearer tokens and card numbers as a safety net. Purge or restrict the affected log files.",
}

// Config tunes the cryptographic-failure rules (config section
// detectors.crypto). Per-rule enable, severity and allowlists are in
// detectors.rules like every other rule.
type Config struct {
	// Window groups occurrences into one finding per incident key.
	Window time.Duration `mapstructure:"window"`
	// RowsThreshold makes an RW-CRYPTO-002 finding high once the rows read
	// from one plaintext column by one principal in a window exceed it.
	RowsThreshold int64 `mapstructure:"rows_threshold"`
	// DjangoDebugSQLAllowed silences the Django DEBUG SQL logging finding
	// of RW-CRYPTO-003 (development environments). Secrets found in the
	// SQL log lines are still reported.
	DjangoDebugSQLAllowed bool `mapstructure:"django_debug_sql_allowed"`
	// HashedColumns are table.column entries that hold one-way password
	// hashes (Django's auth_user.password holds "pbkdf2_sha256$..."), which
	// classify as text: RW-CRYPTO-001 ignores text and number values there
	// but still reports personal data.
	HashedColumns []string `mapstructure:"hashed_columns"`
	// MaxIncidents bounds the open incidents whose distinct-value and row
	// totals are tracked (about 200 bytes each plus their value hashes).
	MaxIncidents int `mapstructure:"max_incidents"`
}

// DefaultConfig is the documented default.
func DefaultConfig() Config {
	return Config{
		Window:        24 * time.Hour,
		RowsThreshold: 1000,
		HashedColumns: []string{"auth_user.password"},
		MaxIncidents:  100_000,
	}
}

// Validate reports every invalid key, naming it as detectors.crypto.<key>.
func (c Config) Validate() error {
	var errs []error
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("detectors.crypto.window: must be positive (e.g. 24h), got %s", c.Window))
	}
	if c.RowsThreshold <= 0 {
		errs = append(errs, fmt.Errorf("detectors.crypto.rows_threshold: must be positive (default 1000), got %d", c.RowsThreshold))
	}
	for _, e := range c.HashedColumns {
		if i := strings.LastIndexByte(e, '.'); i <= 0 || i == len(e)-1 {
			errs = append(errs, fmt.Errorf("detectors.crypto.hashed_columns: %q must be table.column, e.g. auth_user.password", e))
		}
	}
	if c.MaxIncidents < 1 {
		errs = append(errs, fmt.Errorf("detectors.crypto.max_incidents: must be at least 1 (default 100000), got %d", c.MaxIncidents))
	}
	return errors.Join(errs...)
}
