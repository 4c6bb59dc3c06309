package classify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValue(t *testing.T) {
	c, err := New(Config{NationalIDs: []Pattern{
		{Name: "uk_nino", Regex: `[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]`},
		{Name: "pl_pesel", Regex: `\d{11}`},
	}})
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("x"))
	cases := []struct {
		name string
		in   string
		want Class
	}{
		{"empty", "", ClassEmpty},
		{"blank", "  \t", ClassEmpty},
		{"integer id", "12345", ClassNumber},
		{"negative", "-42", ClassNumber},
		{"amount", "129.99", ClassNumber},
		{"exponent", "1.5e-3", ClassNumber},
		{"name", "Alice Smith", ClassText},
		{"word", "pending", ClassText},
		{"order number", "ORD-2024-000123", ClassText},

		{"ssn dashed", "123-45-6789", ClassSSN},
		{"ssn spaced", "123 45 6789", ClassSSN},
		{"ssn padded", " 123-45-6789 ", ClassSSN},
		{"ssn area 000", "000-12-3456", ClassText},
		{"ssn area 666", "666-12-3456", ClassText},
		{"ssn area 9xx", "912-34-5678", ClassText},
		{"ssn group 00", "123-00-4567", ClassText},
		{"ssn serial 0000", "123-45-0000", ClassText},
		{"ssn short serial", "123-45-678", ClassText},
		{"ssn mixed separators", "123-45 6789", ClassText},

		{"visa", "4111111111111111", ClassPAN},
		{"visa spaced", "4111 1111 1111 1111", ClassPAN},
		{"visa dashed", "4111-1111-1111-1111", ClassPAN},
		{"visa 13", "4222222222222", ClassPAN},
		{"mastercard", "5555555555554444", ClassPAN},
		{"mastercard 2-series", "2223003122003222", ClassPAN},
		{"amex", "378282246310005", ClassPAN},
		{"amex grouped", "3782 822463 10005", ClassPAN},
		{"discover", "6011111111111117", ClassPAN},
		{"jcb", "3530111333300000", ClassPAN},
		{"diners", "30569309025904", ClassPAN},
		{"unionpay", "6200000000000005", ClassPAN},
		{"luhn invalid", "4111111111111112", ClassNumber},
		{"luhn valid bad iin", "1234567812345670", ClassNumber},
		{"amex length wrong", "3782822463100050", ClassNumber},
		{"mixed separators", "4111 1111-1111 1111", ClassText},
		{"double space", "4111  1111 1111 1111", ClassText},

		{"iban de", "DE89370400440532013000", ClassIBAN},
		{"iban de spaced", "DE89 3704 0044 0532 0130 00", ClassIBAN},
		{"iban gb", "GB29NWBK60161331926819", ClassIBAN},
		{"iban fr", "FR1420041010050500013M02606", ClassIBAN},
		{"iban nl", "NL91ABNA0417164300", ClassIBAN},
		{"iban es", "ES9121000418450200051332", ClassIBAN},
		{"iban it", "IT60X0542811101000000123456", ClassIBAN},
		{"iban be", "BE68539007547034", ClassIBAN},
		{"iban ch", "CH9300762011623852957", ClassIBAN},
		{"iban at", "AT611904300234573201", ClassIBAN},
		{"iban pl", "PL61109010140000071219812874", ClassIBAN},
		{"iban se", "SE4550000000058398257466", ClassIBAN},
		{"iban no", "NO9386011117947", ClassIBAN},
		{"iban dk", "DK5000400440116243", ClassIBAN},
		{"iban fi", "FI2112345600000785", ClassIBAN},
		{"iban ie", "IE29AIBK93115212345678", ClassIBAN},
		{"iban pt", "PT50000201231234567890154", ClassIBAN},
		{"iban lu", "LU280019400644750000", ClassIBAN},
		{"iban bad checksum", "DE89370400440532013001", ClassText},
		{"iban wrong length", "DE8937040044053201300", ClassText},
		{"iban bad grouping", "DE89 370 4004 4053 2013 000", ClassText},

		{"email", "alice.smith+tag@example.co.uk", ClassEmail},
		{"email no tld", "alice@localhost", ClassText},
		{"email numeric tld", "alice@10.0.0.1", ClassText},
		{"two ats", "a@b@example.com", ClassText},

		{"e164", "+14155552671", ClassPhone},
		{"e164 grouped", "+44 20 7946 0958", ClassPhone},
		{"e164 parens", "+1 (415) 555-2671", ClassPhone},
		{"nanp parens", "(415) 555-2671", ClassPhone},
		{"nanp dashed", "415-555-2671", ClassPhone},
		{"nanp dotted", "415.555.2671", ClassPhone},
		{"nanp area starts 1", "123-456-7890", ClassText},
		{"e164 too short", "+1234567", ClassNumber},
		{"e164 too long", "+1234567890123456", ClassNumber},
		{"phone-like id", "555-0100", ClassText},

		{"iso date", "1990-04-17", ClassDate},
		{"us date", "04/17/1990", ClassDate},
		{"us short date", "4/7/1990", ClassDate},
		{"eu date", "17.04.1990", ClassDate},
		{"leap day", "2024-02-29", ClassDate},
		{"not leap day", "2023-02-29", ClassText},
		{"month 13", "1990-13-01", ClassText},
		{"timestamp", "2024-01-15T10:30:00Z", ClassText},
		{"version", "1.2.3", ClassText},

		{"national id", "AB123456C", ClassNationalID},
		{"national id digits", "44051401359", ClassNationalID},
		{"national id near miss", "AB123456E", ClassText},

		{"pgp armor", "-----BEGIN PGP MESSAGE-----\n\nww0EBwMC...\n-----END PGP MESSAGE-----", ClassPGPArmor},
		{"redaction marker", "‹×›", ClassRedacted},
		{"stars", "*****", ClassRedacted},
		{"single star", "*", ClassText},

		{"sha256 hex", hex.EncodeToString(sum[:]), ClassCiphertext},
		{"random base64", "q83vEjRWeJq8/+7dzLuqmQ3Xk2hPa1Zc", ClassCiphertext},
		{"random base64url", "q83vEjRWeJq8_-7dzLuqmQ3Xk2hPa1Zc", ClassCiphertext},
		{"uuid", "550e8400-e29b-41d4-a716-446655440000", ClassText},
		{"uuid compact", "550e8400e29b41d4a716446655440000", ClassText},
		{"repeated letters hex", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ClassText},
		{"repeated word", "Password1Password1Password1", ClassText},
		{"identifier", "getUserAccountSettingsByIdentifier", ClassText},
		{"base64 of text", base64.StdEncoding.EncodeToString([]byte("the quick brown fox jumps over it")), ClassText},
		{"short base64", "q83vEjRWeJq8", ClassText},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, c.Value([]byte(tc.in)), "%q", tc.in)
		})
	}
}

func TestClassifyNamed(t *testing.T) {
	c, err := New(Config{NationalIDs: []Pattern{
		{Name: "uk_nino", Regex: `[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]`},
		{Name: "fr_insee", Regex: `(?i)[12]\d{2}(0[1-9]|1[0-2])(2a|2b|\d{2})\d{6}\d{2}`},
	}})
	require.NoError(t, err)
	cases := []struct {
		name, in, wantName string
		want               Class
	}{
		{"nino", "AB123456C", "uk_nino", ClassNationalID},
		{"insee", "185072A12345678", "fr_insee", ClassNationalID},
		{"insee lower", "185072a12345678", "fr_insee", ClassNationalID},
		{"builtin class has no name", "123-45-6789", "", ClassSSN},
		{"text", "hello", "", ClassText},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl, name := c.ClassifyNamed([]byte(tc.in))
			require.Equal(t, tc.want, cl)
			require.Equal(t, tc.wantName, name)
		})
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"zero config", Config{}, ""},
		{"valid", Config{NationalIDs: []Pattern{{Name: "x", Regex: `\d{3}`}}}, ""},
		{"bad regex", Config{NationalIDs: []Pattern{{Name: "ok", Regex: `a`}, {Name: "broken", Regex: `(`}}}, `national_ids[1] "broken"`},
		{"missing name", Config{NationalIDs: []Pattern{{Regex: `a`}}}, "name is required"},
		{"missing regex", Config{NationalIDs: []Pattern{{Name: "empty"}}}, `"empty": regex is required`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestNilClassifier(t *testing.T) {
	var c *Classifier
	require.Equal(t, ClassSSN, c.Value([]byte("123-45-6789")))
	require.Equal(t, ClassNumber, c.Value([]byte("44051401359")))
}

func TestClassPredicates(t *testing.T) {
	cases := []struct {
		cl                   Class
		ciphertext, personal bool
	}{
		{ClassFernet, true, false}, {ClassPGPArmor, true, false}, {ClassCiphertext, true, false},
		{ClassBytes, true, false}, {ClassSSN, false, true}, {ClassPAN, false, true},
		{ClassIBAN, false, true}, {ClassEmail, false, true}, {ClassPhone, false, true},
		{ClassDate, false, true}, {ClassNationalID, false, true}, {ClassText, false, false},
		{ClassNumber, false, false}, {ClassEmpty, false, false}, {ClassRedacted, false, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.cl), func(t *testing.T) {
			require.Equal(t, tc.ciphertext, IsCiphertext(tc.cl))
			require.Equal(t, tc.personal, IsPersonal(tc.cl))
		})
	}
}

func TestNationalIDPrefilter(t *testing.T) {
	cases := []struct {
		name, regex string
		lo, hi      int
		in          string
		match       bool
	}{
		{"fixed digits", `\d{11}`, 11, 11, "44051401359", true},
		{"alternation", `AB|CDE`, 2, 3, "CDE", true},
		{"optional", `X?\d{2}`, 2, 3, "X12", true},
		{"unbounded", `[A-Z]+\d`, 2, unbounded, "ABC1", true},
		{"fold case", `(?i)ab\d`, 3, 3, "aB1", true},
		{"non-ascii", `é\d`, 3, 3, "é1", true},
		{"byte outside set", `\d{3}`, 3, 3, "12a", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := compileNationalID(Pattern{Name: tc.name, Regex: tc.regex})
			require.NoError(t, err)
			require.Equal(t, tc.lo, id.minLen)
			require.Equal(t, tc.hi, id.maxLen)
			require.Equal(t, tc.match, id.match([]byte(tc.in)))
		})
	}
}
