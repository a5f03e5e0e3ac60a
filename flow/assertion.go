package flow

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

// Client authentication by a JWT (RFC 7523 §2.2, OpenID Connect Core §9).
const (
	// AuthPrivateKeyJWT signs the client assertion with the client's
	// private key (Config.ClientKey).
	AuthPrivateKeyJWT = "private_key_jwt"
	// AuthClientSecretJWT signs it with HMAC keyed by the client secret.
	AuthClientSecretJWT = "client_secret_jwt"
	// ClientAssertionType is the client_assertion_type sent with either.
	ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// The audiences a client assertion may name (Config.AssertionAudience).
const (
	// AssertionAudienceEndpoint, the default, is the URL of the endpoint
	// the assertion is sent to: the token endpoint's for token requests
	// (OpenID Connect Core §9), the pushed authorization request or
	// introspection endpoint's for those. Okta requires that on every
	// endpoint, and RFC 9126 §2 makes an authorization server accept the
	// PAR endpoint's URL.
	AssertionAudienceEndpoint = "endpoint"
	// AssertionAudienceTokenEndpoint is the token endpoint's URL on every
	// request, for a provider that accepts no other URL.
	AssertionAudienceTokenEndpoint = "token_endpoint"
	// AssertionAudienceIssuer is the issuer identifier, which RFC 7523
	// also allows and some providers (zitadel) require.
	AssertionAudienceIssuer = "issuer"
)

// AssertionAudiences are the values Config.AssertionAudience takes (empty
// means AssertionAudienceEndpoint), for a caller that checks one before
// any Config exists.
func AssertionAudiences() []string {
	return []string{AssertionAudienceEndpoint, AssertionAudienceTokenEndpoint, AssertionAudienceIssuer}
}

// AssertionLifetime is how long a client assertion is valid: it is sent at
// once and only once, and a short life bounds the harm of one that leaks.
const AssertionLifetime = 60 * time.Second

// asymmetricAlgs and hmacAlgs are the JWS algorithms each method may use;
// none is never one of them.
var (
	asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	hmacAlgs       = []string{"HS256", "HS384", "HS512"}
)

// usesAssertion says whether method authenticates with a client assertion.
func usesAssertion(method string) bool {
	return method == AuthPrivateKeyJWT || method == AuthClientSecretJWT
}

// ResolveAssertionAlg picks the JWS algorithm of the client assertions of
// method (private_key_jwt or client_secret_jwt) from supported, the
// provider's token_endpoint_auth_signing_alg_values_supported: the first
// one listed that key can sign with (private_key_jwt) or the first HMAC
// one (client_secret_jwt). With nothing listed it is RS256 for an RSA
// key, the key's own algorithm for another key (ES256 for P-256, EdDSA),
// and HS256 for client_secret_jwt. none and the HMAC algorithms are never
// used with a private key. An algorithm that cannot be chosen is a
// failure.Usage error naming the key file and what the provider offers.
func ResolveAssertionAlg(method string, key *ClientKey, supported []string) (string, error) {
	const op = "client assertion"
	switch method {
	case AuthPrivateKeyJWT:
		if key == nil {
			return "", failure.New(failure.Usage, op, "private_key_jwt needs a private key (--client-key FILE)")
		}
		can := key.Algorithms()
		if len(supported) == 0 {
			return can[0], nil
		}
		for _, a := range supported {
			if slices.Contains(can, a) {
				return a, nil
			}
		}
		usable := slices.DeleteFunc(slices.Clone(supported), func(a string) bool { return !slices.Contains(asymmetricAlgs, a) })
		if len(usable) == 0 {
			return "", failure.New(failure.Usage, op, "the provider's token_endpoint_auth_signing_alg_values_supported (%s) has no asymmetric algorithm, so private_key_jwt cannot be used with it", clean(strings.Join(supported, ", "), 200))
		}
		return "", keyError(key.File, "is %s, which signs %s; the provider accepts %s (token_endpoint_auth_signing_alg_values_supported)",
			key.kind(), strings.Join(can, ", "), clean(strings.Join(usable, ", "), 200))
	case AuthClientSecretJWT:
		if len(supported) == 0 {
			return "HS256", nil
		}
		for _, a := range supported {
			if slices.Contains(hmacAlgs, a) {
				return a, nil
			}
		}
		return "", failure.New(failure.Usage, op, "the provider's token_endpoint_auth_signing_alg_values_supported (%s) has no HMAC algorithm (HS256, HS384, HS512) for client_secret_jwt", clean(strings.Join(supported, ", "), 200))
	}
	return "", failure.New(failure.Usage, op, "%s does not use a client assertion", clean(method, 40))
}

// Assertion is one signed client assertion and what it says.
type Assertion struct {
	// JWT is the compact serialization, sent as client_assertion.
	JWT string
	// Alg and KeyID are the header's alg and kid (KeyID may be empty).
	Alg, KeyID string
	// Audience is the aud claim.
	Audience string
	// ID is the jti claim: 128 random bits.
	ID string
	// IssuedAt and Expiry are iat and exp.
	IssuedAt, Expiry time.Time
}

// assertionAudience is the aud c's assertions name when sent to endpoint
// (empty: the token endpoint).
func (c Config) assertionAudience(endpoint string) (string, error) {
	switch c.AssertionAudience {
	case "", AssertionAudienceEndpoint:
		if endpoint != "" {
			return endpoint, nil
		}
		fallthrough
	case AssertionAudienceTokenEndpoint:
		if c.TokenEndpoint == "" {
			return "", failure.New(failure.Usage, "client assertion", "no token endpoint to name as the audience")
		}
		return c.TokenEndpoint, nil
	case AssertionAudienceIssuer:
		if c.Issuer == "" {
			return "", failure.New(failure.Usage, "client assertion", "no issuer to name as the audience")
		}
		return c.Issuer, nil
	}
	return "", failure.New(failure.Usage, "client assertion audience", "unknown %q (want %s)", clean(c.AssertionAudience, 40), strings.Join(AssertionAudiences(), ", "))
}

// NewAssertion signs a new client assertion for c (whose AuthMethod is
// private_key_jwt or client_secret_jwt) to send to endpoint (empty: the
// token endpoint): iss and sub the client id, aud endpoint, the token
// endpoint or the issuer (Config.AssertionAudience), a fresh
// jti, iat now and exp AssertionLifetime later, signed with
// Config.AssertionAlg (ResolveAssertionAlg's choice when empty). Errors
// are failure.Usage.
func NewAssertion(c Config, endpoint string) (*Assertion, error) {
	alg, err := ResolveAssertionAlg(c.AuthMethod, c.ClientKey, nonEmpty(c.AssertionAlg))
	if err != nil {
		return nil, err
	}
	aud, err := c.assertionAudience(endpoint)
	if err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		return nil, failure.New(failure.Usage, "client assertion", "no client ID")
	}
	var sk jose.SigningKey
	kid := ""
	switch c.AuthMethod {
	case AuthPrivateKeyJWT:
		kid = c.ClientKey.KeyID
		sk = jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: c.ClientKey.signer}
	default:
		if c.ClientSecret == "" {
			return nil, failure.New(failure.Usage, "client assertion", "client_secret_jwt needs a client secret")
		}
		// RFC 7518 §3.2: an HMAC key at least as long as the hash.
		if need := hmacKeyBytes(alg); len(c.ClientSecret) < need {
			return nil, failure.New(failure.Usage, "client assertion", "the client secret has %d bytes, too short for %s, which needs at least %d (RFC 7518 §3.2)", len(c.ClientSecret), alg, need)
		}
		sk = jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: []byte(c.ClientSecret)}
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	signer, err := jose.NewSigner(sk, opts)
	if err != nil {
		return nil, failure.New(failure.Usage, "client assertion", "cannot sign with %s: %w", alg, err)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, failure.New(failure.Usage, "client assertion", "random jti: %w", err)
	}
	now := time.Now()
	a := &Assertion{
		Alg: alg, KeyID: kid, Audience: aud, ID: base64.RawURLEncoding.EncodeToString(id),
		IssuedAt: now.Truncate(time.Second), Expiry: now.Add(AssertionLifetime).Truncate(time.Second),
	}
	claims := jwt.Claims{
		Issuer: c.ClientID, Subject: c.ClientID, Audience: jwt.Audience{aud}, ID: a.ID,
		IssuedAt: jwt.NewNumericDate(a.IssuedAt), Expiry: jwt.NewNumericDate(a.Expiry),
	}
	if a.JWT, err = jwt.Signed(signer).Claims(claims).Serialize(); err != nil {
		return nil, failure.New(failure.Usage, "client assertion", "signing: %w", err)
	}
	return a, nil
}

func hmacKeyBytes(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// ClientAssertionParams returns the form parameters that authenticate c's
// client with a new assertion for endpoint (client_id,
// client_assertion_type and client_assertion), for a request flow does not
// make itself, such as introspection. It calls c.OnClientAssertion with the
// assertion. Errors are NewAssertion's.
func ClientAssertionParams(c Config, endpoint string) (url.Values, error) {
	a, err := NewAssertion(c, endpoint)
	if err != nil {
		return nil, err
	}
	if c.OnClientAssertion != nil {
		c.OnClientAssertion(a.JWT)
	}
	return url.Values{
		"client_id":             {c.ClientID},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {a.JWT},
	}, nil
}

// assertionTransport adds a new client assertion to the form of every
// request it carries: golang.org/x/oauth2 knows only secrets, and a new
// assertion per request keeps each jti unique even when a request is sent
// again. The assertion is registered with sc before the request leaves.
type assertionTransport struct {
	next http.RoundTripper
	c    Config
	sc   *scrub.Scrubber
}

func (t *assertionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the request form: %w", err)
		}
		body = b
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("the request form: %w", err)
	}
	// The URL called, without its query: what "the endpoint invoked"
	// means to Okta, as htu does for DPoP (RFC 9449 §4.2).
	u := *req.URL
	u.RawQuery, u.Fragment = "", ""
	params, err := ClientAssertionParams(t.c, u.String())
	if err != nil {
		return nil, err
	}
	t.sc.Add(scrub.Assertion, params.Get("client_assertion"))
	// Never a secret beside the assertion: client_secret_jwt proves the
	// secret without sending it.
	form.Del("client_secret")
	for k, v := range params {
		form[k] = v
	}
	enc := form.Encode()
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	r.Body = io.NopCloser(strings.NewReader(enc))
	r.ContentLength = int64(len(enc))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(enc))), nil }
	return t.next.RoundTrip(r)
}
