package check

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/okta"
	"github.com/claimcheck/claimcheck/provider"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// Okta says that a run talks to an Okta authorization server.
type Okta struct {
	Server okta.Server
	// Username and Password, when set, sign in through Okta's
	// Authentication API before the authorize request, which then carries
	// the sessionToken instead of showing the sign-in page.
	Username, Password string
}

// oktaOf is the run's Okta server: the configured one, or the one of an
// issuer recognised as Okta's (on Okta's domains or a custom URL domain).
func (c *Config) oktaOf() *Okta {
	if c.Okta != nil {
		return c.Okta
	}
	if c.recognised.Provider.Name == provider.Okta {
		if s, ok := okta.ServerOf(c.Issuer); ok {
			return &Okta{Server: s}
		}
	}
	return nil
}

// checkProviderKind refuses, before anything is sent, a ProviderKind that
// names no provider, or one that contradicts Okta.
func (c *Config) checkProviderKind() error {
	if c.ProviderKind == "" {
		return nil
	}
	p, err := provider.Lookup(c.ProviderKind)
	if err != nil {
		return failure.Wrap(failure.Usage, "--provider", err)
	}
	if c.Okta != nil && p.Name != provider.Okta {
		return failure.New(failure.Usage, "--provider", "%s contradicts the Okta server configured (--okta-domain)", p.Name)
	}
	return nil
}

// recognise settles the run's provider once the metadata is known and
// names it in the report. checkProviderKind has passed.
func (c *Config) recognise(r *report.Report, md verify.Metadata) {
	rec, err := provider.Resolve(c.ProviderKind, c.Issuer, md)
	if err != nil {
		rec = provider.Recognise(c.Issuer, md)
	}
	if c.Okta != nil && c.ProviderKind == "" {
		p, _ := provider.Lookup(provider.Okta)
		rec = provider.Recognition{Provider: p, Why: "configured: " + c.Okta.Server.String() + " of the Okta org " + c.Okta.Server.Org}
	}
	c.recognised = rec
	r.Provider = &report.Provider{Name: rec.Provider.Name, Title: rec.Provider.Title, Why: rec.Why}
}

// oktaSignIn signs in through the Authentication API when asked to and puts
// the sessionToken into the authorize request.
func (c *Config) oktaSignIn(ctx context.Context, fc *flow.Config) error {
	o := c.oktaOf()
	if o == nil || o.Username == "" {
		return nil
	}
	tok, err := okta.Authenticate(ctx, c.HTTPClient, o.Server.Org, o.Username, o.Password)
	if err != nil {
		return err
	}
	extra := url.Values{}
	for k, v := range fc.ExtraParams {
		extra[k] = append([]string(nil), v...)
	}
	c.secrets.Add(scrub.SessionToken, tok)
	extra.Set("sessionToken", tok)
	fc.ExtraParams = extra
	return nil
}

// redactSessionToken keeps the one-time sessionToken out of the report.
func redactSessionToken(authorizeURL string) string {
	u, err := url.Parse(authorizeURL)
	if err != nil || !u.Query().Has("sessionToken") {
		return authorizeURL
	}
	q := u.Query()
	q.Set("sessionToken", "REDACTED")
	u.RawQuery = q.Encode()
	return u.String()
}

// oktaFlowNote explains Okta's refusal of a groups claim over the limit.
func (c *Config) oktaFlowNote(r *report.Report, err error) {
	o := c.oktaOf()
	if o == nil || err == nil {
		return
	}
	if okta.TooManyGroups(err.Error()) {
		r.Notes = append(r.Notes, okta.TooManyGroupsNote)
	}
	if o.Username != "" && strings.Contains(err.Error(), "/authorize answered status 400") {
		r.Notes = append(r.Notes, okta.AuthorizeRefusedNote)
	}
}

// introspect asks the introspection endpoint about an access token that
// could not be verified locally (an Okta org server's, for one), when the
// client has a secret to authenticate with.
func (v *tokenVerifier) introspect(ctx context.Context) error {
	ip := v.certP
	if ip == nil {
		ip = v.p
	}
	t := v.r.Tokens[report.AccessToken]
	if t == nil || t.Verified || t.Error != "" || !v.cfg.hasCredential() || ip.Metadata().IntrospectionEndpoint == "" {
		return nil
	}
	o, err := v.cfg.introspectOptions(ip.Metadata())
	if err != nil {
		return err
	}
	v.cfg.secrets.Add(scrub.AccessToken, v.rawAT)
	if err := recordIntrospection(ctx, ip, v.r, o, report.AccessToken, v.rawAT, v.cfg.DPoPKey, v.cfg.ClientCertificate); err != nil {
		return err
	}
	if it := v.r.Tokens[report.Introspection]; it != nil {
		v.certBound = boundTo(it.Claims, v.cfg.ClientCertificate)
	}
	return nil
}

// expectations adds the run's provider's diagnosis of missing groups
// (after any Explain of the caller's) and, at an Okta server, the sentence
// on thin ID tokens.
func (v *tokenVerifier) expectations(sources []verify.Source) verify.Expectations {
	exp := v.cfg.Expect
	if v.r.Request == nil {
		return exp
	}
	o := v.cfg.oktaOf()
	f := provider.Facts{Issuer: v.cfg.Issuer, Scopes: v.r.Request.Scopes, ResponseType: v.r.Request.ResponseType, Expect: exp}
	if o != nil {
		f.Issuer = o.Server.Issuer()
	}
	exp.Explain = both(exp.Explain, v.cfg.recognised.Provider.Explain(f))
	if o == nil {
		return exp
	}
	of := okta.Facts{Server: o.Server, Scopes: v.r.Request.Scopes, ResponseType: v.r.Request.ResponseType}
	claim := exp.ClaimFor(verify.SourceIDToken)
	for _, s := range sources {
		if s.Name == verify.SourceUserinfo && of.ThinIDToken() && v.idToken != nil && lookupNil(v.idToken.Claims(), claim) {
			v.r.Notes = append(v.r.Notes, okta.ThinNote(fmt.Sprintf("%q", claim)))
		}
	}
	return exp
}

// both is an Explain that gives a's answer and then b's; either may be nil.
func both(a, b func(string, []verify.Source) string) func(string, []verify.Source) string {
	if a == nil || b == nil {
		if a == nil {
			return b
		}
		return a
	}
	return func(group string, sources []verify.Source) string {
		x, y := a(group, sources), b(group, sources)
		if x == "" || y == "" {
			return x + y
		}
		return x + "; " + y
	}
}

// orgAccessTokenNote says why an Okta org access token is not verified.
func (v *tokenVerifier) orgAccessTokenNote() {
	o := v.cfg.oktaOf()
	t := v.r.Tokens[report.AccessToken]
	if o == nil || !o.Server.IsOrg() || t == nil || t.Verified || !strings.HasPrefix(t.Note, "not verifiable locally") {
		return
	}
	t.Note += " (the org authorization server's access tokens are for Okta's own APIs; only Okta can validate them"
	if !v.cfg.hasCredential() {
		t.Note += ": give the client secret to have claimcheck introspect it)"
	} else {
		t.Note += ")"
	}
}

// openerError is Config.OpenerError, except in a headless Okta sign-in:
// there no person can step in, so the stand-in's failure ends the run.
func (c *Config) openerError() func(error) {
	if o := c.oktaOf(); o != nil && o.Username != "" {
		return nil
	}
	return c.OpenerError
}

// lookupNil reports whether claims lack the claim ref names (or hold null).
func lookupNil(claims map[string]any, ref string) bool {
	v, _ := verify.LookupClaim(claims, ref)
	return v == nil
}
