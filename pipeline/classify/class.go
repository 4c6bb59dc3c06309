package classify

// Class is what a single value looks like: its format, not its meaning.
// Classes are stable strings; they are stored with events and findings.
type Class string

// The classes Value can return, plus ClassBytes which callers set for BYTES
// literals. Comments give the accepted formats; doc.go has the thresholds.
const (
	// ClassEmpty is an empty (or whitespace-only) value.
	ClassEmpty Class = "empty"
	// ClassNumber is a decimal integer or fraction with optional sign and
	// exponent that matched no more specific class.
	ClassNumber Class = "number"
	// ClassText is any value that matched nothing specific.
	ClassText Class = "text"
	// ClassSSN is a US social security number ddd-dd-dddd or ddd dd dddd,
	// excluding area 000, 666 and 9xx, group 00 and serial 0000.
	ClassSSN Class = "ssn"
	// ClassPAN is a Luhn-valid payment card number of 13–19 digits with a
	// plausible issuer prefix, optionally grouped by single spaces or dashes.
	ClassPAN Class = "pan"
	// ClassIBAN is an ISO 13616 IBAN with the right length for its country
	// and a mod-97 remainder of 1, compact or in groups separated by spaces.
	ClassIBAN Class = "iban"
	// ClassEmail is an e-mail address local@domain.tld.
	ClassEmail Class = "email"
	// ClassPhone is an E.164 number (+ and 8–15 digits) or a NANP number
	// (ddd) ddd-dddd, ddd-ddd-dddd or ddd.ddd.dddd.
	ClassPhone Class = "phone"
	// ClassDate is a calendar date yyyy-mm-dd, mm/dd/yyyy or dd.mm.yyyy.
	ClassDate Class = "date"
	// ClassNationalID matched one of Config.NationalIDs; ClassifyNamed
	// returns the pattern's name.
	ClassNationalID Class = "national_id"
	// ClassFernet is a structurally valid Fernet token.
	ClassFernet Class = "fernet"
	// ClassPGPArmor is an ASCII-armored PGP message, as pgcrypto armor()
	// produces.
	ClassPGPArmor Class = "pgp_armor"
	// ClassCiphertext is a hex or base64 string of at least 24 characters
	// whose decoded bytes look random (see doc.go).
	ClassCiphertext Class = "ciphertext"
	// ClassBytes is set by callers for BYTES literals; Value never returns it.
	ClassBytes Class = "bytes"
	// ClassRedacted is a value CockroachDB already redacted: ‹×› or *****.
	ClassRedacted Class = "redacted"
)

// IsCiphertext reports whether cl is an encrypted or opaque binary form:
// fernet, pgp_armor, ciphertext or bytes.
func IsCiphertext(cl Class) bool {
	switch cl {
	case ClassFernet, ClassPGPArmor, ClassCiphertext, ClassBytes:
		return true
	}
	return false
}

// IsPersonal reports whether cl is personal data in the clear: ssn, pan,
// iban, email, phone, date or national_id.
func IsPersonal(cl Class) bool {
	switch cl {
	case ClassSSN, ClassPAN, ClassIBAN, ClassEmail, ClassPhone, ClassDate, ClassNationalID:
		return true
	}
	return false
}

// The typ values ScanSecrets reports. They are stable strings.
const (
	// SecretDSNPassword is the password of a database or broker URL, or of
	// a libpq key/value connection string.
	SecretDSNPassword = "dsn_password"
	// SecretJWT is a JSON Web Token whose header carries "alg".
	SecretJWT = "jwt"
	// SecretAWSAccessKey is an AWS access key id (AKIA/ASIA...).
	SecretAWSAccessKey = "aws_access_key"
	// SecretAWSSecretKey is the 40-character value of aws_secret_access_key.
	SecretAWSSecretKey = "aws_secret_key"
	// SecretGCPAPIKey is a Google API key (AIza...).
	SecretGCPAPIKey = "gcp_api_key"
	// SecretGitHubToken is a GitHub token (ghp_, gho_, ghs_, ghu_, ghr_,
	// github_pat_).
	SecretGitHubToken = "github_token"
	// SecretSlackToken is a Slack token (xoxa-, xoxb-, xoxp-, xoxr-, xoxs-).
	SecretSlackToken = "slack_token"
	// SecretStripeKey is a live Stripe secret or restricted key.
	SecretStripeKey = "stripe_key"
	// SecretPrivateKey is a PEM private key block (at most its first 4 KiB).
	SecretPrivateKey = "private_key"
	// SecretDjangoKey is a Django SECRET_KEY value.
	SecretDjangoKey = "django_secret_key"
	// SecretPassword is a password assigned in code, config or a query.
	SecretPassword = "password_assignment"
	// SecretSSN is a dashed US social security number in free text.
	SecretSSN = "ssn"
	// SecretPAN is a payment card number in free text.
	SecretPAN = "pan"
	// SecretIBAN is an IBAN in free text.
	SecretIBAN = "iban"
)
