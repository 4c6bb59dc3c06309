//go:build integration

package posture

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/catalog"
)

// pgEnv is what scripts/pg-tls.sh env exports.
type pgEnv struct {
	host                            string
	port, expired, wronghost, tls11 int
	database, certs                 string
}

func testPG(t *testing.T) pgEnv {
	t.Helper()
	host := os.Getenv("ROACHWATCH_TEST_PG_HOST")
	if host == "" {
		msg := "ROACHWATCH_TEST_PG_HOST not set; start the TLS PostgreSQL first: bash scripts/pg-tls.sh start && eval \"$(bash scripts/pg-tls.sh env)\""
		if os.Getenv("ROACHWATCH_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	port := func(k string) int {
		p, err := strconv.Atoi(os.Getenv(k))
		require.NoError(t, err, k)
		return p
	}
	return pgEnv{host: host, port: port("ROACHWATCH_TEST_PG_PORT"), expired: port("ROACHWATCH_TEST_PG_PORT_EXPIRED"),
		wronghost: port("ROACHWATCH_TEST_PG_PORT_WRONGHOST"), tls11: port("ROACHWATCH_TEST_PG_PORT_TLS11"),
		database: os.Getenv("ROACHWATCH_TEST_PG_DATABASE"), certs: os.Getenv("ROACHWATCH_TEST_PG_CERTS")}
}

// endpoint is an endpoint of the test servers; the password (the seed's
// "<user>-pw") goes through password_env like a real deployment's.
func (e pgEnv) endpoint(t *testing.T, name string, port int, user, ca string) Endpoint {
	env := "RW_TEST_PW_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	t.Setenv(env, user+"-pw")
	return Endpoint{Name: name, Host: e.host, Port: port, Database: e.database, User: user, PasswordEnv: env,
		SSLRootCert: filepath.Join(e.certs, ca)}
}

// probe runs the prober over one endpoint and returns the result, its
// findings and everything the prober logged.
func probe(t *testing.T, cfg Config, ep Endpoint) (*Result, []detectors.Finding, string) {
	t.Helper()
	cfg.Endpoints = []Endpoint{ep}
	require.NoError(t, cfg.Validate())
	targets, err := cfg.Targets()
	require.NoError(t, err)
	var logs bytes.Buffer
	p := New(cfg, nil, nil, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := p.Probe(ctx, targets[0])
	return r, p.Findings(r, nil), logs.String()
}

// got renders findings as "RULE severity subject" lines, sorted.
func got(fs []detectors.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.RuleID+" "+f.Severity.String()+" "+f.Details["check"])
	}
	sort.Strings(out)
	return out
}

func TestTransport(t *testing.T) {
	e := testPG(t)
	cfg := DefaultConfig()
	cfg.SampleRows = 0
	cases := []struct {
		name      string
		ep        Endpoint
		plaintext string
		problem   CertProblem
		connected bool
		want      []string
	}{
		{"hostssl-only", e.endpoint(t, "strict", e.port, "rw_probe", "ca.crt"), PlaintextRefusedBeforeAuth, CertOK, true, []string{}},
		{"hostnossl", e.endpoint(t, "plain", e.port, "app_plain", "ca.crt"), PlaintextAccepted, CertOK, true,
			[]string{"RW-TLS-002 critical plaintext"}},
		{"wrong-ca", e.endpoint(t, "wrong-ca", e.port, "rw_probe", "ca2.crt"), PlaintextRefusedBeforeAuth, CertUnknownAuthority, false,
			[]string{"RW-TLS-003 high cert:unknown_authority"}},
		{"wrong-host", e.endpoint(t, "wrong-host", e.wronghost, "rw_probe", "ca.crt"), PlaintextRefusedBeforeAuth, CertHostnameMismatch, false,
			[]string{"RW-TLS-003 high cert:hostname_mismatch"}},
		{"expired", e.endpoint(t, "expired", e.expired, "rw_probe", "ca.crt"), PlaintextRefusedBeforeAuth, CertExpired, false,
			[]string{"RW-TLS-003 high cert:expired"}},
		{"tls11", e.endpoint(t, "tls11", e.tls11, "rw_probe", "ca.crt"), PlaintextRefusedBeforeAuth, CertOK, true,
			[]string{"RW-TLS-004 high tls-version"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, fs, _ := probe(t, cfg, tc.ep)
			tr := r.Transport
			require.Equal(t, tc.plaintext, tr.Plaintext, "plaintext error: %s", tr.PlaintextError)
			if tc.plaintext == PlaintextRefusedBeforeAuth {
				require.Contains(t, tr.PlaintextError, "no encryption")
			}
			require.True(t, tr.TLSOffered)
			require.Equal(t, tc.problem, tr.CertProblem, tr.CertError)
			require.Equal(t, tc.connected, tr.Connected, tr.ConnectError)
			require.Equal(t, tc.want, got(fs))
			for _, f := range fs {
				require.Equal(t, tc.ep.Name, f.Node)
				require.Equal(t, tc.ep.Name, f.Details["endpoint"])
				require.Equal(t, tc.ep.User, f.Principal.User)
				require.NotEmpty(t, f.Remediation)
				require.NotEmpty(t, f.CWE)
			}
			if tc.connected {
				require.Equal(t, PlaintextAccepted == tc.plaintext, len(fs) == 1 && fs[0].RuleID == "RW-TLS-002")
				require.Equal(t, FlavorPostgreSQL, r.Flavor)
				require.Equal(t, "15", strings.Split(r.ServerVersion, ".")[0])
			}
			switch tc.name {
			case "hostssl-only", "hostnossl":
				require.Equal(t, "TLS 1.3", tr.TLSVersion)
				require.True(t, strings.HasPrefix(tr.CipherSuite, "TLS_AES_") || strings.HasPrefix(tr.CipherSuite, "TLS_CHACHA20_"), tr.CipherSuite)
				require.Empty(t, tr.WeakVersions)
				require.Empty(t, tr.WeakCiphers)
				require.Len(t, tr.Chain, 2, "OpenSSL completes the chain from ssl_ca_file")
				require.True(t, tr.Chain[1].SelfSigned)
				require.InDelta(t, 3649, tr.Chain[1].DaysLeft, 1)
				require.Equal(t, "CN=server", tr.Chain[0].Subject)
				require.Equal(t, "CN=roachwatch test ca", tr.Chain[0].Issuer)
				require.InDelta(t, 364, tr.Chain[0].DaysLeft, 1)
			case "expired":
				require.Less(t, tr.Chain[0].DaysLeft, -365)
				require.Contains(t, fs[0].Summary, "has expired")
			case "wrong-host":
				require.Equal(t, "CN=wronghost", tr.Chain[0].Subject)
			case "tls11":
				require.Equal(t, []string{"TLS 1.0", "TLS 1.1"}, tr.WeakVersions)
				require.Equal(t, "TLS 1.3", tr.TLSVersion, "the verified connection still negotiates the best version")
			}
		})
	}
}

func TestCertExpiringAndClientCert(t *testing.T) {
	e := testPG(t)
	cfg := DefaultConfig()
	cfg.SampleRows = 0
	cfg.CertExpiryWarnDays = 400
	r, fs, _ := probe(t, cfg, e.endpoint(t, "soon", e.port, "rw_probe", "ca.crt"))
	require.Equal(t, []string{"RW-TLS-003 medium cert:expiring"}, got(fs))
	require.Contains(t, fs[0].Summary, "expires in 364 day(s)")
	require.Nil(t, r.Transport.ClientCertRequired, "no client certificate configured: not tested")

	cfg.CertExpiryWarnDays = 30
	withCert := func(ep Endpoint) Endpoint {
		ep.SSLCert, ep.SSLKey = filepath.Join(e.certs, "client.crt"), filepath.Join(e.certs, "client.key")
		return ep
	}
	certEP := withCert(e.endpoint(t, "cert", e.port, "cert_user", "ca.crt"))
	certEP.PasswordEnv = "" // cert authentication, no password
	r, fs, _ = probe(t, cfg, certEP)
	require.True(t, r.Transport.Connected, r.Transport.ConnectError)
	require.NotNil(t, r.Transport.ClientCertRequired)
	require.True(t, *r.Transport.ClientCertRequired)
	require.Equal(t, []string{}, got(fs))

	r, _, _ = probe(t, cfg, withCert(e.endpoint(t, "pw-and-cert", e.port, "rw_probe", "ca.crt")))
	require.NotNil(t, r.Transport.ClientCertRequired)
	require.False(t, *r.Transport.ClientCertRequired)
}

func TestSchemaAndGrants(t *testing.T) {
	e := testPG(t)
	cfg := DefaultConfig()
	cfg.AppRoles = []string{"app_owner", "app_web", "no_such_role"}
	ep := e.endpoint(t, "main", e.port, "rw_probe", "ca.crt")
	r, fs, logs := probe(t, cfg, ep)
	require.Empty(t, r.Notes)

	verdicts := map[string]string{}
	for _, c := range r.Columns {
		verdicts[c.Qualified()] = c.Verdict
		require.Empty(t, c.Error)
		if c.Verdict != VerdictEmpty {
			require.Equal(t, 100, c.Sampled, c.Qualified()) // 150 rows, sample_rows 100
		}
	}
	require.Equal(t, map[string]string{
		"app.customers.ssn":             VerdictPlaintext,
		"app.customers.card_number":     VerdictPlaintext,
		"app.customers.date_of_birth":   VerdictPlaintext,
		"app.customers.passport_number": VerdictPlaintext,
		"app.customers.api_token":       VerdictEncrypted,
		"app.customers.tax_id":          VerdictEncrypted,
		"app.customers.iban":            VerdictEncrypted,
		"app.customers.password":        VerdictHashed,
		"app.customers.secret_answer":   VerdictEmpty,
	}, verdicts)

	require.Equal(t, []string{
		"RW-CRYPTO-002 high column:app.customers.card_number",
		"RW-CRYPTO-002 high column:app.customers.date_of_birth",
		"RW-CRYPTO-002 high column:app.customers.ssn",
		"RW-CRYPTO-002 medium column:app.customers.passport_number",
		"RW-PRIV-002 critical role:app_owner:member:admin",
		"RW-PRIV-002 high role:app_owner:all:app.customers",
		"RW-PRIV-002 high role:app_owner:audit:app.audit_log",
		"RW-PRIV-002 high role:app_owner:createrole",
		"RW-PRIV-002 medium role:app_owner:createdb",
	}, got(fs))
	for _, f := range fs {
		if f.RuleID == "RW-PRIV-002" {
			require.Equal(t, "app_owner", f.Principal.User)
		} else {
			require.Equal(t, "rw_probe", f.Principal.User)
			require.Equal(t, []string{"app.customers"}, f.Tables)
		}
		require.Equal(t, "main", f.Node)
	}
	byCheck := map[string]detectors.Finding{}
	for _, f := range fs {
		byCheck[f.Details["check"]] = f
	}
	require.Equal(t, "pan: 100", byCheck["column:app.customers.card_number"].Details["classes"])
	require.Equal(t, "ssn: 100", byCheck["column:app.customers.ssn"].Details["classes"])
	require.Contains(t, byCheck["role:app_owner:audit:app.audit_log"].Summary, "DELETE, TRUNCATE")

	// The catalog file: written, loaded by the catalog, validated.
	path := filepath.Join(t.TempDir(), "catalog.probe.json")
	require.NoError(t, catalog.WriteProbeFile(path, ProbeFile([]*Result{r}, time.Now())))
	ccfg := catalog.Config{ProbeFile: path}
	require.NoError(t, ccfg.Validate())
	cat := catalog.New(ccfg)
	for _, c := range []string{"ssn", "card_number", "date_of_birth", "passport_number"} {
		require.True(t, cat.Plaintext("customers", c), c)
		require.True(t, cat.Plaintext("shop.app.customers", c), c)
	}
	for _, c := range []string{"api_token", "tax_id", "iban"} {
		require.False(t, cat.Plaintext("customers", c), c)
		require.True(t, cat.MustEncrypt("customers", c), c)
	}
	require.True(t, cat.Sensitive("customers", "password"))
	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o600))
	require.ErrorContains(t, ccfg.Validate(), "catalog.probe_file")

	// No sampled value anywhere: results, findings, catalog file, logs.
	var out bytes.Buffer
	require.NoError(t, json.NewEncoder(&out).Encode(r))
	require.NoError(t, json.NewEncoder(&out).Encode(fs))
	require.NoError(t, json.NewEncoder(&out).Encode(ProbeFile([]*Result{r}, time.Now())))
	out.WriteString(logs)
	assertNoSampledValue(t, e, out.String())
}

// assertNoSampledValue reads the seeded sensitive values (as the probe
// role) and fails if any of them appears in text.
func assertNoSampledValue(t *testing.T, e pgEnv, text string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "host="+e.host+" port="+strconv.Itoa(e.port)+" dbname="+e.database+
		" user=rw_probe password=rw_probe-pw sslmode=verify-full sslrootcert="+filepath.Join(e.certs, "ca.crt"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT ssn, card_number, date_of_birth::text, convert_from(passport_number, 'UTF8'),
		api_token, tax_id, encode(iban, 'hex'), password FROM app.customers`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		vals := make([]string, 8)
		dest := make([]any, 8)
		for i := range vals {
			dest[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(dest...))
		for _, v := range vals {
			n++
			require.NotContains(t, text, v)
			if len(v) > 24 { // long tokens: no fragment either
				require.NotContains(t, text, v[:24])
			}
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 150*8, n)
}
