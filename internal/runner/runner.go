// Package runner wires one claimcheck run together: discovery, the
// authorization flow, verification of every token, the userinfo fallback and
// the expectations, into a report. It holds no protocol logic of its own.
package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/report"
	"github.com/claimcheck/claimcheck/verify"
)

// Config is one run's configuration, filled by the command from its flags.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// AuthMethod overrides the client authentication chosen from the
	// provider's token_endpoint_auth_methods_supported.
	AuthMethod   string
	RedirectURI  string
	Flow         string // code | implicit
	ResponseType string // overrides the flow's default
	ResponseMode string
	Scopes       []string
	ExtraParams  url.Values
	Audience     string
	Expect       verify.Expectations
	ClockSkew    time.Duration
	HTTPClient   *http.Client
	Timeout      time.Duration
	Opener       flow.Opener
	ShowTokens   bool
	// OnListening and OpenerError are passed to flow.Run.
	OnListening func(redirectURI, authorizeURL string, deadline time.Time)
	OpenerError func(error)
	// Now is the clock for verification; time.Now when nil.
	Now func() time.Time
	// Okta, when set, is the Okta authorization server of the run (see
	// OktaConfig); an issuer on Okta's own domains is recognised without.
	Okta *OktaConfig

	// Grant, when set, obtains tokens without a redirect (see RunGrant).
	Grant GrantConfig
	// Provider, when set, is used instead of discovering c.Issuer, so that
	// many runs share one discovery document and one key set.
	Provider *verify.Provider
	// OnRefreshToken, when set, receives the refresh token a run got.
	OnRefreshToken func(string)
}

// discover returns c.Provider or discovers c.Issuer.
func (c *Config) discover(ctx context.Context) (*verify.Provider, error) {
	if c.Provider != nil {
		return c.Provider, nil
	}
	return verify.Discover(ctx, c.Issuer, c.HTTPClient)
}

// ResponseType resolves the response_type a run asks for.
func (c *Config) responseType() (string, error) {
	if c.ResponseType != "" {
		return normalizeResponseType(c.ResponseType), nil
	}
	switch c.Flow {
	case "", "code":
		return "code", nil
	case "implicit":
		return "id_token", nil
	}
	return "", failure.New(failure.Usage, "--flow", "unknown flow %q (want code or implicit)", c.Flow)
}

// normalizeResponseType puts the words of a response type in the order the
// specifications write them, so "token id_token" and "id_token token" are
// one thing.
func normalizeResponseType(rt string) string {
	words := strings.Fields(strings.ReplaceAll(rt, ",", " "))
	rank := map[string]int{"code": 0, "id_token": 1, "token": 2}
	slices.SortFunc(words, func(a, b string) int { return rank[a] - rank[b] })
	return strings.Join(slices.Compact(words), " ")
}

// Run performs one whole run and returns its report; it never returns nil.
func Run(ctx context.Context, c Config) *report.Report {
	rt, rtErr := c.responseType()
	flowName := c.Flow
	if flowName == "" {
		flowName = "code"
	}
	if c.Grant.Type != "" {
		return runGrant(ctx, c)
	}
	if c.ResponseType != "" && rtErr == nil {
		// --response-type decides the flow: "token" is implicit whatever --flow says.
		flowName = flowOf(rt)
	}
	r := report.New(c.Issuer, flowName)
	if rtErr != nil {
		return finish(r, rtErr, c)
	}
	if err := preflight(c, rt); err != nil {
		return finish(r, err, c)
	}
	p, err := c.discover(ctx)
	if err != nil {
		return finish(r, err, c)
	}
	md := p.Metadata()
	fc, err := flowConfig(c, md, rt)
	if err != nil {
		return finish(r, err, c)
	}
	r.Request = &report.Request{
		ClientID: c.ClientID, ClientAuth: fc.AuthMethod, ResponseType: rt, ResponseMode: responseModeOrDefault(fc),
		Scopes: c.Scopes, RedirectURI: c.RedirectURI,
		Endpoints: endpoints(md),
	}

	v := &tokenVerifier{cfg: c, p: p, r: r}
	if err := c.oktaSignIn(ctx, &fc); err != nil {
		return finish(r, err, c)
	}
	res, err := flow.Run(ctx, fc, flow.RunOptions{
		Opener:  c.Opener,
		Timeout: c.Timeout,
		OnListening: func(redirectURI, authorizeURL string, deadline time.Time) {
			r.Request.RedirectURI = redirectURI
			authorizeURL = redactSessionToken(authorizeURL)
			r.Request.AuthorizeURL = authorizeURL
			if c.OnListening != nil {
				c.OnListening(redirectURI, authorizeURL, deadline)
			}
		},
		OpenerError:    c.openerError(),
		BeforeExchange: v.frontChannel,
	})
	if err != nil {
		c.oktaFlowNote(r, err)
		return finish(r, err, c)
	}
	if err := v.backChannel(ctx, res); err != nil {
		return finish(r, err, c)
	}
	v.orgAccessTokenNote()
	if err := v.introspect(ctx); err != nil {
		return finish(r, err, c)
	}
	if err := v.userinfoAndExpectations(ctx); err != nil {
		return finish(r, err, c)
	}
	return finish(r, nil, c)
}

func finish(r *report.Report, err error, c Config) *report.Report {
	r.Fail(err)
	if !c.ShowTokens {
		r.RedactTokens()
	}
	r.Finish()
	return r
}

func responseModeOrDefault(fc flow.Config) string {
	if fc.ResponseMode != "" {
		return fc.ResponseMode
	}
	if fc.ResponseType == "code" {
		return "query"
	}
	return "fragment"
}

func endpoints(md verify.Metadata) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{
		"authorization": md.AuthorizationEndpoint, "token": md.TokenEndpoint, "userinfo": md.UserinfoEndpoint,
		"jwks": md.JWKSURI, "introspection": md.IntrospectionEndpoint,
		"device_authorization": md.DeviceAuthorizationEndpoint,
	} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// FlowConfig discovers the provider and returns the flow configuration a run
// would use, for printing the authorize URL without running anything.
func FlowConfig(ctx context.Context, c Config) (flow.Config, error) {
	rt, err := c.responseType()
	if err != nil {
		return flow.Config{}, err
	}
	if err := preflight(c, rt); err != nil {
		return flow.Config{}, err
	}
	p, err := verify.Discover(ctx, c.Issuer, c.HTTPClient)
	if err != nil {
		return flow.Config{}, err
	}
	return flowConfig(c, p.Metadata(), rt)
}

// preflight checks what does not depend on the provider's metadata (the
// redirect URI, response type and mode, scopes, client authentication)
// before discovery, so that a usage error sends nothing at all. The
// endpoints are stand-ins; flowConfig checks the real ones.
func preflight(c Config, rt string) error {
	if _, err := authMethod(c, nil); err != nil {
		return err
	}
	const standIn = "https://endpoint.invalid/"
	return flow.Config{
		Issuer: c.Issuer, AuthorizationEndpoint: standIn, TokenEndpoint: standIn,
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, AuthMethod: c.AuthMethod,
		RedirectURI: c.RedirectURI, ResponseType: rt, ResponseMode: c.ResponseMode,
		Scopes: c.Scopes, ExtraParams: c.ExtraParams,
	}.Validate()
}

// flowConfig checks the request against what the provider advertises, so
// that a request it cannot serve is a usage error before anything is sent.
func flowConfig(c Config, md verify.Metadata, rt string) (flow.Config, error) {
	fc := flow.Config{
		Issuer:                c.Issuer,
		AuthorizationEndpoint: md.AuthorizationEndpoint,
		TokenEndpoint:         md.TokenEndpoint,
		ClientID:              c.ClientID,
		ClientSecret:          c.ClientSecret,
		RedirectURI:           c.RedirectURI,
		ResponseType:          rt,
		ResponseMode:          c.ResponseMode,
		Scopes:                c.Scopes,
		ExtraParams:           c.ExtraParams,
		IssParameterSupported: md.AuthorizationResponseIssParameterSupported,
		HTTPClient:            c.HTTPClient,
	}
	if md.AuthorizationEndpoint == "" {
		return fc, failure.New(failure.Provider, "discovery", "the provider's metadata has no authorization_endpoint")
	}
	if strings.Contains(rt, "code") && md.TokenEndpoint == "" {
		return fc, failure.New(failure.Provider, "discovery", "the provider's metadata has no token_endpoint")
	}
	if len(md.ResponseTypesSupported) > 0 && !containsResponseType(md.ResponseTypesSupported, rt) {
		return fc, failure.New(failure.Usage, "--response-type", "the provider does not offer response_type %q (it offers: %s)",
			rt, strings.Join(md.ResponseTypesSupported, ", "))
	}
	if c.ResponseMode != "" && len(md.ResponseModesSupported) > 0 && !slices.Contains(md.ResponseModesSupported, c.ResponseMode) {
		return fc, failure.New(failure.Usage, "--response-mode", "the provider does not offer response_mode %q (it offers: %s)",
			c.ResponseMode, strings.Join(md.ResponseModesSupported, ", "))
	}
	method, err := authMethod(c, md.TokenEndpointAuthMethodsSupported)
	if err != nil {
		return fc, err
	}
	fc.AuthMethod = method
	if err := fc.Validate(); err != nil {
		return fc, err
	}
	return fc, nil
}

func containsResponseType(supported []string, rt string) bool {
	for _, s := range supported {
		if normalizeResponseType(s) == rt {
			return true
		}
	}
	return false
}

// authMethod picks the client authentication: the flag when given, none for
// a public client, else client_secret_basic when the provider offers it (the
// default of OpenID Discovery when it says nothing), else client_secret_post.
func authMethod(c Config, supported []string) (string, error) {
	if c.AuthMethod != "" {
		switch c.AuthMethod {
		case "client_secret_basic", "client_secret_post":
			if c.ClientSecret == "" {
				return "", failure.New(failure.Usage, "--client-auth", "%s needs a client secret (CLAIMCHECK_CLIENT_SECRET)", c.AuthMethod)
			}
		case "none":
			if c.ClientSecret != "" {
				return "", failure.New(failure.Usage, "--client-auth", "none with a client secret set: drop one of them")
			}
		default:
			return "", failure.New(failure.Usage, "--client-auth", "unknown client authentication %q (want client_secret_basic, client_secret_post or none)", c.AuthMethod)
		}
		return c.AuthMethod, nil
	}
	if c.ClientSecret == "" {
		return "none", nil
	}
	if len(supported) == 0 || slices.Contains(supported, "client_secret_basic") {
		return "client_secret_basic", nil
	}
	if slices.Contains(supported, "client_secret_post") {
		return "client_secret_post", nil
	}
	return "", failure.New(failure.Usage, "--client-auth", "the provider offers neither client_secret_basic nor client_secret_post (it offers: %s)", strings.Join(supported, ", "))
}

// tokenVerifier verifies the tokens of one run as they arrive and records
// them in the report.
type tokenVerifier struct {
	cfg Config
	p   *verify.Provider
	r   *report.Report

	nonce string
	// noNonce: no authorization request was made (a non-interactive
	// grant), so no nonce is compared.
	noNonce bool
	// noUserinfo: the tokens are about no user (client_credentials).
	noUserinfo bool
	frontID    *verify.Token
	idToken    *verify.Token
	access     *verify.Token
	rawAT      string
	accessOK   bool
	userinfo   map[string]any
}

func (v *tokenVerifier) idOptions(nonce, accessToken, code string, requireAt, requireC bool) verify.IDTokenOptions {
	return verify.IDTokenOptions{
		ClientID: v.cfg.ClientID, Nonce: nonce,
		AccessToken: accessToken, RequireAtHash: requireAt,
		Code: code, RequireCHash: requireC,
		ClockSkew: v.cfg.ClockSkew, Now: v.cfg.Now,
	}
}

// frontChannel verifies an ID token that came in the authorization response
// before any code is redeemed: a forged front channel must not cause a
// request to the token endpoint.
func (v *tokenVerifier) frontChannel(ctx context.Context, req *flow.Request, resp *flow.Response) error {
	v.nonce = req.Nonce
	words := strings.Fields(req.ResponseType)
	has := func(w string) bool { return slices.Contains(words, w) }
	if has("token") {
		v.rawAT = resp.Get("access_token")
		if v.rawAT == "" {
			return failure.New(failure.Flow, "authorization response", "response_type %q but no access_token in the response", req.ResponseType)
		}
	}
	if has("code") && resp.Get("code") == "" {
		return failure.New(failure.Flow, "authorization response", "response_type %q but no code in the response", req.ResponseType)
	}
	if !has("id_token") {
		return nil
	}
	raw := resp.Get("id_token")
	if raw == "" {
		return failure.New(failure.Flow, "authorization response", "response_type %q but no id_token in the response", req.ResponseType)
	}
	// OpenID Core 3.2.2.10 and 3.3.2.11: at_hash is required when an access
	// token comes with the ID token in the front channel, c_hash when a code does.
	tok, err := v.p.VerifyIDToken(ctx, raw, v.idOptions(req.Nonce, v.rawAT, resp.Get("code"), has("token"), has("code")))
	v.recordID(raw, tok, err)
	if err != nil {
		return err
	}
	v.frontID = tok
	v.idToken = tok
	return nil
}

func (v *tokenVerifier) recordID(raw string, tok *verify.Token, err error) {
	t := &report.Token{Raw: raw, Verified: err == nil}
	if tok != nil {
		t.Claims, t.Header = tok.Claims, tok.Header
	}
	if err != nil {
		t.Error = err.Error()
		if t.Claims == nil {
			t.Claims = unverifiedClaims(raw)
			t.Note = "claims shown unverified"
		}
	}
	v.r.Tokens[report.IDToken] = t
	v.r.AddCheck(verify.Check{Name: "id_token verified", OK: err == nil, Source: report.IDToken, Detail: verifiedDetail(tok, err)})
}

func verifiedDetail(tok *verify.Token, err error) string {
	if err != nil {
		return err.Error()
	}
	alg, _ := tok.Header["alg"].(string)
	return "signature (" + alg + ") and claims verified"
}

// backChannel redeems nothing itself (flow did); it verifies what the token
// endpoint returned.
func (v *tokenVerifier) backChannel(ctx context.Context, res *flow.Result) error {
	return v.tokenResponse(ctx, res.Tokens)
}

// tokenResponse verifies a token endpoint's answer, whichever grant got it:
// the ID token (nonce compared unless v.noNonce), then the access token.
func (v *tokenVerifier) tokenResponse(ctx context.Context, resp *flow.Tokens) error {
	if t := resp; t != nil {
		if t.RefreshToken != "" && v.cfg.OnRefreshToken != nil {
			v.cfg.OnRefreshToken(t.RefreshToken)
		}
		if t.AccessToken != "" {
			v.rawAT = t.AccessToken
		}
		if t.IDToken != "" {
			o := v.idOptions(v.nonce, t.AccessToken, "", false, false)
			o.NoNonce = v.noNonce
			tok, err := v.p.VerifyIDToken(ctx, t.IDToken, o)
			if err == nil && v.frontID != nil {
				err = sameSubject(v.frontID, tok)
			}
			v.recordID(t.IDToken, tok, err)
			if err != nil {
				return err
			}
			v.idToken = tok
		}
	}
	if v.rawAT == "" {
		return nil
	}
	t := &report.Token{Raw: v.rawAT}
	tok, err := v.p.VerifyAccessToken(ctx, v.rawAT, verify.AccessTokenOptions{Audience: v.cfg.Audience, ClockSkew: v.cfg.ClockSkew, Now: v.cfg.Now})
	var nv *verify.NotVerifiableError
	switch {
	case err == nil:
		t.Verified, t.Claims, t.Header = true, tok.Claims, tok.Header
		v.access, v.accessOK = tok, true
		v.r.AddCheck(verify.Check{Name: "access_token verified", OK: true, Source: report.AccessToken, Detail: verifiedDetail(tok, nil)})
	case errors.As(err, &nv):
		// Not a failure: an opaque token, or one meant for another
		// resource server, is simply not ours to verify. Its claims are
		// never shown as if they were.
		t.Note = nv.Error() // "not verifiable locally: " and why
		t.Claims = unverifiedClaims(v.rawAT)
	default:
		t.Error = err.Error()
		t.Claims = unverifiedClaims(v.rawAT)
		v.r.Tokens[report.AccessToken] = t
		v.r.AddCheck(verify.Check{Name: "access_token verified", OK: false, Source: report.AccessToken, Detail: err.Error()})
		return err
	}
	v.r.Tokens[report.AccessToken] = t
	return nil
}

// sameSubject enforces OpenID Core 3.3.3.6: in a hybrid flow the ID token
// from the token endpoint must be about the same user as the front-channel one.
func sameSubject(front, back *verify.Token) error {
	fi, _ := front.Claims["iss"].(string)
	bi, _ := back.Claims["iss"].(string)
	fs, _ := front.Claims["sub"].(string)
	bs, _ := back.Claims["sub"].(string)
	if fi != bi || fs != bs {
		return failure.New(failure.Verification, "ID token", "the token endpoint's ID token has iss/sub %q/%q, the authorization response's %q/%q", bi, bs, fi, fs)
	}
	return nil
}

func (v *tokenVerifier) sources() []verify.Source {
	var s []verify.Source
	if v.idToken != nil {
		s = append(s, verify.Source{Name: report.IDToken, Claims: v.idToken.Claims, Verified: true})
	}
	if v.access != nil {
		s = append(s, verify.Source{Name: report.AccessToken, Claims: v.access.Claims, Verified: v.accessOK})
	}
	if v.userinfo != nil {
		s = append(s, verify.Source{Name: report.UserInfo, Claims: v.userinfo, Verified: true})
	}
	return s
}

func (v *tokenVerifier) userinfoAndExpectations(ctx context.Context) error {
	exp := v.cfg.Expect
	if v.noUserinfo && exp.WantsUserinfo(v.sources()) {
		v.r.Notes = append(v.r.Notes, "no token carries the groups claim; a client_credentials token is about no user, so userinfo was not asked")
	} else if exp.WantsUserinfo(v.sources()) {
		switch {
		case v.p.Metadata().UserinfoEndpoint == "":
			v.r.Notes = append(v.r.Notes, "no token carries the groups claim and the provider has no userinfo endpoint")
		case v.rawAT == "":
			v.r.Notes = append(v.r.Notes, "no token carries the groups claim, and without an access token the userinfo endpoint cannot be asked")
		default:
			sub := ""
			if v.idToken != nil {
				sub, _ = v.idToken.Claims["sub"].(string)
			}
			claims, err := v.p.UserInfo(ctx, v.rawAT, sub)
			t := &report.Token{Claims: claims, Verified: err == nil}
			if err != nil {
				t.Error = err.Error()
				v.r.Tokens[report.UserInfo] = t
				return err
			}
			v.r.Tokens[report.UserInfo] = t
			v.userinfo = claims
			v.r.Notes = append(v.r.Notes, fmt.Sprintf("no verified token carries the %q claim, so the userinfo endpoint was asked", groupsClaimName(exp)))
		}
	}
	for _, c := range v.expectations(v.sources()).Evaluate(v.sources()) {
		v.r.AddCheck(c)
	}
	return nil
}

func groupsClaimName(e verify.Expectations) string {
	if e.GroupsClaim == "" {
		return "groups"
	}
	return e.GroupsClaim
}
