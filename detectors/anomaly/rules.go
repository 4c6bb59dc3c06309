package anomaly

import "roachwatch/detectors"

var reviewPCI = []string{"10.4.1", "10.4.1.1"}

// Rule001 is RW-ANOM-001: exfiltration-sized reads.
var Rule001 = detectors.Rule{
	ID:       "RW-ANOM-001",
	Title:    "Read far above the principal's baseline (possible exfiltration)",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-200", "CWE-359"},
	OWASP:    []string{"A01:2021-Broken Access Control"},
	MITRE:    []string{"T1213", "T1005"},
	PCI:      []string{"10.4.1", "10.4.1.1", "7.2.2"},
	Explanation: "A principal read or returned far more rows than its own robust baseline for that statement shape or table " +
		"(median and spread of past row counts in log space), or ran the first full table scan of a sensitive table in its history. " +
		"Bulk reads of personal or card data by a service account are the typical shape of exfiltration through a stolen " +
		"credential, a compromised BI tool or an injection that removed a WHERE clause.",
	Remediation: "Confirm with the owner of the principal whether the read was expected. If not, rotate the credential " +
		"(ALTER ROLE ... WITH PASSWORD, new client certificate) and revoke what the role does not need " +
		"(REVOKE SELECT ON customers FROM reporting; grant a view without card_number/iban instead). Store sensitive columns " +
		"encrypted (Fernet key from a secrets manager, encrypted before save in the Django model) so bulk reads yield ciphertext, " +
		"enable ALTER TABLE ... EXPERIMENTAL_AUDIT SET READ WRITE on sensitive tables and set sql.guardrails.max_row_size_log / " +
		"transaction_rows_read_err for service roles to cap bulk reads.",
}

// Rule002 is RW-ANOM-002: a new statement shape from an application principal.
var Rule002 = detectors.Rule{
	ID:       "RW-ANOM-002",
	Title:    "New statement shape from an application principal",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-89", "CWE-943"},
	OWASP:    []string{"A03:2021-Injection"},
	MITRE:    []string{"T1190", "T1078"},
	PCI:      []string{"6.2.4", "10.4.1"},
	Explanation: "An application principal (a Django or service account whose ORM emits a finite set of statement shapes) " +
		"ran a statement fingerprint it never ran before, after its baseline had settled. ORM traffic does not invent new " +
		"shapes between deployments: a new shape from the app user is a strong injection or compromise signal " +
		"(string-built SQL, raw() with user input, or someone using the app's credentials by hand).",
	Remediation: "Check whether a deployment shipped the new query (match the fingerprint against the release). If not, " +
		"look for raw SQL built from request data (cursor.execute(f\"...\"), .raw(), .extra()) and replace it with parameters " +
		"or the ORM; rotate the app's database credentials if they may have leaked. Known new shapes can be allowlisted per " +
		"rule (detectors.rules.rw_anom_002.allow.fingerprints) after review.",
}

// Rule003 is RW-ANOM-003: request-rate spike.
var Rule003 = detectors.Rule{
	ID:       "RW-ANOM-003",
	Title:    "Request-rate spike for a principal",
	Severity: detectors.SeverityMedium,
	CWE:      []string{"CWE-799", "CWE-770"},
	OWASP:    []string{"A04:2021-Insecure Design"},
	MITRE:    []string{"T1119", "T1499"},
	PCI:      reviewPCI,
	Explanation: "A principal issued far more statements in one minute than its robust per-minute baseline (median and " +
		"spread of its busy minutes in log space). Scraping through the app, automated enumeration with stolen credentials and " +
		"runaway jobs look like this.",
	Remediation: "Find the sessions and client addresses of the minute (investigation query) and the Django view or job " +
		"behind them. Add rate limiting in front of the view (django-ratelimit or the API gateway), paginate bulk endpoints, and " +
		"give batch jobs their own role so their traffic has its own baseline. If the traffic is not yours, rotate the credential.",
}

// Rule004 is RW-ANOM-004: off-hours activity.
var Rule004 = detectors.Rule{
	ID:       "RW-ANOM-004",
	Title:    "Activity at an hour the principal is never active",
	Severity: detectors.SeverityLow,
	CWE:      []string{"CWE-284"},
	OWASP:    []string{"A07:2021-Identification and Authentication Failures"},
	MITRE:    []string{"T1078"},
	PCI:      reviewPCI,
	Explanation: "A principal with enough history was active at an hour of the week (or, in its first week, of the day) " +
		"where its activity profile is practically empty. Human-driven roles used by an attacker from another time zone, and " +
		"credentials used outside the job schedule they belong to, show up this way.",
	Remediation: "Confirm the activity with the team owning the principal. Keep human and service roles separate so each " +
		"has a clean profile, restrict where a role may log in from in server.host_based_authentication.configuration, and " +
		"rotate the credential if the activity is not explained.",
}

// Rule005 is RW-ANOM-005: new client address, network or application name.
var Rule005 = detectors.Rule{
	ID:       "RW-ANOM-005",
	Title:    "Known principal from a new client network, address or application",
	Severity: detectors.SeverityMedium,
	CWE:      []string{"CWE-522", "CWE-284"},
	OWASP:    []string{"A07:2021-Identification and Authentication Failures"},
	MITRE:    []string{"T1078", "T1021"},
	PCI:      []string{"8.2.2", "10.4.1"},
	Explanation: "A principal with an established baseline connected from a client network (/24 for IPv4, /48 for IPv6) or " +
		"address it never used, or with a new application_name (e.g. psql or a desktop SQL tool instead of the Django app). " +
		"Service credentials used from a laptop or an unknown host are the classic sign of a leaked DATABASES password.",
	Remediation: "Verify the host. Pin service accounts to their networks in HBA (hostssl billing_app 10.20.4.0/24 cert-password; " +
		"deny others), use client certificates (sslcert/sslkey in DATABASES OPTIONS) instead of passwords, keep credentials in a " +
		"secrets manager rather than settings.py, and rotate the password if the host is not yours. New networks that are " +
		"expected can be allowlisted per rule (allow.client_networks).",
}

// Rule006 is RW-ANOM-006: a never-seen principal touching sensitive tables.
var Rule006 = detectors.Rule{
	ID:       "RW-ANOM-006",
	Title:    "Never-seen principal touched sensitive data",
	Severity: detectors.SeverityMedium,
	CWE:      []string{"CWE-284", "CWE-269"},
	OWASP:    []string{"A01:2021-Broken Access Control"},
	MITRE:    []string{"T1136", "T1078"},
	PCI:      []string{"7.2.1", "10.4.1"},
	Explanation: "A SQL user that was never seen before (after the warm-up) read or wrote a sensitive column or an audited " +
		"table. New roles created outside change control, or temporary accounts that are never removed, often end up with " +
		"broad grants; an attacker who could create a role uses it this way.",
	Remediation: "Check who created the role (CREATE ROLE / GRANT events) and why. Drop temporary roles after use " +
		"(DROP ROLE etl_tmp), grant only what a role needs on sensitive tables, prefer views without sensitive columns, and keep " +
		"role changes in migrations that go through review.",
}

// Rules lists RW-ANOM-001..006 in catalog order.
func (d *Detector) Rules() []detectors.Rule {
	return []detectors.Rule{Rule001, Rule002, Rule003, Rule004, Rule005, Rule006}
}
