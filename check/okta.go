package check

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/okta"
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

// oktaOf is the run's Okta server: the configured one, or one recognised
// from an issuer on Okta's own domains.
func (c *Config) oktaOf() *Okta {
	if c.Okta != nil {
		return c.Okta
	}
	if okta.Hosted(c.Issuer) {
		if s, ok := okta.ServerOf(c.Issuer); ok {
			return &Okta{Server: s}
		}
	}
	return nil
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
	t := v.r.Tokens[report.AccessToken]
	if t == nil || t.Verified || t.Error != "" || !v.cfg.hasCredential() || v.p.Metadata().IntrospectionEndpoint == "" {
		return nil
	}
	o, err := v.cfg.introspectOptions(v.p.Metadata())
	if err != nil {
		return err
	}
	v.cfg.secrets.Add(scrub.AccessToken, v.rawAT)
	return recordIntrospection(ctx, v.p, v.r, o, report.AccessToken, v.rawAT)
}

// expectations adds, at an Okta server, Okta's diagnosis of missing groups
// and the sentence on thin ID tokens.
func (v *tokenVerifier) expectations(sources []verify.Source) verify.Expectations {
	exp := v.cfg.Expect
	o := v.cfg.oktaOf()
	if o == nil || v.r.Request == nil {
		return exp
	}
	f := okta.Facts{Server: o.Server, Scopes: v.r.Request.Scopes, ResponseType: v.r.Request.ResponseType}
	exp.Explain = okta.Explain(f, exp)
	claim := exp.ClaimFor(verify.SourceIDToken)
	for _, s := range sources {
		if s.Name == verify.SourceUserinfo && f.ThinIDToken() && v.idToken != nil && lookupNil(v.idToken.Claims, claim) {
			v.r.Notes = append(v.r.Notes, okta.ThinNote(fmt.Sprintf("%q", claim)))
		}
	}
	return exp
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
