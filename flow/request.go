package flow

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/claimcheck/claimcheck/failure"
)

// Request is one authorize request as sent, with the secrets that tie its
// response to it. A Request is used for one run only.
type Request struct {
	// URL is the authorize URL the person's browser is sent to.
	URL           string `json:"url"`
	State         string `json:"state"`
	Nonce         string `json:"nonce"`
	CodeVerifier  string `json:"code_verifier,omitempty"`
	CodeChallenge string `json:"code_challenge,omitempty"`
	// ResponseType is in canonical order ("code id_token token").
	ResponseType string `json:"response_type"`
	// ResponseMode is the mode asked for (JARM's jwt resolved to query.jwt
	// or fragment.jwt), or the response type's default.
	ResponseMode string `json:"response_mode"`
	RedirectURI  string `json:"redirect_uri"`
	// Issuer and IssParameterSupported come from the Config; Listener.Wait
	// uses them for the RFC 9207 iss check.
	Issuer                string `json:"issuer"`
	IssParameterSupported bool   `json:"iss_parameter_supported"`
	// Resources are the resource indicators asked for (RFC 8707).
	Resources []string `json:"resource,omitempty"`
	// AuthorizationDetails is the authorization_details sent (RFC 9396).
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	// RequestURI is the request_uri the pushed authorization request
	// endpoint returned (RFC 9126), which URL carries instead of the
	// parameters; empty when the request was not pushed.
	RequestURI string `json:"request_uri,omitempty"`
	// RequestURIExpiresIn is the request_uri's lifetime in seconds, as the
	// provider stated it.
	RequestURIExpiresIn int64 `json:"request_uri_expires_in,omitempty"`
	// RequestObjectAlg and RequestObjectKeyID are the alg and kid of the
	// request object (RFC 9101) that carries the parameters; both empty
	// when there is none.
	RequestObjectAlg   string `json:"request_object_alg,omitempty"`
	RequestObjectKeyID string `json:"request_object_kid,omitempty"`

	// params are the authorization request's parameters, which Push sends.
	params url.Values
}

// randomBytes is the entropy of state and nonce: 256 bits, twice the
// minimum of RFC 9700 §4.7.1, so that no one ever has to argue about it.
const randomBytes = 32

// NewRequest validates c and builds a fresh request: state and nonce from
// crypto/rand, and for response types with a code a PKCE S256 verifier and
// challenge. The nonce is sent in every flow, the code flow included.
// c.RedirectURI must have a fixed port: a port 0 is resolved by Listen
// (which Run does), whose RedirectURI goes into the Config.
func NewRequest(c Config) (*Request, error) {
	r, err := c.resolve()
	if err != nil {
		return nil, err
	}
	if r.redirect.port == 0 {
		return nil, failure.New(failure.Usage, "redirect URI", "%q has port 0, but an authorize URL needs a fixed port: the provider must know the exact redirect URI", clean(c.RedirectURI, 200))
	}
	req := &Request{
		State:                 randomString(),
		Nonce:                 randomString(),
		ResponseType:          r.rt.String(),
		ResponseMode:          r.responseMode,
		RedirectURI:           c.RedirectURI,
		Issuer:                c.Issuer,
		IssParameterSupported: c.IssParameterSupported,
	}
	q := url.Values{}
	for k, vs := range c.ExtraParams {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("response_type", req.ResponseType)
	q.Set("client_id", c.ClientID)
	q.Set("redirect_uri", c.RedirectURI)
	if len(c.Scopes) > 0 {
		q.Set("scope", strings.Join(c.Scopes, " "))
	}
	q.Set("state", req.State)
	q.Set("nonce", req.Nonce)
	// PKCE binds the code to this client instance; without a code there is
	// nothing to bind, and some providers refuse a challenge they cannot use.
	if r.rt.code {
		req.CodeVerifier = oauth2.GenerateVerifier()
		req.CodeChallenge = oauth2.S256ChallengeFromVerifier(req.CodeVerifier)
		q.Set("code_challenge", req.CodeChallenge)
		q.Set("code_challenge_method", "S256")
	}
	if r.modeExplicit {
		// As asked: jwt stays jwt on the wire, for the provider to resolve.
		q.Set("response_mode", c.ResponseMode)
	}
	if len(c.Resources) > 0 {
		req.Resources = slices.Clone(c.Resources)
		q["resource"] = slices.Clone(c.Resources)
	}
	if c.AuthorizationDetails != "" {
		req.AuthorizationDetails = json.RawMessage(c.AuthorizationDetails)
		q.Set("authorization_details", c.AuthorizationDetails)
	}
	if c.DPoPKey != nil {
		// RFC 9449 §10: binds the code to the key as well.
		q.Set("dpop_jkt", c.DPoPKey.Thumbprint())
	}
	if c.RequestObject {
		jwt, alg, kid, err := signRequestObject(c, q)
		if err != nil {
			return nil, err
		}
		req.RequestObjectAlg, req.RequestObjectKeyID = alg, kid
		// RFC 9126 §3: a pushed request object travels alone.
		req.params = url.Values{"client_id": {c.ClientID}, "request": {jwt}}
		// RFC 9101 §5 lets the provider ignore parameters outside the
		// request object, but OpenID Connect Core §6.1 wants response_type
		// and scope (openid) there too, equal to the object's.
		front := url.Values{"client_id": {c.ClientID}, "request": {jwt}, "response_type": {req.ResponseType}}
		if s := q.Get("scope"); s != "" {
			front.Set("scope", s)
		}
		req.URL = authorizeURL(c.AuthorizationEndpoint, front)
		return req, nil
	}
	req.params = q
	req.URL = authorizeURL(c.AuthorizationEndpoint, q)
	return req, nil
}

// authorizeURL is endpoint with params added to the query it already has
// (the authorization endpoint's own query, such as a policy name, stays).
func authorizeURL(endpoint string, params url.Values) string {
	u, _ := url.Parse(endpoint) // checked by resolve
	q := u.Query()
	for k, vs := range params {
		q[k] = append([]string(nil), vs...)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// randomString returns randomBytes from crypto/rand, base64url without
// padding. crypto/rand.Read does not fail (it aborts the program instead).
func randomString() string {
	b := make([]byte, randomBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clean makes text from an untrusted source fit for a one-line message:
// invalid UTF-8 replaced, control and format characters (newlines, ANSI
// escapes, bidi overrides) dropped, at most max runes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
