package check

import (
	"errors"
	"fmt"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// cnfX5t is the confirmation member of a certificate-bound access token
// (RFC 8705 §3.1).
const cnfX5t = "x5t#S256"

// metadata is the provider's metadata as the run uses it: with a client
// certificate, the mtls_endpoint_aliases replace the endpoints they name
// (RFC 8705 §5), and aliased lists those.
func (c Config) metadata(p *verify.Provider) (md verify.Metadata, aliased []string) {
	md = p.Metadata()
	if c.ClientCertificate == nil {
		return md, nil
	}
	return md.WithMTLSAliases()
}

// certProvider is the view of p that introspection and a certificate-bound
// token's userinfo go through: p itself without a client certificate, else
// one that presents the certificate to the mtls_endpoint_aliases.
func (c Config) certProvider(p *verify.Provider) (*verify.Provider, error) {
	if c.ClientCertificate == nil {
		return p, nil
	}
	client, err := httpclient.WithCertificate(c.HTTPClient, c.ClientCertificate.TLSCertificate())
	if err != nil {
		return nil, failure.Wrap(failure.Usage, "client certificate", err)
	}
	return p.WithMTLS(client), nil
}

// certificateReport is the report's view of the client certificate, nil
// without one.
func certificateReport(c Config, aliased []string) *report.ClientCertificate {
	cc := c.ClientCertificate
	if cc == nil {
		return nil
	}
	return &report.ClientCertificate{
		X5tS256: cc.Thumbprint(), Subject: cc.Subject(), NotAfter: cc.NotAfter().UTC().Format("2006-01-02T15:04:05Z"),
		File: cc.File, KeyFile: cc.KeyFile, EndpointAliases: aliased,
	}
}

// aliasNote says which endpoints the run called at their
// mtls_endpoint_aliases, "" when none.
func aliasNote(aliased []string) string {
	if len(aliased) == 0 {
		return ""
	}
	return fmt.Sprintf("the client certificate goes to the provider's mtls_endpoint_aliases (RFC 8705 §5) for %s", strings.Join(aliased, ", "))
}

// checkX5t compares the cnf.x5t#S256 of claims (a JWT access token's or an
// introspection answer's) with the client certificate's thumbprint (RFC
// 8705 §3.1), adding the check to r, and says whether the token is bound
// to the certificate. A token bound to another certificate is a
// failure.Verification error. A token without cnf.x5t#S256 is not bound,
// which the provider may decide per client, so it gets a note (naming
// tls_client_certificate_bound_access_tokens when the provider advertises
// it), as does a bound token in a run without a certificate.
func checkX5t(r *report.Report, source string, claims map[string]any, cert *flow.ClientCertificate, advertised bool) (bound bool, err error) {
	cnf, _ := claims["cnf"].(map[string]any)
	raw, has := cnf[cnfX5t]
	got, isString := raw.(string)
	switch {
	case cert == nil && has:
		r.Notes = append(r.Notes, fmt.Sprintf("the %s has cnf.x5t#S256: it is bound to a TLS client certificate (RFC 8705 §3), and claimcheck presented none (--client-cert FILE)", source))
		return false, nil
	case cert == nil:
		return false, nil
	case !has:
		note := fmt.Sprintf("the %s has no cnf.x5t#S256: it is not bound to the client certificate (RFC 8705 §3)", source)
		if advertised {
			note += "; the provider advertises tls_client_certificate_bound_access_tokens, so check that the client is registered with tls_client_certificate_bound_access_tokens: true"
		}
		r.Notes = append(r.Notes, note)
		return false, nil
	}
	want := cert.Thumbprint()
	ch := verify.Check{Name: source + " cnf.x5t#S256", OK: isString && got == want, Source: source,
		Detail: fmt.Sprintf("cnf.x5t#S256 is the client certificate's thumbprint %s", want)}
	switch {
	case !isString:
		err = failure.New(failure.Verification, source, "cnf.x5t#S256 is not a string: nothing binds the token to the client certificate (thumbprint %s, RFC 8705 §3.1)", want)
	case got != want:
		err = failure.New(failure.Verification, source, "cnf.x5t#S256 %s is not the client certificate's thumbprint %s: the token is bound to another certificate (RFC 8705 §3.1)", cleanValue(got), want)
	}
	if err != nil {
		ch.Detail = err.Error()
	}
	r.AddCheck(ch)
	return err == nil, err
}

// explainTLSClientAuth adds to a token request's invalid_client, when the
// client authenticated with its certificate, what the provider compares,
// since it rarely says which it refused.
func explainTLSClientAuth(err error, fc flow.Config) error {
	var oe *flow.ErrorResponse
	if !errors.As(err, &oe) || oe.Code != "invalid_client" || fc.ClientCertificate == nil {
		return err
	}
	cc := fc.ClientCertificate
	switch fc.AuthMethod {
	case flow.AuthTLSClient:
		return failure.New(failure.Flow, "", "%w; the provider refused the client certificate (tls_client_auth, subject %q, x5t#S256 %s): check that the client is registered for tls_client_auth with this subject DN or SAN (tls_client_auth_subject_dn, ...), that the provider trusts the CA that issued it, and that a TLS terminator in front of the provider forwards it", err, cc.Subject(), cc.Thumbprint())
	case flow.AuthSelfSignedTLSClient:
		return failure.New(failure.Flow, "", "%w; the provider refused the client certificate (self_signed_tls_client_auth, x5t#S256 %s): check that the client's registered jwks or jwks_uri holds this certificate (in x5c), and that a TLS terminator in front of the provider forwards it", err, cc.Thumbprint())
	}
	return err
}

// boundTo says whether claims carry cert's thumbprint as cnf.x5t#S256.
func boundTo(claims map[string]any, cert *flow.ClientCertificate) bool {
	if cert == nil {
		return false
	}
	cnf, _ := claims["cnf"].(map[string]any)
	got, _ := cnf[cnfX5t].(string)
	return got == cert.Thumbprint()
}
