// Package flow is the client side of an OpenID Connect / OAuth 2.0
// authorization: it builds the authorize request (state, nonce, PKCE S256),
// receives the authorization response on a loopback listener (query,
// fragment through a relay page, form_post), opens a browser, and redeems a
// code at the token endpoint. It verifies no token itself: a Result carries
// raw tokens for package verify.
//
// Every error it returns carries a failure class, is one line, and never
// contains a token, code, verifier, secret or a raw response body.
package flow

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/claimcheck/claimcheck/failure"
)

// Config describes one authorization: the provider's endpoints, the client,
// and what to ask for.
//
// Its endpoints (AuthorizationEndpoint, TokenEndpoint,
// PushedAuthorizationRequestEndpoint, and DeviceOptions.Endpoint) are the
// caller's input, whether typed or taken from a discovery document: one
// that is not an absolute http(s) URL without a fragment is a
// failure.Usage error of Validate and of every function that would send to
// it, before anything is sent. A caller that fills them from a provider's
// metadata checks that first, so that the provider's mistake is reported
// as the provider's: verify.Discover refuses such a document as a
// failure.Verification error wrapping *verify.MetadataError, naming the
// document and the field, and package check builds its Config only from a
// document that passed.
type Config struct {
	// Issuer is the provider's issuer identifier. An iss parameter in the
	// authorization response (RFC 9207) must equal it.
	Issuer                string
	AuthorizationEndpoint string
	// TokenEndpoint is required when the response type contains code.
	TokenEndpoint string
	ClientID      string
	ClientSecret  string
	// AuthMethod is client_secret_basic, client_secret_post, none,
	// private_key_jwt, client_secret_jwt, tls_client_auth or
	// self_signed_tls_client_auth. Empty means none without a secret and
	// client_secret_basic with one.
	AuthMethod string
	// ClientKey signs the client assertions of private_key_jwt and the
	// request object of RequestObject; it is required with either and
	// refused when neither is used.
	ClientKey *ClientKey
	// AssertionAlg is the JWS algorithm of client assertions; empty means
	// ResolveAssertionAlg's choice when the provider advertises nothing.
	AssertionAlg string
	// AssertionAudience is the aud of client assertions:
	// AssertionAudienceEndpoint (the default when empty),
	// AssertionAudienceTokenEndpoint or AssertionAudienceIssuer.
	AssertionAudience string
	// OnClientAssertion, when set, is called with each client assertion
	// before it is sent, for a caller that keeps what it sends out of what
	// it shows.
	OnClientAssertion func(assertion string)
	// ClientCertificate, when set, is presented as the TLS client
	// certificate by every request to the token and pushed authorization
	// request endpoints (RFC 8705): it authenticates the client with
	// tls_client_auth and self_signed_tls_client_auth, which require it,
	// and binds the access tokens to it with any method. The endpoints
	// should then be the provider's mtls_endpoint_aliases where it has
	// them (RFC 8705 §5).
	ClientCertificate *ClientCertificate
	// DPoPKey, when set, makes the tokens DPoP-bound (RFC 9449): a proof
	// signed with it goes with every token request, and the authorize
	// request carries its thumbprint as dpop_jkt.
	DPoPKey *DPoPKey
	// OnDPoPProof, when set, is called with each DPoP proof before it is
	// sent.
	OnDPoPProof func(proof string)
	// RedirectURI must be an http URI on 127.0.0.1, [::1] or localhost
	// (RFC 8252 §7.3). Port 0 asks Listen for a free port.
	RedirectURI string
	// ResponseType is one of code, id_token, token or a combination of
	// them in any order ("id_token token", "code id_token", ...). Empty
	// means code.
	ResponseType string
	// ResponseMode is query, fragment or form_post, or a JARM mode (jwt,
	// query.jwt, fragment.jwt, form_post.jwt; jwt is query.jwt for code
	// and fragment.jwt otherwise), whose response Run hands to
	// RunOptions.VerifyResponseJWT. Empty means the response type's
	// default (query for code, fragment otherwise) and leaves
	// response_mode out of the request.
	ResponseMode string
	Scopes       []string
	// ExtraParams are added to the authorize request (prompt, login_hint,
	// ...). They may not set a parameter that the request itself carries.
	ExtraParams url.Values
	// IssParameterSupported is the provider's
	// authorization_response_iss_parameter_supported: when set, a response
	// without iss and without an ID token is refused.
	IssParameterSupported bool
	// Resources are resource indicators (RFC 8707), each sent as a
	// resource parameter: absolute URIs without a fragment.
	Resources []string
	// AuthorizationDetails, when not empty, is sent as the
	// authorization_details parameter (RFC 9396): a JSON array of objects,
	// each with a type string (see CheckAuthorizationDetails).
	AuthorizationDetails string
	// PushedAuthorizationRequestEndpoint is the provider's
	// pushed_authorization_request_endpoint (RFC 9126).
	PushedAuthorizationRequestEndpoint string
	// PushAuthorizationRequest pushes the authorization request to
	// PushedAuthorizationRequestEndpoint (see Push), with the client
	// authentication of the token endpoint; the browser is then sent
	// client_id and request_uri alone.
	PushAuthorizationRequest bool
	// RequestObject sends the authorization request as a request object
	// (RFC 9101) signed with ClientKey: the browser gets client_id,
	// request, and the response_type and scope that OpenID Connect Core
	// §6.1 wants as plain parameters too; a pushed request sends
	// client_id and request alone.
	RequestObject bool
	// RequestObjectAlg is the request object's JWS algorithm; empty means
	// ResolveRequestObjectAlg's choice when the provider advertises
	// nothing.
	RequestObjectAlg string
	// HTTPClient is used for the token and pushed authorization request
	// endpoints. Nil means a client with a 10 s timeout per request and a
	// 1 MiB body cap.
	HTTPClient *http.Client
}

// Authentication methods at the token endpoint (OpenID Connect Core §9).
const (
	authNone              = "none"
	authClientSecretBasic = "client_secret_basic"
	authClientSecretPost  = "client_secret_post"
)

// Response modes, as Response.Mode reports them.
const (
	modeQuery    = "query"
	modeFragment = "fragment"
	modeFormPost = "form_post"
)

// reservedParams are set by NewRequest; an extra parameter of the same name
// would make the request ambiguous or undo a protection (state, PKCE).
// Config.Validate is the one place that refuses them.
var reservedParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "response_mode", "dpop_jkt",
}

// requestObjectParams carry a request object (RFC 9101) whose parameters
// the provider uses instead of the query's: the state, nonce, redirect URI
// and PKCE challenge claimcheck checks would not be the ones it used.
var requestObjectParams = []string{"request", "request_uri"}

// responseType is a parsed response_type: which artifacts the front
// channel returns.
type responseType struct{ code, idToken, token bool }

func (rt responseType) String() string {
	var w []string
	if rt.code {
		w = append(w, "code")
	}
	if rt.idToken {
		w = append(w, "id_token")
	}
	if rt.token {
		w = append(w, "token")
	}
	return strings.Join(w, " ")
}

// frontChannelTokens says whether tokens travel in the authorization
// response itself.
func (rt responseType) frontChannelTokens() bool { return rt.idToken || rt.token }

// NormalizeResponseType returns the response_type s in the order the
// specifications write it ("code id_token token"), so that "token
// id_token" and "id_token,token" name one thing. Words are separated by
// blanks or commas. An empty s, a word other than code, id_token and token
// (such as OAuth's "none"), and a repeated word are failure.Usage errors.
// Config.Validate applies the same rule to Config.ResponseType.
func NormalizeResponseType(s string) (string, error) {
	rt, err := parseResponseType(s)
	if err != nil {
		return "", err
	}
	return rt.String(), nil
}

func parseResponseType(s string) (responseType, error) {
	var rt responseType
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(words) == 0 {
		return rt, failure.New(failure.Usage, "response type", "empty response_type")
	}
	for _, w := range words {
		var seen *bool
		switch w {
		case "code":
			seen = &rt.code
		case "id_token":
			seen = &rt.idToken
		case "token":
			seen = &rt.token
		default:
			return rt, failure.New(failure.Usage, "response type", "unknown response_type %q (want code, id_token, token or a combination)", clean(s, 80))
		}
		if *seen {
			return rt, failure.New(failure.Usage, "response type", "response_type %q names %s twice", clean(s, 80), w)
		}
		*seen = true
	}
	return rt, nil
}

// loopbackURI is a redirect URI that passed the loopback checks.
type loopbackURI struct {
	raw  string
	u    *url.URL
	host string // 127.0.0.1, ::1 or localhost
	port int
	path string // the callback path; "/" when the URI has none
}

func parseRedirectURI(s string) (*loopbackURI, error) {
	const op = "redirect URI"
	if s == "" {
		return nil, failure.New(failure.Usage, op, "missing (e.g. http://127.0.0.1:8765/callback)")
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return nil, failure.New(failure.Usage, op, "%q is not an absolute URL", clean(s, 200))
	}
	if !strings.EqualFold(u.Scheme, "http") {
		return nil, failure.New(failure.Usage, op, "%q must use http: claimcheck listens on a loopback address (RFC 8252 §7.3)", clean(s, 200))
	}
	if u.User != nil {
		return nil, failure.New(failure.Usage, op, "must not carry user information")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, failure.New(failure.Usage, op, "%q must not have a fragment (RFC 6749 §3.1.2)", clean(s, 200))
	}
	// A query would mix with the response's parameters and make a repeated
	// or foreign parameter impossible to tell from the provider's.
	if u.RawQuery != "" || u.ForceQuery {
		return nil, failure.New(failure.Usage, op, "%q must not have a query", clean(s, 200))
	}
	host := strings.ToLower(u.Hostname())
	switch host {
	case "127.0.0.1", "::1", "localhost":
	default:
		return nil, failure.New(failure.Usage, op, "%q is not on a loopback address: use 127.0.0.1, [::1] or localhost", clean(s, 200))
	}
	port := 80
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return nil, failure.New(failure.Usage, op, "%q has an invalid port", clean(s, 200))
		}
		port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, failure.New(failure.Usage, op, "%q has an empty port", clean(s, 200))
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return &loopbackURI{raw: s, u: u, host: host, port: port, path: path}, nil
}

// withPort returns the URI as written, with its port replaced; only used
// when port 0 was asked for, so the string otherwise stays exactly what is
// registered at the provider.
func (l *loopbackURI) withPort(port int) string {
	u := *l.u
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	return u.String()
}

// resolved is a validated Config with its defaults filled in.
type resolved struct {
	rt           responseType
	responseMode string
	modeExplicit bool
	authMethod   string
	redirect     *loopbackURI
}

// Validate checks c without sending anything. Every error it returns has
// class failure.Usage.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

func (c Config) resolve() (*resolved, error) {
	r := &resolved{}
	if c.AuthorizationEndpoint == "" {
		return nil, failure.New(failure.Usage, "authorization endpoint", "missing")
	}
	if err := checkEndpoint("authorization endpoint", c.AuthorizationEndpoint); err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		return nil, failure.New(failure.Usage, "client ID", "missing")
	}
	redirect, err := parseRedirectURI(c.RedirectURI)
	if err != nil {
		return nil, err
	}
	r.redirect = redirect

	rtString := c.ResponseType
	if rtString == "" {
		rtString = "code"
	}
	if r.rt, err = parseResponseType(rtString); err != nil {
		return nil, err
	}
	switch c.ResponseMode {
	case "":
		r.responseMode = modeFragment
		if !r.rt.frontChannelTokens() {
			r.responseMode = modeQuery
		}
	case modeQuery, modeFragment, modeFormPost, modeQueryJWT, modeFragmentJWT, modeFormPostJWT:
		r.responseMode, r.modeExplicit = c.ResponseMode, true
	case modeJWT:
		// JARM section 2.3.4: the response type's default mode, in a JWT.
		r.responseMode, r.modeExplicit = modeFragmentJWT, true
		if !r.rt.frontChannelTokens() {
			r.responseMode = modeQueryJWT
		}
	default:
		return nil, failure.New(failure.Usage, "response mode", "unknown response_mode %q (want query, fragment, form_post, or JARM's jwt, query.jwt, fragment.jwt, form_post.jwt)", clean(c.ResponseMode, 80))
	}
	// JARM section 2.3.1: tokens in a query string, even inside a signed
	// JWT, must not be sent unless the JWT is encrypted, which claimcheck
	// cannot read.
	if r.responseMode == modeQueryJWT && r.rt.frontChannelTokens() {
		return nil, failure.New(failure.Usage, "response mode", "response_mode query.jwt is forbidden with response_type %q, which returns tokens in the front channel, unless the response is encrypted (JARM section 2.3.1); use fragment.jwt or form_post.jwt", r.rt.String())
	}
	// OAuth 2.0 Multiple Response Type Encoding Practices §5: tokens in a
	// query string end up in logs, history and Referer headers.
	if r.responseMode == modeQuery && r.rt.frontChannelTokens() {
		return nil, failure.New(failure.Usage, "response mode", "response_mode query is forbidden with response_type %q, which returns tokens in the front channel (use fragment or form_post)", r.rt.String())
	}
	if r.rt.idToken && !hasScope(c.Scopes, "openid") {
		return nil, failure.New(failure.Usage, "scopes", "response_type %q returns an ID token, which needs the openid scope", r.rt.String())
	}
	for _, s := range c.Scopes {
		if !validScope(s) {
			return nil, failure.New(failure.Usage, "scopes", "%q is not a valid scope (RFC 6749 §3.3: no spaces, quotes or backslashes)", clean(s, 80))
		}
	}
	if err := CheckExtraParams(c.ExtraParams); err != nil {
		return nil, err
	}
	if err := c.checkRichRequest(); err != nil {
		return nil, err
	}
	if c.PushAuthorizationRequest {
		if c.PushedAuthorizationRequestEndpoint == "" {
			return nil, failure.New(failure.Usage, parOp, "asked for, but the provider's metadata has no pushed_authorization_request_endpoint")
		}
		if err := checkEndpoint(parOp, c.PushedAuthorizationRequestEndpoint); err != nil {
			return nil, err
		}
	}
	if r.rt.code {
		if c.TokenEndpoint == "" {
			return nil, failure.New(failure.Usage, "token endpoint", "missing, and response_type %q returns a code to redeem there", r.rt.String())
		}
		if err := checkEndpoint("token endpoint", c.TokenEndpoint); err != nil {
			return nil, err
		}
	}
	if r.authMethod, err = c.resolveAuthMethod(); err != nil {
		return nil, err
	}
	if c.RequestObject {
		if _, err := ResolveRequestObjectAlg(c.ClientKey, nonEmpty(c.RequestObjectAlg)); err != nil {
			return nil, err
		}
		if c.Issuer == "" {
			return nil, failure.New(failure.Usage, requestObjectOp, "no issuer to name as the audience")
		}
	}
	return r, nil
}

// CheckExtraParams checks authorize request parameters meant for
// Config.ExtraParams: none may have an empty name, set a parameter that
// NewRequest sets itself (response_type, client_id, redirect_uri, scope,
// state, nonce, code_challenge, code_challenge_method, response_mode), or
// carry a request object (request, request_uri), whose parameters would
// replace those. Config.Validate calls it; a caller that wants the error
// before anything is sent (before discovery) calls it first. Errors are
// failure.Usage and name the parameter.
func CheckExtraParams(p url.Values) error {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch {
		case k == "":
			return failure.New(failure.Usage, "extra parameters", "a parameter has an empty name")
		case slices.Contains(reservedParams, k):
			return failure.New(failure.Usage, "extra parameters", "%s is set by claimcheck itself", clean(k, 40))
		case slices.Contains(requestObjectParams, k):
			return failure.New(failure.Usage, "extra parameters", "%s is not supported: a request object would replace the state, nonce, redirect URI and PKCE challenge that claimcheck sends and checks", k)
		}
	}
	return nil
}

func (c Config) resolveAuthMethod() (string, error) {
	method, err := ResolveAuthMethod(c.AuthMethod, c.ClientSecret, nil)
	if err != nil {
		return "", err
	}
	if c.ClientKey != nil && method != AuthPrivateKeyJWT && !c.RequestObject && c.ClientCertificate == nil {
		return "", failure.New(failure.Usage, "client authentication", "a client key is set, but the method is %s: a key is used only with private_key_jwt or a request object, or with a client certificate (--client-cert)", method)
	}
	if usesTLSClientAuth(method) && c.ClientCertificate == nil {
		return "", failure.New(failure.Usage, "client authentication", "%s needs a client certificate (--client-cert FILE with its --client-key FILE)", method)
	}
	if usesAssertion(method) {
		// One assertion signed and dropped: a key, algorithm, audience or
		// secret that cannot make one is a usage error before anything is
		// sent.
		c.AuthMethod = method
		if _, err := NewAssertion(c, ""); err != nil {
			return "", err
		}
	}
	return method, nil
}

// AuthMethods are the client authentication methods flow knows, the
// values of Config.AuthMethod, in the order a usage message lists them.
func AuthMethods() []string {
	return []string{authClientSecretBasic, authClientSecretPost, authNone, AuthPrivateKeyJWT, AuthClientSecretJWT, AuthTLSClient, AuthSelfSignedTLSClient}
}

// ResolveAuthMethod picks the client authentication at the token endpoint.
// A method given (client_secret_basic, client_secret_post, none,
// private_key_jwt, client_secret_jwt, tls_client_auth or
// self_signed_tls_client_auth) must agree with whether there is a secret:
// client_secret_jwt needs one, none, private_key_jwt and the two mutual-TLS
// methods take none. All but the secret methods and none must also be
// listed in supported,
// the provider's token_endpoint_auth_methods_supported, when it is not
// empty. Without a method: none for a public client (no secret); else
// client_secret_basic when supported is empty (OpenID Discovery's default)
// or lists it, else client_secret_post when it lists that; a JWT or
// mutual-TLS method is never chosen without being asked for. Config.AuthMethod left empty
// resolves with supported empty.
func ResolveAuthMethod(method, secret string, supported []string) (string, error) {
	const op = "client authentication"
	switch method {
	case "":
		switch {
		case secret == "":
			return authNone, nil
		case len(supported) == 0 || slices.Contains(supported, authClientSecretBasic):
			return authClientSecretBasic, nil
		case slices.Contains(supported, authClientSecretPost):
			return authClientSecretPost, nil
		}
		return "", failure.New(failure.Usage, op, "the provider offers neither client_secret_basic nor client_secret_post (it offers: %s)", clean(strings.Join(supported, ", "), 200))
	case authNone:
		if secret != "" {
			return "", failure.New(failure.Usage, op, "none, but a client secret is set: drop one of them")
		}
	case authClientSecretBasic, authClientSecretPost, AuthClientSecretJWT:
		if secret == "" {
			return "", failure.New(failure.Usage, op, "%s needs a client secret", method)
		}
	case AuthPrivateKeyJWT:
		if secret != "" {
			return "", failure.New(failure.Usage, op, "private_key_jwt signs with the client key, but a client secret is set too: drop one of them")
		}
	case AuthTLSClient, AuthSelfSignedTLSClient:
		// RFC 8705 §2: the certificate is the credential; a secret would
		// authenticate the client a second way.
		if secret != "" {
			return "", failure.New(failure.Usage, op, "%s authenticates with the client certificate, but a client secret is set too: drop one of them", method)
		}
	default:
		return "", failure.New(failure.Usage, op, "unknown method %q (want one of %s)", clean(method, 80), strings.Join(AuthMethods(), ", "))
	}
	if (usesAssertion(method) || usesTLSClientAuth(method)) && len(supported) > 0 && !slices.Contains(supported, method) {
		return "", failure.New(failure.Usage, op, "the provider does not offer %s (its token_endpoint_auth_methods_supported: %s)", method, clean(strings.Join(supported, ", "), 200))
	}
	return method, nil
}

// checkEndpoint refuses an endpoint that is not an absolute http(s) URL
// without a fragment (RFC 6749 §3.1 and §3.2) as failure.Usage: in a Config
// it is the caller's input (see Config), and a discovered one has been
// checked, as the provider's, before it got here.
func checkEndpoint(op, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return failure.New(failure.Usage, op, "%q is not an absolute http(s) URL without a fragment", clean(s, 200))
	}
	return nil
}

func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

// validScope follows RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}
