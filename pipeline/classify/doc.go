// Package classify recognizes sensitive values and secrets for roachwatch's
// parsers and detectors. It answers two questions, both on the hot path of
// every event:
//
//   - Value: what does one SQL literal or bound parameter look like? The
//     answer is a Class (ssn, pan, iban, email, phone, date, national_id,
//     fernet, pgp_armor, ciphertext, redacted, number, text, empty).
//     RW-CRYPTO-001 uses it to tell plaintext written to a sensitive column
//     from an encrypted envelope.
//   - ScanSecrets: which secrets and personal data sit in the clear inside
//     free text (statements, error messages, Django params and messages)?
//     RW-CRYPTO-003 hashes what it reports.
//
// # Model
//
// A Class describes format, not meaning: "1990-04-17" is a date wherever it
// appears; only the caller knows it was bound to a dob column. Value trims
// ASCII whitespace, makes one pass over the bytes to learn which kinds of
// bytes occur, and runs only the recognizers that shape allows, in this
// order: redaction markers, PGP armor, the numeric shapes (ssn, date, phone,
// pan, number), email, iban, fernet, UUIDs (text), ciphertext, configured
// national ids, and finally text. Built-in personal classes win over
// national-id patterns, which win over number and text.
//
// ScanSecrets finds candidates with SIMD substring searches for rare
// anchors ("://", "eyJ", "-----BEGIN ", "SECRET_KEY", "assw", "ASSW") and
// two skip scans (runs of ≥ 15 token bytes [A-Za-z0-9_-], runs of ≥ 11
// digits, spaces and dashes holding ≥ 9 digits) that look at about one byte
// in every run length; recognizers run only on candidates. Neither Value nor
// ScanSecrets allocates, and neither runs a regexp except a national-id
// pattern whose length range and byte set the value already satisfies.
//
// # Thresholds
//
//   - SSN: ddd-dd-dddd (Value also takes ddd dd dddd); area not 000, 666 or
//     9xx, group not 00, serial not 0000. ScanSecrets takes the dashed form
//     only.
//   - PAN: 13–19 digits, Luhn-valid, issuer prefix and length of Visa
//     (4: 13/16/19), Mastercard (51–55, 2221–2720: 16), Amex (34/37: 15),
//     Discover (6011, 644–649, 65), JCB (35), UnionPay (62) (16–19), Diners
//     (30/36/38/39: 14–19). Groups are separated by one repeated single space
//     or dash. In free text the number must not touch a letter, digit, '_',
//     '+', a decimal point or a dash-joined neighbour (UUIDs, dates, longer
//     ids), and grouped numbers start with a 4-digit group followed by groups
//     of 3–6 digits.
//   - IBAN: two upper-case letters, two digits, BBAN; total length from the
//     SWIFT registry for 80 countries, mod-97 = 1; compact or in groups of
//     four separated by single spaces. Value accepts unknown countries with
//     15–34 characters; ScanSecrets only known ones.
//   - Phone: + then 8–15 digits (first digit 1–9), or NANP with an area code
//     starting 2–9.
//   - Date: yyyy-mm-dd, m/d/yyyy, d.m.yyyy for years 1000–2999 and real
//     calendar days. Timestamps are text.
//   - Fernet: URL-safe base64 decoding to 0x80 followed by 56 + 16k bytes
//     (k ≥ 1). The HMAC cannot be verified without the key.
//   - Ciphertext: hex (even length) or base64/base64url (no mixed alphabets,
//     valid padding) of ≥ 24 characters that decodes cleanly, whose decoded
//     bytes are not all printable ASCII and have Shannon entropy
//     ≥ 0.85·min(log2 n, 8) bits per byte (n = decoded length, at most 1024
//     sampled). Base64 must also mix digits, upper and lower case and have
//     character entropy ≥ 0.80·min(log2 len, 6). A hex digest (sha256 of
//     anything) therefore counts as ciphertext: it is indistinguishable from
//     random bytes and reveals no plaintext. Repeated words, "aaaa…", UUIDs
//     (canonical, or 32 hex digits with RFC 9562 version and variant
//     nibbles) and base64 of plain text do not.
//   - Secrets: passwords and keys that are empty, masks (*****, xxxxx),
//     format verbs and template variables (%s, $1, {pw}, <pw>, ${PW}, :pw),
//     null-ish words or Django password hashes are not reported. SECRET_KEY
//     values need ≥ 20 characters quoted, ≥ 32 unquoted.
//
// See the Class and Secret* constants for each format.
package classify
