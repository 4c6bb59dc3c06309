package classify

import (
	"testing"
	"unsafe"
)

func fuzzClassifier(t testing.TB) *Classifier {
	c, err := New(Config{NationalIDs: []Pattern{{Name: "uk_nino", Regex: `[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]`}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzValue checks that Value never panics, never returns ClassBytes, and
// that a Fernet token built from the fuzzed plaintext is always fernet.
func FuzzValue(f *testing.F) {
	for _, s := range []string{"", "123-45-6789", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
		"alice@example.com", "+1 (415) 555-2671", "04/17/1990", "AB123456C", "‹×›", "*****",
		"-----BEGIN PGP MESSAGE-----", "q83vEjRWeJq8/+7dzLuqmQ3Xk2hPa1Zc", "1.5e-3"} {
		f.Add([]byte(s), uint64(0))
	}
	c := fuzzClassifier(f)
	f.Fuzz(func(t *testing.T, v []byte, seed uint64) {
		cl, name := c.ClassifyNamed(v)
		if cl == ClassBytes || cl == "" {
			t.Fatalf("Value(%q) = %q", v, cl)
		}
		if (name != "") != (cl == ClassNationalID) {
			t.Fatalf("ClassifyNamed(%q) = %q, %q", v, cl, name)
		}
		var key [32]byte
		var iv [16]byte
		for i := range key {
			key[i] = byte(seed >> (i % 8 * 8))
		}
		copy(iv[:], v)
		tok := makeFernet(t, key, iv, seed, v)
		if got := c.Value([]byte(tok)); got != ClassFernet {
			t.Fatalf("Value(fernet %q) = %q", tok, got)
		}
	})
}

// FuzzScanSecrets checks that ScanSecrets never panics and that every
// reported secret is a non-empty sub-slice of the input.
func FuzzScanSecrets(f *testing.F) {
	for _, s := range []string{"postgresql://app:s3cr3t@db/app", "host=db password=x dbname=d",
		"Bearer " + testJWT, awsKey, "aws_secret_access_key=" + awsSecret, gcpKey, githubToken, slackToken,
		stripeKey, pemKey, "SECRET_KEY = '" + djangoKey + "'", `{"password": "x"}`, "ssn 123-45-6789",
		"card 4111 1111 1111 1111", "GB29 NWBK 6016 1331 9268 19", "NL91ABNA0417164300"} {
		f.Add([]byte(s))
	}
	c := fuzzClassifier(f)
	f.Fuzz(func(t *testing.T, text []byte) {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(text)))
		hi := lo + uintptr(len(text))
		c.ScanSecrets(text, func(typ string, secret []byte) {
			p := uintptr(unsafe.Pointer(unsafe.SliceData(secret)))
			if typ == "" || len(secret) == 0 || p < lo || p+uintptr(len(secret)) > hi {
				t.Fatalf("ScanSecrets(%q) reported %q %q outside the input", text, typ, secret)
			}
		})
	})
}
