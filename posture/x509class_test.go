package posture

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newCert issues a certificate for names valid in [from, to], signed by
// parent (self-signed when parent is nil).
func newCert(t *testing.T, cn string, names []string, from, to time.Time, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: from, NotAfter: to, IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c, key
}

func TestClassifyCertError(t *testing.T) {
	now := time.Now()
	year := 365 * 24 * time.Hour
	ca, caKey := newCert(t, "ca", nil, now.Add(-year), now.Add(year), true, nil, nil)
	otherCA, _ := newCert(t, "other", nil, now.Add(-year), now.Add(year), true, nil, nil)
	good, _ := newCert(t, "localhost", []string{"localhost", "127.0.0.1"}, now.Add(-time.Hour), now.Add(year), false, ca, caKey)
	expired, _ := newCert(t, "localhost", []string{"localhost"}, now.Add(-2*year), now.Add(-year), false, ca, caKey)
	future, _ := newCert(t, "localhost", []string{"localhost"}, now.Add(year), now.Add(2*year), false, ca, caKey)
	self, _ := newCert(t, "localhost", []string{"localhost"}, now.Add(-time.Hour), now.Add(year), false, nil, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	others := x509.NewCertPool()
	others.AddCert(otherCA)

	cases := []struct {
		name  string
		certs []*x509.Certificate
		roots *x509.CertPool
		host  string
		want  CertProblem
	}{
		{"valid", []*x509.Certificate{good}, roots, "localhost", CertOK},
		{"valid ip", []*x509.Certificate{good}, roots, "127.0.0.1", CertOK},
		{"wrong ca", []*x509.Certificate{good}, others, "localhost", CertUnknownAuthority},
		{"self-signed", []*x509.Certificate{self}, roots, "localhost", CertSelfSigned},
		{"expired", []*x509.Certificate{expired}, roots, "localhost", CertExpired},
		{"not yet valid", []*x509.Certificate{future}, roots, "localhost", CertNotYetValid},
		{"hostname", []*x509.Certificate{good}, roots, "db.example.com", CertHostnameMismatch},
		{"ip not in san", []*x509.Certificate{good}, roots, "::1", CertHostnameMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyChain(tc.certs, tc.roots, tc.host, now)
			require.Equal(t, tc.want, ClassifyCertError(err, tc.certs[0]), "err: %v", err)
			// Wrapped as crypto/tls and pgconn wrap it.
			if err != nil {
				wrapped := fmt.Errorf("failed to connect: %w", &tls.CertificateVerificationError{Err: err})
				require.Equal(t, tc.want, ClassifyCertError(wrapped, tc.certs[0]))
			}
		})
	}
}

// Errors that reached us as text only, as pgx prints them (see
// docs/FEASIBILITY.md §3 (b)).
func TestClassifyCertErrorText(t *testing.T) {
	cases := map[string]CertProblem{
		"failed to connect to `user=u database=d`: 127.0.0.1:5432 (127.0.0.1): failed to write startup message: write failed: tls: failed to verify certificate: x509: certificate signed by unknown authority": CertUnknownAuthority,
		"... [::1]:55432 (::1): failed to write startup message: write failed: tls: failed to verify certificate: x509: certificate is valid for 127.0.0.1, not ::1":                                            CertHostnameMismatch,
		"x509: certificate has expired or is not yet valid: current time 2026-11-22T10:00:00Z is after 2020-02-01T00:00:00Z":                                                                                    CertExpired,
		"x509: certificate has expired or is not yet valid: current time 2026-11-22T10:00:00Z is before 2030-01-01T00:00:00Z":                                                                                   CertNotYetValid,
		"x509: certificate is not valid for any names, but wanted to match db":                                                                                                                                  CertHostnameMismatch,
		"x509: certificate specifies an incompatible key usage":                                                                                                                                                 CertInvalid,
		"dial tcp 127.0.0.1:5432: connect: connection refused":                                                                                                                                                  CertOK,
	}
	for msg, want := range cases {
		require.Equal(t, want, ClassifyCertError(errors.New(msg), nil), msg)
	}
	require.Equal(t, CertOK, ClassifyCertError(nil, nil))
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	require.Equal(t, 30, daysLeft(now.Add(30*24*time.Hour+time.Hour), now))
	require.Equal(t, 0, daysLeft(now.Add(time.Hour), now))
	require.Equal(t, -1, daysLeft(now.Add(-time.Hour), now))
	require.Equal(t, -2, daysLeft(now.Add(-25*time.Hour), now))
}
