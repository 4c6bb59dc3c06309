package posture

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Plaintext outcomes of the sslmode=disable attempt.
const (
	PlaintextAccepted          = "accepted"            // connected and authenticated without TLS
	PlaintextAcceptedAuthError = "accepted_auth_error" // the HBA let it through; authentication then failed
	PlaintextRefusedBeforeAuth = "refused_before_auth" // the HBA (or a secure CockroachDB) refuses non-TLS
	PlaintextUnknown           = "unknown"             // network or other error: see PlaintextError
)

// CertInfo describes one certificate the server presented.
type CertInfo struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	NotAfter   time.Time `json:"not_after"`
	DaysLeft   int       `json:"days_left"`
	SelfSigned bool      `json:"self_signed,omitempty"`
}

// TransportResult is what the transport checks found on one endpoint.
type TransportResult struct {
	Plaintext          string      `json:"plaintext"`
	PlaintextError     string      `json:"plaintext_error,omitempty"`
	TLSOffered         bool        `json:"tls_offered"`
	CertProblem        CertProblem `json:"cert_problem,omitempty"`
	CertError          string      `json:"cert_error,omitempty"`
	TLSVersion         string      `json:"tls_version,omitempty"`
	CipherSuite        string      `json:"cipher_suite,omitempty"`
	Chain              []CertInfo  `json:"chain,omitempty"`
	Connected          bool        `json:"connected"` // verify-full connection authenticated
	ConnectError       string      `json:"connect_error,omitempty"`
	ClientCertRequired *bool       `json:"client_cert_required,omitempty"` // nil: not tested or unknown
	WeakVersions       []string    `json:"weak_versions,omitempty"`        // TLS versions < 1.2 the server accepted
	WeakCiphers        []string    `json:"weak_ciphers,omitempty"`         // weak suites the server accepted
}

// errHandshakeOnly ends a connection attempt right after the TLS
// handshake, before any credential is sent.
var errHandshakeOnly = errors.New("posture: handshake recorded; connection abandoned before authentication")

// handshake records the TLS state of one connection attempt.
type handshake struct {
	mu        sync.Mutex
	seen      bool
	state     tls.ConnectionState
	verifyErr error
}

func (h *handshake) record(cs tls.ConnectionState, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen, h.state, h.verifyErr = true, cs, err
}

func (h *handshake) get() (bool, tls.ConnectionState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen, h.state, h.verifyErr
}

// verifying returns a TLS tweak that verifies like verify-full (pgx put the
// roots and the host name into the config) but in VerifyConnection, so the
// presented chain is recorded even when verification fails. A failure
// still aborts the handshake: no credential reaches an unverified server.
func verifying(h *handshake, now time.Time) func(*tls.Config) {
	return func(tc *tls.Config) {
		roots, name := tc.RootCAs, tc.ServerName
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			err := verifyChain(cs.PeerCertificates, roots, name, now)
			h.record(cs, err)
			return err
		}
	}
}

// handshakeOnly returns a tweak that offers only versions [lo, hi] (and
// suites, when given), records the handshake and abandons the connection.
func handshakeOnly(h *handshake, lo, hi uint16, suites []uint16) func(*tls.Config) {
	return func(tc *tls.Config) {
		tc.InsecureSkipVerify = true
		tc.MinVersion, tc.MaxVersion = lo, hi
		if suites != nil {
			tc.CipherSuites = suites
		}
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			h.record(cs, nil)
			return errHandshakeOnly
		}
	}
}

// withoutClientCert drops the client certificate from a TLS config.
func withoutClientCert(tc *tls.Config) {
	tc.Certificates = nil
	tc.GetClientCertificate = nil
}

// withSSLMode sets sslmode in a URL or keyword/value connection string
// (a later keyword overrides an earlier one).
func withSSLMode(dsn, mode string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("sslmode", mode)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " sslmode=" + mode
}

// connect opens one connection to t with sslmode and the TLS tweaks.
func (p *Prober) connect(ctx context.Context, t Target, sslmode string, tweaks ...func(*tls.Config)) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(withSSLMode(t.DSN, sslmode))
	if err != nil {
		return nil, err
	}
	if t.Password != "" {
		cfg.Password = t.Password.Reveal()
	}
	cfg.ConnectTimeout = p.cfg.ConnectTimeout
	cfg.RuntimeParams["application_name"] = "roachwatch-probe"
	tlsConfigs := []*tls.Config{cfg.TLSConfig}
	for _, fb := range cfg.Fallbacks {
		tlsConfigs = append(tlsConfigs, fb.TLSConfig)
	}
	for _, tc := range tlsConfigs {
		for _, tw := range tweaks {
			if tc != nil {
				tw(tc)
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// probeTransport runs the transport checks. On success it returns the
// verified (verify-full) connection for the schema and grant checks; the
// caller closes it.
func (p *Prober) probeTransport(ctx context.Context, t Target, r *TransportResult) *pgx.Conn {
	p.probePlaintext(ctx, t, r)

	var h handshake
	conn, err := p.connect(ctx, t, "verify-full", verifying(&h, p.now()))
	seen, state, verr := h.get()
	r.TLSOffered = seen
	if seen {
		r.Chain = chainInfo(state.PeerCertificates, p.now())
		var leaf *x509.Certificate
		if len(state.PeerCertificates) > 0 {
			leaf = state.PeerCertificates[0]
		}
		r.CertProblem = ClassifyCertError(verr, leaf)
		if verr != nil {
			r.CertError = p.scrub(verr.Error(), t)
		}
		r.TLSVersion, r.CipherSuite = tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite)
	}
	if err != nil {
		r.ConnectError = p.scrub(err.Error(), t)
	} else {
		r.Connected = true
		if tc, ok := conn.PgConn().Conn().(*tls.Conn); ok {
			cs := tc.ConnectionState()
			r.TLSVersion, r.CipherSuite = tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite)
		}
	}
	if seen {
		p.probeWeak(ctx, t, r)
	}
	if t.HasClientCert && r.Connected {
		r.ClientCertRequired = p.probeClientCert(ctx, t)
	}
	return conn
}

func (p *Prober) probePlaintext(ctx context.Context, t Target, r *TransportResult) {
	conn, err := p.connect(ctx, t, "disable")
	if err == nil {
		r.Plaintext = PlaintextAccepted
		_ = conn.Close(ctx)
		return
	}
	r.PlaintextError = p.scrub(err.Error(), t)
	r.Plaintext = classifyPlaintextError(err)
}

// classifyPlaintextError tells an HBA refusal from a failed login and from
// a network error.
func classifyPlaintextError(err error) string {
	var pe *pgconn.PgError
	msg := strings.ToLower(err.Error())
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "28000" && strings.Contains(pe.Message, "pg_hba.conf"):
			return PlaintextRefusedBeforeAuth
		case strings.Contains(strings.ToLower(pe.Message), "ssl") || strings.Contains(strings.ToLower(pe.Message), "tls"):
			// CockroachDB secure nodes: "node is running secure mode, SSL connection required".
			return PlaintextRefusedBeforeAuth
		case pe.Code == "28P01" || pe.Code == "28000":
			return PlaintextAcceptedAuthError
		}
	}
	if strings.Contains(msg, "ssl connection required") || strings.Contains(msg, "no encryption") {
		return PlaintextRefusedBeforeAuth
	}
	return PlaintextUnknown
}

// weakSuites are the suites Go can still offer when asked explicitly that
// are weak on the wire: RC4, 3DES (SWEET32) and static RSA key exchange (no
// forward secrecy). Go also lists the CBC-SHA256 suites as insecure, for
// its own implementation's timing; servers offering them are not reported.
func weakSuites() []uint16 {
	var ids []uint16
	for _, s := range append(tls.InsecureCipherSuites(), tls.CipherSuites()...) {
		if strings.Contains(s.Name, "_RC4_") || strings.Contains(s.Name, "_3DES_") || strings.HasPrefix(s.Name, "TLS_RSA_") {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func (p *Prober) probeWeak(ctx context.Context, t Target, r *TransportResult) {
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		var h handshake
		conn, _ := p.connect(ctx, t, "require", handshakeOnly(&h, v, v, nil))
		if conn != nil {
			_ = conn.Close(ctx)
		}
		if seen, st, _ := h.get(); seen && st.Version == v {
			r.WeakVersions = append(r.WeakVersions, tls.VersionName(v))
		}
	}
	var h handshake
	conn, _ := p.connect(ctx, t, "require", handshakeOnly(&h, tls.VersionTLS10, tls.VersionTLS12, weakSuites()))
	if conn != nil {
		_ = conn.Close(ctx)
	}
	if seen, st, _ := h.get(); seen {
		r.WeakCiphers = append(r.WeakCiphers, tls.CipherSuiteName(st.CipherSuite))
	}
}

// probeClientCert connects without the configured client certificate: a
// server that still lets the probe in does not require one.
func (p *Prober) probeClientCert(ctx context.Context, t Target) *bool {
	var h handshake
	conn, err := p.connect(ctx, t, "verify-full", verifying(&h, p.now()), withoutClientCert)
	required := err != nil
	if err == nil {
		_ = conn.Close(ctx)
		return &required
	}
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "certificate") {
		return &required
	}
	return nil
}

func chainInfo(certs []*x509.Certificate, now time.Time) []CertInfo {
	out := make([]CertInfo, 0, len(certs))
	for _, c := range certs {
		out = append(out, CertInfo{
			Subject:    c.Subject.String(),
			Issuer:     c.Issuer.String(),
			NotAfter:   c.NotAfter.UTC(),
			DaysLeft:   daysLeft(c.NotAfter, now),
			SelfSigned: IsSelfSigned(c),
		})
	}
	return out
}

// daysLeft is whole days until t (negative once expired).
func daysLeft(t, now time.Time) int {
	d := t.Sub(now)
	if d < 0 {
		return -int((-d).Hours()/24) - 1
	}
	return int(d.Hours() / 24)
}
