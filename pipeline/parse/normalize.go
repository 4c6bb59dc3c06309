package parse

import (
	"hash/maphash"

	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/classify"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sqlfp"
)

// Raw carries the sensitive parts of one entry from a decoder to the
// Normalizer. It never leaves the parse stage: the Normalizer turns it into
// fingerprints, keyed hashes and redacted text on the event.
type Raw struct {
	Entry        []byte   // the whole raw entry (reassembled); the event id is derived from it
	Statement    []byte   // SQL as logged: may contain ‹› markers and sqlcommenter comments
	Placeholders []string // values bound to $1, $2, ... rendered as SQL literals (markers allowed)
	Params       string   // Django args= repr or JSON params text, scanned for secrets and values
	ErrorText    string   // CockroachDB ErrorText / Detail (markers allowed)
	Message      string   // unstructured message text (markers allowed)
	SettingValue string   // set_cluster_setting Value (markers allowed)
	// Timeless says the entry carries no time of its own (a Django format
	// without asctime/created/server_time: the time is inherited). Such
	// entries repeat byte for byte ("Unauthorized: /login/"), so their id
	// also covers where they were read (event.IDer.IDAt).
	Timeless bool
}

// Reset clears r for reuse, keeping capacity.
func (r *Raw) Reset() {
	*r = Raw{Entry: r.Entry[:0], Statement: r.Statement[:0], Placeholders: r.Placeholders[:0]}
}

// NormalizerConfig configures a Normalizer.
type NormalizerConfig struct {
	Key     []byte           // HMAC key for value hashes; required
	KeepRaw bool             // store the raw entry in Event.Raw (off by default)
	Catalog *catalog.Catalog // sensitive columns; nil means the default catalog
	// Classifier recognizes personal data, ciphertext and secrets; nil
	// means the built-in recognizers without national-id patterns.
	Classifier *classify.Classifier
}

// Normalizer completes events: the deterministic id, statement
// fingerprint and hash, tables and columns, sensitive columns, classified
// and hashed values, secrets found in the clear, redacted free text.
// Every decoder owns one; it is not safe for concurrent use.
type Normalizer struct {
	hasher     *Hasher
	keepRaw    bool
	catalog    *catalog.Catalog
	classifier *classify.Classifier
	analyzer   *sqlfp.Analyzer
	ids        event.IDer
	unmarked   []byte   // reused buffer for marker-free statement text
	text       []byte   // reused buffer for the other scanned fields
	lit        []byte   // reused buffer for unquoted placeholder values
	names      strCache // table.column names
	fps        strCache // fingerprints
	tagStrs    strCache // sqlcommenter keys and values
	comments   sqlfp.CommentParser
	seed       maphash.Seed
}

// NewNormalizer builds a Normalizer. It panics on an empty key, which is a
// programming error: config validation guarantees a key.
func NewNormalizer(c NormalizerConfig) *Normalizer {
	if len(c.Key) == 0 {
		panic("parse: NewNormalizer without a key")
	}
	cat := c.Catalog
	if cat == nil {
		cat = catalog.New(catalog.Config{})
	}
	n := &Normalizer{hasher: NewHasher(c.Key), keepRaw: c.KeepRaw, catalog: cat,
		classifier: c.Classifier, analyzer: sqlfp.NewAnalyzer(), seed: maphash.MakeSeed()}
	// Tag keys and most values (route, controller, framework) repeat on
	// every query of a request type: share their strings.
	n.comments.String = func(b []byte) string { return n.tagStrs.get(b, maphash.Bytes(n.seed, b)) }
	return n
}

// Hasher returns the normalizer's keyed hasher.
func (n *Normalizer) Hasher() *Hasher { return n.hasher }

// Finish fills the derived and redacted fields of ev from raw. The decoder
// has already set the envelope fields (time, source, format, node, user,
// transport, ...). Finish sets ev.V and ev.ID and never stores a value of
// raw in the clear unless KeepRaw is set.
func (n *Normalizer) Finish(ev *event.Event, raw *Raw) {
	ev.V = event.SchemaVersion
	if raw.Timeless {
		ev.ID = n.ids.IDAt(ev.Source, ev.Origin, raw.Entry)
	} else {
		ev.ID = n.ids.ID(ev.Source, raw.Entry)
	}
	n.secrets(ev, raw)
	if raw.ErrorText != "" {
		ev.ErrorText = n.redactText(raw.ErrorText)
	}
	if raw.Message != "" {
		ev.Message = n.redactText(raw.Message)
	}
	if raw.SettingValue != "" {
		ev.SettingValue = n.settingValue(ev.SettingName, raw.SettingValue)
	}
	if len(raw.Statement) > 0 {
		n.statement(ev, raw)
	}
	if n.keepRaw {
		ev.Raw = string(raw.Entry)
	}
}

// auditSettings are cluster settings whose values roachwatch keeps in the
// clear: they are configuration (booleans, HBA rules, audit tables), not
// personal data, and the audit-tampering rule must read them.
var auditSettings = map[string]bool{
	"sql.log.user_audit":                             true,
	"sql.log.admin_audit.enabled":                    true,
	"sql.log.all_statements.enabled":                 true,
	"sql.trace.log_statement_execute":                true,
	"server.auth_log.sql_connections.enabled":        true,
	"server.auth_log.sql_sessions.enabled":           true,
	"server.eventlog.enabled":                        true,
	"sql.telemetry.query_sampling.enabled":           true,
	"sql.log.redact_names.enabled":                   true,
	"sql.sqlcommenter.enabled":                       true,
	"log.channel_compatibility_mode.enabled":         true,
	"server.host_based_authentication.configuration": true,
	"sql.log.slow_query.latency_threshold":           true,
	"server.user_login.min_password_length":          true,
	"server.user_login.password_encryption":          true,
}

func (n *Normalizer) settingValue(name, v string) string {
	if auditSettings[name] {
		return Unmark(v)
	}
	return "‹#" + n.hasher.SumString(Unmark(v)) + "›"
}
