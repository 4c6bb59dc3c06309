package posture

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"time"
)

// CertProblem is the class of a certificate verification failure. The
// values are stable strings (finding details).
type CertProblem string

// Certificate problems, from Go's x509 errors or their text.
const (
	CertOK               CertProblem = ""
	CertUnknownAuthority CertProblem = "unknown_authority" // chain does not lead to a configured root
	CertSelfSigned       CertProblem = "self_signed"       // unknown authority, and the leaf signed itself
	CertExpired          CertProblem = "expired"
	CertNotYetValid      CertProblem = "not_yet_valid"
	CertHostnameMismatch CertProblem = "hostname_mismatch"
	CertInvalid          CertProblem = "invalid" // any other verification failure (usage, constraints, ...)
)

// ClassifyCertError classifies a certificate verification error: the typed
// errors of crypto/x509 (also when wrapped, e.g. in
// tls.CertificateVerificationError or pgconn.ConnectError) and, for
// errors that reached us only as text, the messages Go prints for them
// ("x509: certificate signed by unknown authority", "x509: certificate
// has expired or is not yet valid: current time ... is after ...",
// "x509: certificate is valid for 127.0.0.1, not ::1"). leaf, when known,
// tells a self-signed certificate from one of an unknown CA. A nil error
// is CertOK; an error that is not about a certificate is CertInvalid only
// if it mentions x509, else CertOK.
func ClassifyCertError(err error, leaf *x509.Certificate) CertProblem {
	if err == nil {
		return CertOK
	}
	var ua x509.UnknownAuthorityError
	var uaPtr *x509.UnknownAuthorityError
	var he x509.HostnameError
	var hePtr *x509.HostnameError
	var ci x509.CertificateInvalidError
	var ciPtr *x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua), errors.As(err, &uaPtr):
		return unknownAuthority(leaf)
	case errors.As(err, &he), errors.As(err, &hePtr):
		return CertHostnameMismatch
	case errors.As(err, &ci):
		return invalidReason(ci)
	case errors.As(err, &ciPtr):
		return invalidReason(*ciPtr)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate signed by unknown authority"):
		return unknownAuthority(leaf)
	case strings.Contains(msg, "has expired or is not yet valid"):
		if strings.Contains(msg, "is before") {
			return CertNotYetValid
		}
		return CertExpired
	case strings.Contains(msg, "certificate is valid for") || strings.Contains(msg, "certificate is not valid for any names"):
		return CertHostnameMismatch
	case strings.Contains(msg, "x509:"):
		return CertInvalid
	}
	return CertOK
}

func invalidReason(e x509.CertificateInvalidError) CertProblem {
	if e.Reason != x509.Expired {
		return CertInvalid
	}
	// x509 uses one reason for both ends of the validity window; the
	// detail says which ("current time X is before Y" / "is after Y").
	if strings.Contains(e.Detail, "is before") {
		return CertNotYetValid
	}
	if e.Cert != nil && time.Now().Before(e.Cert.NotBefore) {
		return CertNotYetValid
	}
	return CertExpired
}

func unknownAuthority(leaf *x509.Certificate) CertProblem {
	if leaf != nil && IsSelfSigned(leaf) {
		return CertSelfSigned
	}
	return CertUnknownAuthority
}

// IsSelfSigned reports whether c names itself as issuer and its signature
// verifies with its own key.
func IsSelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// verifyChain verifies peer certificates as a verify-full client does:
// chain to roots (nil = the system pool) and, when serverName is set, the
// host name. It returns the first error crypto/tls would have returned.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, serverName string, now time.Time) error {
	if len(certs) == 0 {
		return errors.New("x509: server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: serverName, CurrentTime: now, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := certs[0].Verify(opts)
	return err
}
