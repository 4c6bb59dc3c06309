package testca

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
)

func TestUnrelatedCA(t *testing.T) {
	a, b := UnrelatedCA(t, "one"), UnrelatedCA(t, "two")
	certs := make([]*x509.Certificate, 0, 2)
	for _, p := range []string{a, b} {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(raw)
		if blk == nil || blk.Type != "CERTIFICATE" {
			t.Fatalf("%s: no PEM certificate", p)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if !c.IsCA {
			t.Fatalf("%s: not a CA", p)
		}
		certs = append(certs, c)
	}
	// Each is its own root: neither verifies against the other's pool.
	pool := x509.NewCertPool()
	pool.AddCert(certs[0])
	if _, err := certs[1].Verify(x509.VerifyOptions{Roots: pool}); err == nil {
		t.Fatal("two unrelated CAs verify against each other")
	}
	if certs[0].Subject.CommonName != "one" {
		t.Fatalf("common name %q", certs[0].Subject.CommonName)
	}
}
