package posture

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/classify"
)

const day = int64(24 * time.Hour)

// Findings turns one endpoint's result into findings. IDs are stable per
// rule, endpoint, subject and UTC day of the probe, so probing twice a day
// replaces rather than duplicates. mustEncrypt reports catalog columns
// that must hold ciphertext (nil = none).
func (p *Prober) Findings(r *Result, mustEncrypt func(table, column string) bool) []detectors.Finding {
	b := &builder{r: r, t: r.ProbedAt.UnixNano()}
	p.transportFindings(b)
	for _, c := range r.Columns {
		if c.Verdict != VerdictPlaintext {
			continue
		}
		sev := RuleCrypto002.Severity
		personal := false
		for cl := range c.Classes {
			personal = personal || classify.IsPersonal(classify.Class(cl))
		}
		must := mustEncrypt != nil && mustEncrypt(c.Schema+"."+c.Table, c.Column)
		if personal || must {
			sev = detectors.SeverityHigh
		}
		f := b.add(RuleCrypto002, sev, "column:"+c.Qualified(),
			fmt.Sprintf("%s on %s is stored in plaintext: %d of %d sampled rows (%s); type %s", c.Qualified(), r.Endpoint,
				c.Sampled-c.Nulls, c.Sampled, classSummary(c.Classes), c.DataType))
		f.Tables = []string{c.Schema + "." + c.Table}
		f.Columns = []string{c.Table + "." + c.Column}
		f.Details["data_type"] = c.DataType
		f.Details["sampled"] = strconv.Itoa(c.Sampled)
		f.Details["nulls"] = strconv.Itoa(c.Nulls)
		f.Details["classes"] = classSummary(c.Classes)
		f.Details["must_encrypt"] = strconv.FormatBool(must)
	}
	for _, role := range r.Roles {
		privFindings(b, role)
	}
	sort.SliceStable(b.out, func(i, j int) bool {
		if b.out[i].Severity != b.out[j].Severity {
			return b.out[i].Severity > b.out[j].Severity
		}
		return b.out[i].RuleID < b.out[j].RuleID
	})
	return b.out
}

// builder makes findings for one endpoint.
type builder struct {
	r   *Result
	t   int64
	out []detectors.Finding
}

// add appends a finding of rule for subject (the incident key within the
// endpoint) and returns it for the caller to fill in.
func (b *builder) add(rule detectors.Rule, sev detectors.Severity, subject, summary string) *detectors.Finding {
	id := detectors.IncidentID(rule.ID, detectors.WindowStart(b.t, day), b.r.Endpoint, subject)
	f := detectors.Occurrence(rule, id, b.t, "probe:"+b.r.Endpoint+":"+subject)
	f.Severity, f.Summary = sev, summary
	f.Node = b.r.Endpoint
	f.Principal.User = b.r.User
	f.Principal.Application = "roachwatch-probe"
	f.Details = map[string]string{"endpoint": b.r.Endpoint, "address": b.r.Address, "check": subject}
	if b.r.Flavor != "" {
		f.Details["flavor"] = string(b.r.Flavor)
	}
	f.Query = "-- posture probe finding: re-run `analyze probe` to check the fix"
	b.out = append(b.out, f)
	return &b.out[len(b.out)-1]
}

func (p *Prober) transportFindings(b *builder) {
	r, tr := b.r, &b.r.Transport
	switch tr.Plaintext {
	case PlaintextAccepted:
		sev, how := detectors.SeverityHigh, "the probe connected and authenticated with sslmode=disable"
		if r.passwordUsed {
			sev, how = detectors.SeverityCritical, "the probe's password authenticated over a plaintext connection"
		}
		f := b.add(RuleTLS002, sev, "plaintext", fmt.Sprintf("%s accepts SQL connections without TLS: %s", endpointName(r), how))
		f.Details["plaintext"] = tr.Plaintext
	case PlaintextAcceptedAuthError:
		f := b.add(RuleTLS002, detectors.SeverityHigh, "plaintext",
			fmt.Sprintf("%s lets non-TLS connections reach authentication (the login then failed)", endpointName(r)))
		f.Details["plaintext"] = tr.Plaintext
	}
	if !tr.TLSOffered && tr.Plaintext != PlaintextUnknown {
		b.add(RuleTLS002, detectors.SeverityCritical, "no-tls", fmt.Sprintf("%s does not offer TLS at all", endpointName(r)))
	}
	if tr.CertProblem != CertOK {
		f := b.add(RuleTLS003, detectors.SeverityHigh, "cert:"+string(tr.CertProblem), certSummary(r))
		f.Details["cert_problem"] = string(tr.CertProblem)
		f.Details["cert_error"] = tr.CertError
		certDetails(f, tr)
	} else if tr.TLSOffered && p.cfg.CertExpiryWarnDays > 0 {
		if minDays, subject := soonest(tr.Chain); subject != "" && minDays < p.cfg.CertExpiryWarnDays {
			f := b.add(RuleTLS003, detectors.SeverityMedium, "cert:expiring",
				fmt.Sprintf("certificate %q of %s expires in %d day(s) (warning at %d)", subject, r.Endpoint, minDays, p.cfg.CertExpiryWarnDays))
			f.Details["cert_problem"] = "expiring"
			certDetails(f, tr)
		}
	}
	if len(tr.WeakVersions) > 0 {
		f := b.add(RuleTLS004, detectors.SeverityHigh, "tls-version",
			fmt.Sprintf("%s accepts %s (TLS 1.2 is the minimum)", r.Endpoint, strings.Join(tr.WeakVersions, " and ")))
		f.Details["weak_versions"] = strings.Join(tr.WeakVersions, ",")
	}
	if len(tr.WeakCiphers) > 0 {
		f := b.add(RuleTLS004, detectors.SeverityMedium, "tls-cipher",
			fmt.Sprintf("%s accepts weak cipher suite(s) %s", r.Endpoint, strings.Join(tr.WeakCiphers, ", ")))
		f.Details["weak_ciphers"] = strings.Join(tr.WeakCiphers, ",")
	}
}

func certSummary(r *Result) string {
	tr := r.Transport
	what := map[CertProblem]string{
		CertUnknownAuthority: "is not signed by a trusted CA (unknown authority)",
		CertSelfSigned:       "is self-signed",
		CertExpired:          "has expired",
		CertNotYetValid:      "is not valid yet",
		CertHostnameMismatch: "does not name the host the probe connected to",
		CertInvalid:          "failed verification",
	}[tr.CertProblem]
	subject := "(none)"
	if len(tr.Chain) > 0 {
		subject = tr.Chain[0].Subject
		if tr.CertProblem == CertExpired {
			what += fmt.Sprintf(" (%d day(s) ago)", -tr.Chain[0].DaysLeft)
		}
	}
	return fmt.Sprintf("server certificate %q of %s %s", subject, endpointName(r), what)
}

// endpointName is "name (host:port)", or host:port for ad-hoc targets.
func endpointName(r *Result) string {
	if r.Endpoint == r.Address {
		return r.Address
	}
	return r.Endpoint + " (" + r.Address + ")"
}

func certDetails(f *detectors.Finding, tr *TransportResult) {
	if len(tr.Chain) > 0 {
		f.Details["leaf_subject"] = tr.Chain[0].Subject
		f.Details["leaf_issuer"] = tr.Chain[0].Issuer
		f.Details["leaf_not_after"] = tr.Chain[0].NotAfter.Format(time.RFC3339)
		f.Details["leaf_days_left"] = strconv.Itoa(tr.Chain[0].DaysLeft)
	}
	if d, s := soonest(tr.Chain); s != "" {
		f.Details["chain_min_days_left"] = strconv.Itoa(d)
	}
	f.Details["tls_version"], f.Details["cipher_suite"] = tr.TLSVersion, tr.CipherSuite
}

// soonest returns the fewest days left in the chain and that certificate's
// subject ("" for an empty chain).
func soonest(chain []CertInfo) (int, string) {
	minDays, subject := 0, ""
	for _, c := range chain {
		if subject == "" || c.DaysLeft < minDays {
			minDays, subject = c.DaysLeft, c.Subject
		}
	}
	return minDays, subject
}

func privFindings(b *builder, r RoleResult) {
	if !r.Exists {
		return
	}
	add := func(sev detectors.Severity, subject, summary string, tables []string) {
		f := b.add(RulePriv002, sev, "role:"+r.Role+":"+subject, summary)
		f.Principal.User = r.Role
		f.Principal.Application = ""
		f.Details["role"] = r.Role
		f.Details["privilege"] = subject
		f.Tables = tables
	}
	if r.Superuser {
		add(detectors.SeverityCritical, "superuser", fmt.Sprintf("application role %s is a superuser", r.Role), nil)
	}
	for _, m := range r.MemberOf {
		add(detectors.SeverityCritical, "member:"+m, fmt.Sprintf("application role %s is a member of %s", r.Role, m), nil)
	}
	if r.CreateRole {
		add(detectors.SeverityHigh, "createrole", fmt.Sprintf("application role %s has CREATEROLE", r.Role), nil)
	}
	if r.CreateDB {
		add(detectors.SeverityMedium, "createdb", fmt.Sprintf("application role %s has CREATEDB", r.Role), nil)
	}
	for _, t := range r.Tables {
		name := t.Schema + "." + t.Table
		if t.Sensitive && t.HasAll() {
			add(detectors.SeverityHigh, "all:"+name, fmt.Sprintf("application role %s holds ALL on %s, which has sensitive columns (%s)",
				r.Role, name, strings.Join(t.Privileges, ", ")), []string{name})
		}
		if d := t.Destructive(); t.Audit && len(d) > 0 {
			add(detectors.SeverityHigh, "audit:"+name, fmt.Sprintf("application role %s can erase audit table %s (%s)",
				r.Role, name, strings.Join(d, ", ")), []string{name})
		}
	}
}
