// Package check runs claimcheck's checks of an OpenID Connect or OAuth 2.0
// configuration from Go, as the claimcheck command does: Run drives a
// browser flow (through an Opener: the user's browser, or HeadlessBrowser
// for a provider with an HTML password form) or a grant, verifies every
// token against the issuer's discovered JWKS, reads userinfo when the
// groups are not in the tokens, introspects an access token the keys
// cannot verify, evaluates the expectations, and returns the report
// (package report) that the command prints.
//
// A Go test of a service can run the same checks against the service's
// own provider:
//
//	r, err := check.Run(ctx, check.Config{
//		Issuer: issuer, ClientID: "web",
//		Scopes: []string{"openid", "groups"},
//		Expect: verify.Expectations{ExpectGroups: []string{"IT"}},
//		Opener: &check.HeadlessBrowser{Username: "alice", Password: pw},
//	})
//
// err is nil only when the run passed; it is a *failure.Error whose class
// (failure.ClassOf) is the command's exit status class, and r says why in
// detail either way.
package check

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/provider"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// Config is what a caller sets for one run: the command fills it from its
// flags, a Go test by hand. What the run derives (the discovered provider
// unless Provider is set, the response type, the secrets to scrub) it keeps
// to itself.
type Config struct {
	// Issuer is the provider's issuer identifier; its discovery document
	// is read from Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID is the client the run signs in as, and the aud every ID
	// token must name.
	ClientID string
	// ClientSecret authenticates a confidential client; empty for a public
	// client (which PKCE protects).
	ClientSecret string
	// AuthMethod overrides the client authentication chosen from the
	// provider's token_endpoint_auth_methods_supported (client_secret_basic,
	// client_secret_post, none, private_key_jwt, client_secret_jwt,
	// tls_client_auth or self_signed_tls_client_auth; the JWT and TLS
	// methods only when the provider lists them, if it lists any).
	AuthMethod string
	// ClientKey signs the client assertions of private_key_jwt (see
	// flow.LoadClientKey); given without AuthMethod it means
	// private_key_jwt. The assertion's alg is the first of the provider's
	// token_endpoint_auth_signing_alg_values_supported the key can sign.
	ClientKey *flow.ClientKey
	// ClientCertificate, when set, is the TLS client certificate (see
	// flow.LoadClientCertificate) presented to the token, pushed
	// authorization request, device authorization and introspection
	// endpoints, and to userinfo with a certificate-bound token, at the
	// provider's mtls_endpoint_aliases where it has them (RFC 8705 §5). It
	// authenticates the client with tls_client_auth or
	// self_signed_tls_client_auth (tls_client_auth when AuthMethod is
	// empty and there is no secret), and a JWT access token's (or
	// introspection's) cnf.x5t#S256 must be its thumbprint.
	ClientCertificate *flow.ClientCertificate
	// DPoPKey, when set, makes the run's tokens DPoP-bound (RFC 9449, see
	// flow.NewDPoPKey and flow.LoadDPoPKey): token requests and userinfo
	// carry proofs, the token_type must be DPoP and a JWT access token's
	// (or introspection's) cnf.jkt the key's thumbprint.
	DPoPKey *flow.DPoPKey
	// AssertionAudience is the aud of client assertions:
	// flow.AssertionAudienceEndpoint (the default: the URL of the endpoint
	// called), flow.AssertionAudienceTokenEndpoint or
	// flow.AssertionAudienceIssuer.
	AssertionAudience string
	// RedirectURI is the loopback redirect URI registered for the client
	// (http://127.0.0.1:PORT/PATH or http://localhost…; port 0 picks one).
	RedirectURI string
	// Flow is code (the default) or implicit; ResponseType, when set,
	// overrides the flow's response_type, and ResponseMode its
	// response_mode (query, fragment, form_post).
	Flow, ResponseType, ResponseMode string
	// Scopes are requested as they are; the run adds nothing.
	Scopes []string
	// ExtraParams are added to the authorization request.
	ExtraParams url.Values
	// PAR pushes the authorization request (RFC 9126) to the provider's
	// pushed_authorization_request_endpoint, with the token endpoint's
	// client authentication; the browser gets client_id and request_uri
	// alone. A provider whose metadata says
	// require_pushed_authorization_requests gets it without PAR.
	PAR bool
	// RequestObject signs the authorization request as a request object
	// (RFC 9101) with ClientKey, in the first of the provider's
	// request_object_signing_alg_values_supported the key can sign; with
	// PAR it is pushed. A provider whose metadata says
	// require_signed_request_object gets one without RequestObject.
	RequestObject bool
	// Resources are resource indicators (RFC 8707) for the authorization
	// request, each an absolute URI.
	Resources []string
	// AuthorizationDetails, when set, is the authorization request's
	// authorization_details (RFC 9396): a JSON array of objects with a
	// type string each.
	AuthorizationDetails string
	// Audience, when set, must be among a JWT access token's audiences.
	Audience string
	// Expect are the group expectations checked on the verified claims.
	Expect verify.Expectations
	// ClockSkew is allowed on exp, nbf, iat and auth_time.
	ClockSkew time.Duration
	// HTTPClient makes every request to the provider; it should have a
	// timeout.
	HTTPClient *http.Client
	// Timeout bounds the wait for the browser's redirect.
	Timeout time.Duration
	// Opener shows the authorize URL to the person signing in: a browser,
	// HeadlessBrowser, or flow.NoOpener.
	Opener flow.Opener
	// ShowTokens keeps the raw tokens in the report (Token.Raw); without
	// it they are redacted.
	ShowTokens bool
	// OnListening and OpenerError are passed to flow.Run: the listener is
	// ready (print the URL), and the opener failed (say so, keep waiting).
	OnListening func(redirectURI, authorizeURL string, deadline time.Time)
	OpenerError func(error)
	// OnIgnored receives a warning for each response the listener ignored
	// because it could not be tied to this run (see flow.RunOptions).
	OnIgnored func(error)
	// Now is the clock for verification; time.Now when nil.
	Now func() time.Time
	// Okta, when set, is the Okta authorization server of the run (see
	// Okta), and the run's provider is Okta; an Okta issuer is recognised
	// without it, on Okta's domains or a custom URL domain alike.
	Okta *Okta
	// ProviderKind names the kind of provider (see package provider) whose
	// diagnosis explains a missing group: empty to recognise it from the
	// issuer and the discovery metadata, "generic" for none, or a name
	// such as "keycloak". An unknown name is a failure.Usage error.
	ProviderKind string
	// Grant, when its Type is set, obtains tokens without a redirect.
	Grant Grant
	// Provider, when set, is used instead of discovering Issuer, so that
	// many runs share one discovery document and one key set.
	Provider *verify.Provider
	// OnRefreshToken, when set, receives the refresh token a run got.
	OnRefreshToken func(string)
	// AskUserinfo reads the userinfo endpoint even when the groups checks
	// do not need it (a check of a userinfo claim does).
	AskUserinfo bool
	// ClaimSources says how distributed and aggregated claims (OpenID
	// Connect Core 5.6.2) are resolved; see ClaimSources.
	ClaimSources ClaimSources

	// secrets is derived by the run, not set by a caller: the Scrubber
	// that knows every secret the run sends (see withScrubber).
	secrets *scrub.Scrubber
	// recognised is derived by the run once it has the discovery
	// metadata: the provider ProviderKind names or the metadata shows.
	recognised provider.Recognition
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
		return flow.NormalizeResponseType(c.ResponseType)
	}
	switch c.Flow {
	case "", "code":
		return "code", nil
	case "implicit":
		return "id_token", nil
	}
	return "", failure.New(failure.Usage, "--flow", "unknown flow %q (want code or implicit)", c.Flow)
}

// Run performs one whole run — a browser flow, or the grant c.Grant names —
// and returns its report, which is never nil, and the run's outcome as an
// error: nil when the run passed, else a *failure.Error of the class that
// decides the command's exit status (failure.Expectation for a group
// missing, failure.Verification for a token that fails, and so on), whose
// message is the report's error. A Go test can stop at the error and
// print the report (report.WriteText) to see why.
func Run(ctx context.Context, c Config) (*report.Report, error) {
	r := run(ctx, c)
	return r, outcome(r)
}

// outcome is the report's outcome as an error.
func outcome(r *report.Report) error {
	e := r.Outcome()
	if e == nil {
		return nil
	}
	return failure.New(e.Class, "", "%s", e.Message)
}

// run is Run's report.
func run(ctx context.Context, c Config) *report.Report {
	c = c.withScrubber()
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
	c.recognise(r, p.Metadata())
	md, aliased := c.metadata(p)
	fc, note, err := flowConfig(c, md, rt)
	if err != nil {
		return finish(r, err, c)
	}
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	if note := c.parNote(md); note != "" {
		r.Notes = append(r.Notes, note)
	}
	if note := c.requestObjectNote(md); note != "" {
		r.Notes = append(r.Notes, note)
	}
	if note := aliasNote(aliased); note != "" {
		r.Notes = append(r.Notes, note)
	}
	if note := jarmNote(fc, md); note != "" {
		r.Notes = append(r.Notes, note)
	}
	r.Request = &report.Request{
		ClientID: c.ClientID, ClientAuth: fc.AuthMethod, ClientAssertion: assertionReport(fc),
		ResponseType: rt, ResponseMode: responseModeOrDefault(fc),
		Scopes: c.Scopes, RedirectURI: c.RedirectURI,
		Endpoints: endpoints(md),
		PAR:       parReport(fc, md), Resources: c.Resources,
		AuthorizationDetails: authorizationDetails(c.AuthorizationDetails),
		RequestObject:        requestObjectReport(fc, md),
		DPoP:                 dpopReport(c),
		ClientCertificate:    certificateReport(c, aliased),
		JARM:                 jarmReport(fc, md),
	}

	v := &tokenVerifier{cfg: c, p: p, r: r}
	if v.certP, err = c.certProvider(p); err != nil {
		return finish(r, err, c)
	}
	if err := c.oktaSignIn(ctx, &fc); err != nil {
		return finish(r, err, c)
	}
	opener := c.Opener
	var headless *HeadlessBrowser
	if b, ok := opener.(*HeadlessBrowser); ok {
		// A copy for this run, told the listener's redirect URI: a
		// pushed request's authorize URL does not carry it (RFC 9126
		// §4), and the caller's value stays as it was.
		cp := *b
		headless, opener = &cp, &cp
	}
	res, err := flow.Run(ctx, fc, flow.RunOptions{
		Opener:  opener,
		Timeout: c.Timeout,
		OnListening: func(redirectURI, authorizeURL string, deadline time.Time) {
			r.Request.RedirectURI = redirectURI
			if headless != nil && headless.RedirectURI == "" {
				headless.RedirectURI = redirectURI
			}
			authorizeURL = redactSessionToken(authorizeURL)
			// The report's copy loses any user info the discovered
			// endpoint had; its query is the request itself and stays.
			r.Request.AuthorizeURL = withoutUserinfo(authorizeURL)
			if c.OnListening != nil {
				c.OnListening(redirectURI, authorizeURL, deadline)
			}
		},
		OpenerError:       c.openerError(),
		OnIgnored:         c.OnIgnored,
		BeforeExchange:    v.frontChannel,
		VerifyResponseJWT: v.responseJWT,
	})
	if res != nil && res.Request != nil && r.Request.PAR != nil {
		r.Request.PAR.RequestURI, r.Request.PAR.ExpiresIn = res.Request.RequestURI, res.Request.RequestURIExpiresIn
	}
	if err != nil {
		c.oktaFlowNote(r, err)
		return finish(r, explainDPoP(explainRequestObject(explainPAR(explainTLSClientAuth(explainClientAuth(err, fc), fc), fc, md), fc), fc, md), c)
	}
	if err := v.backChannel(ctx, res); err != nil {
		return finish(r, err, c)
	}
	v.orgAccessTokenNote()
	return finish(r, v.conclude(ctx), c)
}

// conclude is what every run does once its tokens are verified, whichever
// way they were obtained: introspect an access token that could not be
// verified locally, refuse a run where nothing was verified, then ask
// userinfo when needed and evaluate the expectations.
func (v *tokenVerifier) conclude(ctx context.Context) error {
	if v.cfg.OnRefreshToken != nil && !v.gotRefresh {
		// Asked to print one: say why nothing was printed.
		v.r.Notes = append(v.r.Notes, "no refresh token was issued: ask for offline_access in --scopes, with a flow or grant the provider gives refresh tokens for (the code flow, device_code, refresh_token), and a client it allows them")
	}
	if err := v.introspect(ctx); err != nil {
		return err
	}
	if err := v.requireVerified(); err != nil {
		return err
	}
	srcErr := v.resolveClaimSources(ctx)
	if err := v.userinfoAndExpectations(ctx); err != nil {
		return err
	}
	return worseSourceError(srcErr, v.userinfoSrcErr)
}

// requireVerified fails the run when no token was verified: exit 0 means
// "tokens verified", and checks on claims nobody vouched for prove nothing.
// An access token the issuer's introspection endpoint calls active counts.
// The message says what would give a verifiable token.
func (v *tokenVerifier) requireVerified() error {
	if v.idToken != nil || v.access != nil {
		return nil
	}
	if t := v.r.Tokens[report.Introspection]; t != nil && t.Verified {
		return nil
	}
	var what []string
	if v.rawAT != "" {
		what = append(what, "the access token could not be verified locally")
	}
	var hints []string
	if v.r.Request != nil && v.r.Request.TokenExchange != nil {
		te := v.r.Request.TokenExchange
		// What a token exchange issued is its issued_token_type's, not
		// the scopes'.
		if te.IssuedTokenType != "" && te.IssuedTokenType != flow.TokenTypeAccessToken && te.IssuedTokenType != flow.TokenTypeJWT && te.IssuedTokenType != flow.TokenTypeIDToken {
			what = append(what, "the issued token is of type "+cleanValue(te.IssuedTokenType)+", which cannot be verified locally")
		}
		hints = append(hints, "ask for an access token or an ID token with --requested-token-type")
	} else if !slices.Contains(v.cfg.Scopes, "openid") {
		hints = append(hints, "add openid to --scopes for an ID token")
	} else if v.r.Request != nil && v.r.Request.ResponseType != "" && !strings.Contains(v.r.Request.ResponseType, "id_token") && !strings.Contains(v.r.Request.ResponseType, "code") {
		hints = append(hints, `ask for an ID token too (--response-type "id_token token", or the code flow)`)
	}
	if v.rawAT != "" {
		switch {
		case !v.cfg.hasCredential():
			hints = append(hints, "give the client secret (CLAIMCHECK_CLIENT_SECRET) so that the provider can be asked to introspect the access token")
		case v.p.Metadata().IntrospectionEndpoint == "":
			hints = append(hints, "the provider advertises no introspection endpoint to ask about the access token")
		}
	}
	msg := "no token was verified"
	if len(what) > 0 {
		msg += ": " + strings.Join(what, "; ")
	}
	if len(hints) > 0 {
		msg += "; " + strings.Join(hints, ", or ")
	}
	return failure.New(failure.Verification, "tokens", "%s", msg)
}

func finish(r *report.Report, err error, c Config) *report.Report {
	r.Fail(c.secrets.Error(err))
	if !c.ShowTokens {
		r.RedactTokens()
	}
	r.Scrub(c.secrets.String)
	r.Finish()
	return r
}

// withoutUserinfo is raw without a user name and password.
func withoutUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
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

// endpoints are the provider's endpoints as the report shows them: a user
// name and password or a query in a discovered URL is not printed, as
// messages never print them (verify.DisplayURL).
func endpoints(md verify.Metadata) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{
		"authorization": md.AuthorizationEndpoint, "token": md.TokenEndpoint, "userinfo": md.UserinfoEndpoint,
		"jwks": md.JWKSURI, "introspection": md.IntrospectionEndpoint,
		"device_authorization":         md.DeviceAuthorizationEndpoint,
		"pushed_authorization_request": md.PushedAuthorizationRequestEndpoint,
	} {
		if v != "" {
			m[k] = verify.DisplayURL(v)
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
	fc, _, err := flowConfig(c, p.Metadata(), rt)
	return fc, err
}

// preflight checks what does not depend on the provider's metadata (the
// redirect URI, response type and mode, scopes, client authentication)
// before discovery, so that a usage error sends nothing at all. The
// endpoints are stand-ins; flowConfig checks the real ones.
func preflight(c Config, rt string) error {
	if err := c.checkProviderKind(); err != nil {
		return err
	}
	if err := c.ClaimSources.check(); err != nil {
		return err
	}
	if _, err := flow.ResolveAuthMethod(c.authMethod(), c.ClientSecret, nil); err != nil {
		return err
	}
	if _, err := c.maxAge(); err != nil {
		return err
	}
	const standIn = "https://endpoint.invalid/"
	return flow.Config{
		Issuer: c.Issuer, AuthorizationEndpoint: standIn, TokenEndpoint: standIn,
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, AuthMethod: c.authMethod(),
		ClientKey: c.ClientKey, AssertionAudience: c.AssertionAudience, ClientCertificate: c.ClientCertificate,
		RedirectURI: c.RedirectURI, ResponseType: rt, ResponseMode: c.ResponseMode,
		Scopes: c.Scopes, ExtraParams: c.ExtraParams,
		Resources: c.Resources, AuthorizationDetails: c.AuthorizationDetails,
		RequestObject: c.RequestObject,
	}.Validate()
}

// maxAge is the max_age of the authorization request (--param max_age=N),
// nil when none is sent; the ID tokens' auth_time is checked against it.
func (c *Config) maxAge() (*time.Duration, error) {
	v, ok := c.ExtraParams["max_age"]
	if !ok {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.Join(v, ","), 10, 32)
	if err != nil || n < 0 {
		return nil, failure.New(failure.Usage, "--param", "max_age must be a whole number of seconds, 0 or more (got %q)", strings.Join(v, ","))
	}
	d := time.Duration(n) * time.Second
	return &d, nil
}

// flowConfig checks the request against what the provider advertises, so
// that a request it cannot serve is a usage error before anything is sent.
// The note, when not empty, is for the report: a response type sent
// although the provider lists its words only one by one.
func flowConfig(c Config, md verify.Metadata, rt string) (flow.Config, string, error) {
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
		return fc, "", failure.New(failure.Provider, "discovery", "the provider's metadata has no authorization_endpoint")
	}
	if strings.Contains(rt, "code") && md.TokenEndpoint == "" {
		return fc, "", failure.New(failure.Provider, "discovery", "the provider's metadata has no token_endpoint")
	}
	note := ""
	if len(md.ResponseTypesSupported) > 0 && !containsResponseType(md.ResponseTypesSupported, rt) {
		// Some providers list the words and not their combinations (Dex,
		// configured as its documentation shows, lists code, token and
		// id_token and accepts "id_token token"): only a word listed
		// nowhere is refused.
		if w := unlistedWord(md.ResponseTypesSupported, rt); w != "" {
			return fc, "", failure.New(failure.Usage, "--response-type", "the provider does not offer response_type %q: %q is in none of its response_types_supported (%s)",
				rt, w, strings.Join(md.ResponseTypesSupported, ", "))
		}
		note = fmt.Sprintf("response_type %q is not among the provider's response_types_supported (%s), but each of its words is, so it was sent", rt, strings.Join(md.ResponseTypesSupported, ", "))
	}
	modeNote, err := checkResponseMode(c.ResponseMode, md)
	if err != nil {
		return fc, "", err
	}
	if note == "" {
		note = modeNote
	} else if modeNote != "" {
		note += "; " + modeNote
	}
	if err := c.clientAuth(md, &fc); err != nil {
		return fc, "", err
	}
	if err := c.parConfig(md, &fc); err != nil {
		return fc, "", err
	}
	if err := c.requestObjectConfig(md, &fc); err != nil {
		return fc, "", err
	}
	if err := fc.Validate(); err != nil {
		return fc, "", err
	}
	return fc, note, nil
}

// unlistedWord returns the first word of rt that no entry of supported
// holds, or "".
func unlistedWord(supported []string, rt string) string {
	var listed []string
	for _, s := range supported {
		listed = append(listed, strings.Fields(s)...)
	}
	for _, w := range strings.Fields(rt) {
		if !slices.Contains(listed, w) {
			return w
		}
	}
	return ""
}

func containsResponseType(supported []string, rt string) bool {
	for _, s := range supported {
		// An entry claimcheck cannot ask for (OAuth's "none") matches nothing.
		if n, err := flow.NormalizeResponseType(s); err == nil && n == rt {
			return true
		}
	}
	return false
}

// tokenVerifier verifies the tokens of one run as they arrive and records
// them in the report.
type tokenVerifier struct {
	cfg Config
	p   *verify.Provider
	r   *report.Report
	// gotRefresh: a refresh token came and went to cfg.OnRefreshToken.
	gotRefresh bool

	nonce string
	// noNonce: no authorization request was made (a non-interactive
	// grant), so no nonce is compared.
	noNonce bool
	// noUserinfo: the tokens are about no user (client_credentials).
	noUserinfo bool
	// frontID, idToken and access are set only once verified.
	frontID *verify.Token
	idToken *verify.Token
	access  *verify.Token
	rawAT   string
	// atType is the token_type the access token came with.
	atType string
	// code is the authorization code of the front channel, which the
	// token endpoint's ID token's c_hash is checked against.
	code     string
	userinfo map[string]any
	// userinfoOK: userinfo's sub was compared with the ID token's.
	userinfoOK bool
	// resolved are the claims of the tokens' distributed and aggregated
	// claim sources (see resolveClaimSources).
	resolved []verify.Source
	// certP is p as seen with the client certificate (Config.certProvider);
	// certBound: the access token's cnf.x5t#S256 is the certificate's.
	certP     *verify.Provider
	certBound bool
	// resolver resolves them (claimResolver); skipEndpoints, when set,
	// is why no distributed endpoint is asked (verify.ClaimResolver).
	resolver      *verify.ClaimResolver
	skipEndpoints string
	// userinfoSrcErr is why a claim source of userinfo failed.
	userinfoSrcErr error
}

func (v *tokenVerifier) idOptions(nonce, accessToken, code string, requireAt, requireC bool) verify.IDTokenOptions {
	maxAge, _ := v.cfg.maxAge() // checked by preflight
	return verify.IDTokenOptions{
		ClientID: v.cfg.ClientID, Nonce: nonce, MaxAge: maxAge,
		AccessToken: accessToken, RequireAtHash: requireAt,
		Code: code, RequireCHash: requireC,
		ClockSkew: v.cfg.ClockSkew, Now: v.cfg.Now,
	}
}

// frontChannel verifies an ID token that came in the authorization response
// before any code is redeemed: a forged front channel must not cause a
// request to the token endpoint.
func (v *tokenVerifier) frontChannel(ctx context.Context, req *flow.Request, resp *flow.Response) error {
	// flow has already refused a response that lacks what the response
	// type asks for (a code, an id_token, an access_token).
	v.nonce = req.Nonce
	// Redeemed right after this returns (flow.Run), with the verifier.
	v.cfg.secrets.Add(scrub.Code, resp.Get("code"))
	v.cfg.secrets.Add(scrub.CodeVerifier, req.CodeVerifier)
	v.noteResponseMode(req, resp)
	words := strings.Fields(req.ResponseType)
	has := func(w string) bool { return slices.Contains(words, w) }
	v.code = resp.Get("code")
	if has("token") {
		v.rawAT, v.atType = resp.Get("access_token"), resp.Get("token_type")
		if err := checkTokenType("authorization response", v.atType, v.cfg.DPoPKey != nil); err != nil {
			v.r.AddCheck(verify.Check{Name: "token_type", OK: false, Source: report.AccessToken, Detail: err.Error()})
			return err
		}
	}
	if !has("id_token") {
		return nil
	}
	raw := resp.Get("id_token")
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

// noteResponseMode tells in the report how the response arrived when that is
// not the response_mode asked for (Dex ignores response_mode): the report's
// request says what was asked, and the parameters were checked all the same.
func (v *tokenVerifier) noteResponseMode(req *flow.Request, resp *flow.Response) {
	if resp.Mode != "" && req.ResponseMode != "" && resp.Mode != req.ResponseMode {
		v.r.Notes = append(v.r.Notes, fmt.Sprintf("response_mode %s was asked for; the provider answered with %s instead", req.ResponseMode, resp.Mode))
	}
}

func (v *tokenVerifier) recordID(raw string, tok *verify.Token, err error) {
	recordVerdict(v.r, report.IDToken, report.IDToken, raw, tok, err)
}

// backChannel redeems nothing itself (flow did); it verifies what the token
// endpoint returned.
func (v *tokenVerifier) backChannel(ctx context.Context, res *flow.Result) error {
	// OpenID Core 3.1.3.3 (and 3.3.3.3 for the hybrid flow): the token
	// response to an authentication request, one with openid in scope,
	// carries an ID token. Without it the sign-in is not proved.
	if res.Tokens != nil && res.Tokens.IDToken == "" && slices.Contains(v.cfg.Scopes, "openid") {
		err := failure.New(failure.Verification, "token endpoint",
			"the token response has no id_token, though openid was in scope (OpenID Connect Core 3.1.3.3)")
		v.r.AddCheck(verify.Check{Name: "id_token in the token response", OK: false, Source: report.IDToken, Detail: err.Error()})
		return err
	}
	return v.tokenResponse(ctx, res.Tokens)
}

// tokenResponse verifies a token endpoint's answer, whichever grant got it:
// the ID token (nonce compared unless v.noNonce), then the access token.
func (v *tokenVerifier) tokenResponse(ctx context.Context, resp *flow.Tokens) error {
	if t := resp; t != nil {
		if t.RefreshToken != "" && v.cfg.OnRefreshToken != nil {
			v.gotRefresh = true
			v.cfg.OnRefreshToken(t.RefreshToken)
		}
		if t.AccessToken != "" {
			v.rawAT, v.atType = t.AccessToken, t.TokenType
			if err := checkTokenType("token endpoint", t.TokenType, v.cfg.DPoPKey != nil); err != nil {
				v.r.AddCheck(verify.Check{Name: "token_type", OK: false, Source: report.AccessToken, Detail: err.Error()})
				return err
			}
		}
		if t.IDToken != "" {
			// c_hash is checked whenever the token carries one, as
			// at_hash is: OpenID Core 3.3.2.11 requires it only of the
			// front channel's ID token (frontChannel), but one that is
			// there and wrong means the token was not issued for this
			// code. v.code is "" for the grants, which have no code.
			o := v.idOptions(v.nonce, t.AccessToken, v.code, false, false)
			o.NoNonce = v.noNonce
			if v.noNonce {
				o.MaxAge = nil // no authorization request carried it
			}
			tok, err := v.p.VerifyIDToken(ctx, t.IDToken, o)
			if v.frontID != nil {
				// A hybrid flow: the report keeps both ID tokens, the
				// front channel's (verified) under a kind of its own.
				v.r.Tokens[report.FrontIDToken] = v.r.Tokens[report.IDToken]
				if err == nil {
					err = sameSubject(v.frontID, tok)
				}
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
	tok, err := v.p.VerifyAccessToken(ctx, v.rawAT, verify.AccessTokenOptions{Audience: v.cfg.Audience, ClockSkew: v.cfg.ClockSkew, Now: v.cfg.Now})
	// Not verifiable locally is not a failure: an opaque token, or one
	// meant for another resource server, is simply not ours to verify.
	if _, nv := recordVerdict(v.r, report.AccessToken, report.AccessToken, v.rawAT, tok, err); err != nil && nv == nil {
		return err
	}
	if err == nil {
		v.access = tok
		if v.cfg.DPoPKey != nil {
			if err := checkCnf(v.r, report.AccessToken, tok.Claims(), v.cfg.DPoPKey); err != nil {
				return err
			}
		}
		v.certBound, err = checkX5t(v.r, report.AccessToken, tok.Claims(), v.cfg.ClientCertificate, v.p.Metadata().TLSClientCertificateBoundAccessTokens)
		return err
	}
	return nil
}

// cleanValue bounds a provider's value for a one-line message.
func cleanValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return s
}

// sameSubject enforces OpenID Core 3.3.3.6: in a hybrid flow the ID token
// from the token endpoint must be about the same user as the front-channel one.
func sameSubject(front, back *verify.Token) error {
	fi, _ := front.Claims()["iss"].(string)
	bi, _ := back.Claims()["iss"].(string)
	fs, _ := front.Claims()["sub"].(string)
	bs, _ := back.Claims()["sub"].(string)
	if fi != bi || fs != bs {
		return failure.New(failure.Verification, "ID token", "the token endpoint's ID token has iss/sub %q/%q, the authorization response's %q/%q", bi, bs, fi, fs)
	}
	return nil
}

func (v *tokenVerifier) sources() []verify.Source {
	var s []verify.Source
	if v.idToken != nil {
		s = append(s, verify.Source{Name: report.IDToken, Claims: v.idToken.Claims(), Verified: true})
	}
	if v.access != nil {
		s = append(s, verify.Source{Name: report.AccessToken, Claims: v.access.Claims(), Verified: true})
	}
	s = append(s, v.resolved...)
	if v.userinfo != nil {
		s = append(s, verify.Source{Name: report.UserInfo, Claims: v.userinfo, Verified: v.userinfoOK})
	}
	return s
}

// bearer says whether the access token may go to userinfo as a bearer token
// (RFC 6750), noting in the report why not, or that token_type was missing.
func (v *tokenVerifier) bearer() bool {
	ok, note := flow.Tokens{AccessToken: v.rawAT, TokenType: v.atType}.Bearer()
	if note != "" {
		v.r.Notes = append(v.r.Notes, note)
	}
	return ok
}

func (v *tokenVerifier) userinfoAndExpectations(ctx context.Context) error {
	exp := v.cfg.Expect
	// why is the reason to ask userinfo, and asked the note when it was.
	why, asked := "", ""
	switch {
	case exp.WantsUserinfo(v.sources()) && slices.Contains(exp.GroupsFrom, verify.SourceUserinfo):
		// Asked for by name, whatever the tokens carry (an ID token
		// with groups, as Hydra's from its consent session).
		why = "--groups-from names userinfo"
		asked = why + ", so the userinfo endpoint was asked"
	case exp.WantsUserinfo(v.sources()):
		why = "no token carries the groups claim"
		asked = fmt.Sprintf("no verified token carries the %q claim, so the userinfo endpoint was asked", groupsClaimName(exp))
	case v.cfg.AskUserinfo:
		why = "a claim check names userinfo"
		asked = why + ", so the userinfo endpoint was asked"
	}
	if v.noUserinfo && why != "" {
		v.r.Notes = append(v.r.Notes, why+"; a client_credentials token is about no user, so userinfo was not asked")
	} else if why != "" {
		switch {
		case v.userinfoProvider().Metadata().UserinfoEndpoint == "":
			v.r.Notes = append(v.r.Notes, why+" and the provider has no userinfo endpoint")
		case v.rawAT == "":
			v.r.Notes = append(v.r.Notes, why+", and without an access token the userinfo endpoint cannot be asked")
		case v.cfg.DPoPKey != nil:
			// A DPoP token goes with a proof: v.userinfo below.
			if err := v.askUserinfo(ctx, asked); err != nil {
				return err
			}
		case !v.bearer():
			// The note says why: a DPoP-bound token sent as a bearer
			// token would be refused, or worse, accepted.
		default:
			if err := v.askUserinfo(ctx, asked); err != nil {
				return err
			}
		}
	}
	for _, c := range v.expectations(v.sources()).Evaluate(v.sources()) {
		v.r.AddCheck(c)
	}
	return nil
}

// askUserinfo reads the userinfo endpoint with the run's access token and
// records its claims; asked is the note saying why.
func (v *tokenVerifier) askUserinfo(ctx context.Context, asked string) error {
	sub := ""
	if v.idToken != nil {
		sub, _ = v.idToken.Claims()["sub"].(string)
	}
	v.cfg.secrets.Add(scrub.AccessToken, v.rawAT)
	var claims map[string]any
	var err error
	if v.cfg.DPoPKey != nil {
		// RFC 9449 §7: the token as Authorization: DPoP, with a proof
		// carrying its hash.
		sc := v.cfg.secrets
		wrap := func(next http.RoundTripper) http.RoundTripper {
			return v.cfg.DPoPKey.DPoPTransport(next, func(p string) { sc.Add(scrub.DPoPProof, p) })
		}
		claims, err = v.userinfoProvider().UserInfoDPoP(ctx, wrap, v.rawAT, sub)
	} else {
		claims, err = v.userinfoProvider().UserInfo(ctx, v.rawAT, sub)
	}
	if err != nil {
		v.r.Tokens[report.UserInfo] = &report.Token{Error: err.Error()}
		return err
	}
	// Verified only when its sub was compared with the ID
	// token's (OpenID Core 5.3.4); without an ID token nothing
	// ties the answer to a signed-in user.
	t := &report.Token{Claims: claims, Verified: true}
	if sub == "" {
		t = &report.Token{UnverifiedClaims: claims,
			Note: "sub not compared: no ID token in this run, so these claims do not count for the checks"}
	}
	v.r.Tokens[report.UserInfo] = t
	v.userinfo, v.userinfoOK = claims, sub != ""
	v.r.Notes = append(v.r.Notes, asked)
	if v.userinfoOK {
		// OpenID Connect Core 5.6.2 allows claim sources in the userinfo
		// response as in the ID token; they count only once its sub has
		// tied it to the signed-in user.
		v.userinfoSrcErr = v.resolveSources(ctx, []namedClaims{{report.UserInfo, claims}})
	} else {
		registerSourceTokens(v.cfg.secrets, claims)
	}
	return nil
}

func groupsClaimName(e verify.Expectations) string {
	if e.GroupsClaim == "" {
		return "groups"
	}
	return e.GroupsClaim
}

// userinfoProvider is the view of the provider userinfo is asked through:
// with the client certificate (at the userinfo alias) when the access token
// is bound to it, or may be (the provider advertises
// tls_client_certificate_bound_access_tokens and the token says nothing
// either way), since the resource server then refuses it without the
// certificate (RFC 8705 §3).
func (v *tokenVerifier) userinfoProvider() *verify.Provider {
	if v.certP == nil || v.cfg.ClientCertificate == nil {
		return v.p
	}
	if v.certBound || (v.access == nil && v.p.Metadata().TLSClientCertificateBoundAccessTokens) {
		return v.certP
	}
	return v.p
}
