package posture

import (
	"roachwatch/detectors"
	"roachwatch/detectors/cryptorule"
)

const (
	owaspCrypto = "A02:2021-Cryptographic Failures"
	owaspAuth   = "A07:2021-Identification and Authentication Failures"
	owaspAccess = "A01:2021-Broken Access Control"
)

// RuleTLS002 is RW-TLS-002: the server accepts SQL connections without TLS.
var RuleTLS002 = detectors.Rule{
	ID:       "RW-TLS-002",
	Title:    "Server accepts SQL connections without TLS",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-319"},
	OWASP:    []string{owaspCrypto, owaspAuth},
	MITRE:    []string{"T1040", "T1557"},
	PCI:      []string{"4.2.1", "8.3.2"},
	Explanation: "The posture probe connected with sslmode=disable and the server let the connection through its host-based " +
		"authentication rules (or offered no TLS at all). Any client that is misconfigured, or downgraded by an attacker on the " +
		"path, then sends its credentials, statements and result rows in the clear. When the probe's credentials authenticated " +
		"over the plaintext connection the finding is critical: a password-authenticated session without encryption is " +
		"possible right now. \"Refused before auth\" (SQLSTATE 28000, no pg_hba.conf entry ... no encryption) is the wanted answer.",
	Remediation: "CockroachDB: never start nodes with --insecure or --accept-sql-without-tls; keep only hostssl entries in " +
		"server.host_based_authentication.configuration (e.g. SET CLUSTER SETTING server.host_based_authentication.configuration = " +
		"'hostssl all all all cert-password'). PostgreSQL: replace host/hostnossl lines by hostssl in pg_hba.conf and reload. " +
		"Django: set DATABASES['default']['OPTIONS'] = {'sslmode': 'verify-full', 'sslrootcert': '/certs/ca.crt'} so the app " +
		"refuses to talk to a server it cannot verify.",
}

// RuleTLS003 is RW-TLS-003: the server certificate cannot be trusted.
var RuleTLS003 = detectors.Rule{
	ID:       "RW-TLS-003",
	Title:    "Server certificate problem (untrusted, expired, expiring or wrong host name)",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-295", "CWE-298", "CWE-297"},
	OWASP:    []string{owaspCrypto, owaspAuth},
	MITRE:    []string{"T1557", "T1588.004"},
	PCI:      []string{"4.2.1", "4.2.1.1"},
	Explanation: "The probe verified the server certificate as a verify-full client does: chain to the configured root, validity " +
		"dates, and the host name it connected to. A certificate that fails (unknown or self-signed issuer, expired or not yet " +
		"valid, issued for another name) makes correctly configured clients fail, and teaches operators to weaken clients to " +
		"sslmode=require or disable - which accepts any certificate, including an attacker's (man-in-the-middle). A valid " +
		"certificate that expires within probe.cert_expiry_warn_days is reported at medium severity so it is rotated in time.",
	Remediation: "CockroachDB: issue node certificates from the cluster CA with every name clients use (cockroach cert " +
		"create-node <node-host> <lb-host> localhost 127.0.0.1 --certs-dir=certs --ca-key=ca.key), rotate them before expiry " +
		"(create the new files, then SIGHUP the node or wait for the automatic reload; cockroach cert list shows expiries) and " +
		"monitor security.certificate.expiration.node. PostgreSQL: reissue ssl_cert_file and SELECT pg_reload_conf(). Django: " +
		"keep 'sslmode': 'verify-full' with 'sslrootcert' pointing at the CA that issued the node certificates; never fall back " +
		"to require.",
}

// RuleTLS004 is RW-TLS-004: the server accepts outdated TLS protocol
// versions or weak cipher suites.
var RuleTLS004 = detectors.Rule{
	ID:       "RW-TLS-004",
	Title:    "Weak TLS protocol version or cipher suite accepted",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-326", "CWE-327", "CWE-757"},
	OWASP:    []string{owaspCrypto},
	MITRE:    []string{"T1557", "T1040"},
	PCI:      []string{"4.2.1", "2.2.7"},
	Explanation: "The probe completed a TLS handshake while offering only TLS 1.0 or 1.1 (or only weak cipher suites: static " +
		"RSA key exchange without forward secrecy, 3DES, RC4). These versions and suites have known practical weaknesses " +
		"(BEAST, Lucky13, SWEET32) and are forbidden by PCI DSS for new deployments; an active attacker can force a client " +
		"down to them when the server still accepts them. The handshake is abandoned before any credential is sent.",
	Remediation: "PostgreSQL: set ssl_min_protocol_version = 'TLSv1.2' (or TLSv1.3) and an ssl_ciphers list without " +
		"@SECLEVEL=0, RSA key exchange or 3DES, then reload. CockroachDB negotiates TLS 1.2+ with AEAD suites by default; " +
		"check that a proxy or load balancer in front of the nodes (HAProxy in TCP mode passes TLS through, TLS-terminating " +
		"balancers do not) does not accept older versions. Django: libpq >= 12 accepts ssl_min_protocol_version in OPTIONS " +
		"({'sslmode': 'verify-full', 'ssl_min_protocol_version': 'TLSv1.2'}).",
}

// RulePriv002 is RW-PRIV-002: an application role holds privileges beyond
// what an application needs (static posture, unlike RW-PRIV-001 which
// reports the grant statements in the logs).
var RulePriv002 = detectors.Rule{
	ID:       "RW-PRIV-002",
	Title:    "Application role holds excessive privileges",
	Severity: detectors.SeverityHigh,
	CWE:      []string{"CWE-250", "CWE-269", "CWE-272"},
	OWASP:    []string{owaspAccess},
	MITRE:    []string{"T1078.004", "T1098", "T1070"},
	PCI:      []string{"7.2.1", "7.2.2", "10.3.2"},
	Explanation: "The probe read the privileges of a configured application role (probe.app_roles): superuser or membership " +
		"of admin (or another powerful role) is critical; CREATEROLE (it can mint logins and grant itself more) and ALL or " +
		"ownership of a table with sensitive columns are high, as are DELETE, TRUNCATE or DROP on an audit-relevant table " +
		"(a compromised web process can erase its tracks); CREATEDB is medium. The Django app needs SELECT/INSERT/UPDATE on " +
		"its own tables, and migrations belong to a separate role whose credentials are not on the web servers.",
	Remediation: "REVOKE admin FROM <app>; ALTER ROLE <app> WITH NOCREATEROLE NOCREATEDB (CockroachDB also NOCREATELOGIN); " +
		"REVOKE ALL ON <table> FROM <app>; GRANT SELECT, INSERT, UPDATE ON <table> TO <app>; REVOKE DELETE, TRUNCATE, DROP " +
		"ON <audit table> FROM <app> (keep INSERT). Transfer table ownership to a migrator role (ALTER TABLE ... OWNER TO " +
		"migrator) and run manage.py migrate with that role from CI, not from the web tier.",
}

// RuleCrypto002 is RW-CRYPTO-002, defined by the crypto detectors: the
// schema probe reports sensitive columns it found stored in plaintext with
// the same rule.
var RuleCrypto002 = cryptorule.Rule002

// Rules lists the rules the probe reports, RW-CRYPTO-002 included.
func Rules() []detectors.Rule {
	return []detectors.Rule{RuleTLS002, RuleTLS003, RuleTLS004, RuleCrypto002, RulePriv002}
}
