package event

// SchemaVersion is the version of the event's JSON form. It changes only
// when a field is removed or its meaning changes; adding a field does not
// change it (see doc.go).
const SchemaVersion = 1

// Sources of events.
const (
	SourceCRDB   = "crdb"
	SourceDjango = "django"
)

// Transports as CockroachDB names them (Transport field or session tag).
const (
	TransportTLS   = "hostssl"
	TransportPlain = "hostnossl"
	TransportLocal = "local"
)

// Event is one normalized log entry. Field names and their JSON spelling
// are public API: ClickHouse columns, Kafka consumers and the JSON Schema in
// schemas/event.schema.json mirror them.
//
// No field holds a sensitive value in the clear: literals and placeholder
// values appear only as keyed hashes (Value.Hash, Secret.Hash), redacted
// spans of free text are replaced by hash tokens, and Raw is set only when
// raw storage is explicitly enabled.
type Event struct {
	V          int    `json:"v"`
	ID         string `json:"id"`                    // deterministic: hash of the raw entry
	Time       int64  `json:"time"`                  // event time, ns since the Unix epoch
	LoggedAt   int64  `json:"logged_at,omitempty"`   // envelope time, ns (CockroachDB)
	IngestTime int64  `json:"ingest_time,omitempty"` // when roachwatch read it, ns
	Source     string `json:"source"`                // crdb | django
	Format     string `json:"format"`                // crdb-json, crdb-json-compact, crdb-v2, django-text, django-json
	Origin     Origin `json:"origin"`

	Cluster  string `json:"cluster,omitempty"`
	Node     string `json:"node,omitempty"` // CockroachDB node id, or the Django host
	Channel  string `json:"channel,omitempty"`
	Severity string `json:"severity,omitempty"` // INFO, WARNING, ERROR, FATAL, DEBUG
	Type     string `json:"type"`               // CockroachDB EventType, or django.* kind (see doc.go)
	Logger   string `json:"logger,omitempty"`   // Django logger name

	User        string `json:"user,omitempty"`
	Application string `json:"application,omitempty"`
	ClientAddr  string `json:"client_addr,omitempty"` // IP of the SQL client (no port)
	ClientPort  int    `json:"client_port,omitempty"`
	SessionID   string `json:"session_id,omitempty"`
	Transport   string `json:"transport,omitempty"` // hostssl | hostnossl | local
	AuthMethod  string `json:"auth_method,omitempty"`
	AuthFailure string `json:"auth_failure,omitempty"` // AuthFailReason name, e.g. CREDENTIALS_INVALID
	Internal    bool   `json:"internal,omitempty"`     // CockroachDB's own activity (internal executor, node/$ apps)

	Fingerprint      string   `json:"fingerprint,omitempty"` // statement with literals replaced by ?
	FingerprintHash  uint64   `json:"fingerprint_hash,omitempty,string"`
	StatementTag     string   `json:"statement_tag,omitempty"` // SELECT, INSERT, GRANT, ...
	Tables           []string `json:"tables,omitempty"`
	Columns          []string `json:"columns,omitempty"`           // table.column where resolvable, else column
	SensitiveColumns []string `json:"sensitive_columns,omitempty"` // subset of Columns matched by the catalog
	Values           []Value  `json:"values,omitempty"`            // classified, hashed values bound to columns
	Secrets          []Secret `json:"secrets,omitempty"`           // secrets found in the clear in the entry

	Rows          int64  `json:"rows,omitempty"`       // NumRows: rows returned or affected
	RowsRead      int64  `json:"rows_read,omitempty"`  // telemetry RowsRead
	BytesRead     int64  `json:"bytes_read,omitempty"` // telemetry BytesRead
	FullTableScan bool   `json:"full_table_scan,omitempty"`
	FullIndexScan bool   `json:"full_index_scan,omitempty"`
	SQLState      string `json:"sqlstate,omitempty"`
	ErrorText     string `json:"error_text,omitempty"` // redacted
	LatencyNS     int64  `json:"latency_ns,omitempty"`
	ExecMode      string `json:"exec_mode,omitempty"`

	// Objects of DDL, privilege, role and audit events.
	Object            string   `json:"object,omitempty"` // TableName, DatabaseName, ... as logged (markers removed)
	AccessMode        string   `json:"access_mode,omitempty"`
	Grantee           string   `json:"grantee,omitempty"`
	GrantedPrivileges []string `json:"granted_privileges,omitempty"`
	RevokedPrivileges []string `json:"revoked_privileges,omitempty"`
	RoleName          string   `json:"role_name,omitempty"`
	Roles             []string `json:"roles,omitempty"`   // GranteeRoles of grant_role
	Members           []string `json:"members,omitempty"` // Members of grant_role
	Options           []string `json:"options,omitempty"` // role options
	SettingName       string   `json:"setting_name,omitempty"`
	SettingValue      string   `json:"setting_value,omitempty"` // only for audit-relevant settings, else a hash token

	// Django request context (from the request logger or sqlcommenter tags).
	HTTPMethod string            `json:"http_method,omitempty"`
	Path       string            `json:"path,omitempty"`
	Status     int               `json:"status,omitempty"`
	Route      string            `json:"route,omitempty"`
	View       string            `json:"view,omitempty"` // sqlcommenter controller
	RemoteAddr string            `json:"remote_addr,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	QueryTags  map[string]string `json:"query_tags,omitempty"` // sqlcommenter / querytag-* tags

	Message string            `json:"message,omitempty"` // unstructured text, redacted
	Attrs   map[string]string `json:"attrs,omitempty"`   // other non-sensitive payload fields
	Raw     string            `json:"raw,omitempty"`     // the raw entry, only when raw storage is enabled
}

// Origin says where an entry was read.
type Origin struct {
	File   string `json:"file,omitempty"` // path or logical name of the source
	Offset int64  `json:"offset"`         // byte offset of the entry's first line
}

// Value is a literal or placeholder value the parser saw, kept only as its
// class and a keyed hash so analysts can correlate equal values without
// seeing them.
type Value struct {
	Table  string `json:"table,omitempty"`
	Column string `json:"column,omitempty"`
	Op     string `json:"op"`    // write | compare | literal (not bound to a column)
	Class  string `json:"class"` // see pipeline/classify: ssn, pan, iban, email, fernet, ciphertext, text, ...
	Hash   string `json:"hash"`  // HMAC-SHA256 with the configured key, 16 hex digits
}

// Secret is a credential or sensitive value found in the clear somewhere in
// the entry, kept as type, location and keyed hash only.
type Secret struct {
	Type  string `json:"type"`  // dsn_password, jwt, aws_access_key, private_key, django_secret_key, ssn, pan, ...
	Field string `json:"field"` // where: statement, error_text, params, message, placeholder, ...
	Hash  string `json:"hash"`
}

// Ops of a Value.
const (
	OpWrite   = "write"
	OpCompare = "compare"
	OpLiteral = "literal"
)
