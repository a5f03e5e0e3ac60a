package verify

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// ResponseJWTOptions say what a JARM response JWT is checked against.
type ResponseJWTOptions struct {
	// ClientID must be among the response JWT's audiences.
	ClientID string
	// State is the state sent in the authorization request; the response
	// JWT must carry the same.
	State string
	// ClockSkew is allowed on exp and nbf.
	ClockSkew time.Duration
	// Now is the current time; nil means time.Now.
	Now func() time.Time
}

// ResponseJWT is a verified JWT secured authorization response (JARM): the
// token, and the authorization response parameters its claims carry.
type ResponseJWT struct {
	Token
	// Params are the claims that are authorization response parameters
	// (state, code, error, error_description, iss, id_token, ...), each
	// once; the JWT's own claims aud, exp, iat, nbf and jti are not among
	// them.
	Params url.Values
}

// jwtOnlyClaims are the claims of a response JWT that protect the JWT
// itself rather than being parameters of the response (JARM section 2.1).
var jwtOnlyClaims = []string{"aud", "exp", "iat", "nbf", "jti"}

// VerifyResponseJWT verifies the response parameter of a JARM
// authorization response (JWT Secured Authorization Response Mode, OpenID
// FAPI, sections 2 and 4.4) before anything in it is used: compact form and
// header (see Parse), an algorithm from the provider's
// authorization_signing_alg_values_supported (RS256 when it lists none;
// never none or HS*), the signature against the provider's JWKS, iss the
// issuer, aud holding the client, exp present and not past with the skew,
// nbf when present, and state the run's. An encrypted response (JWE) is
// refused, as claimcheck holds no client decryption key.
//
// Errors are failure.Verification, except an unreachable or broken JWKS
// (failure.Provider) and options that cannot be right (failure.Usage).
func (p *Provider) VerifyResponseJWT(ctx context.Context, raw string, o ResponseJWTOptions) (*ResponseJWT, error) {
	const op = "response JWT"
	switch {
	case o.ClientID == "":
		return nil, failure.New(failure.Usage, op, "no client ID to check aud against")
	case o.State == "":
		return nil, failure.New(failure.Usage, op, "no state to compare")
	}
	if strings.Count(raw, ".") == 4 {
		return nil, failure.New(failure.Verification, op, "the response is encrypted (a JWE, JARM section 2.2): claimcheck holds no client decryption key, so it cannot read it; register the client without authorization_encrypted_response_alg to get signed responses")
	}
	tok := Parse(raw)
	if tok.err != nil {
		return nil, failure.New(failure.Verification, op, "%w", tok.err)
	}
	t := tok.t
	if err := algProblem(t.alg, p.responseAlgs, p.meta.AuthorizationSigningAlgValuesSupported, "authorization_signing_alg_values_supported"); err != nil {
		return nil, failure.New(failure.Verification, op, "%w", err)
	}
	if p.keys == nil {
		return nil, failure.New(failure.Verification, op, "the provider publishes no jwks_uri, so its signature cannot be checked")
	}
	if err := p.signature(ctx, t); err != nil {
		return nil, failure.Wrap(failure.Verification, op, err)
	}
	params, err := p.checkResponseClaims(t.claims, o)
	if err != nil {
		return nil, failure.New(failure.Verification, op, "%w", err)
	}
	return &ResponseJWT{Token: Token{Raw: raw, Header: t.header, claims: t.claims}, Params: params}, nil
}

// checkResponseClaims checks the claims of JARM section 2.1 and returns
// the response parameters among them.
func (p *Provider) checkResponseClaims(c *claimSet, o ResponseJWTOptions) (url.Values, error) {
	if err := p.checkIssuer(c); err != nil {
		return nil, err
	}
	aud, err := audienceOf(c, nil)
	if err != nil {
		return nil, err
	}
	if !aud.contains(o.ClientID) {
		return nil, fmt.Errorf("aud %s does not include the client %s", quoteList(aud.list()), quote(o.ClientID))
	}
	at, skew := now(o.Now), max(o.ClockSkew, 0)
	exp, has, err := numericDate(c, "exp")
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, errors.New("exp is missing (JARM section 2.1 requires it)")
	}
	if !at.Before(exp.Add(skew)) {
		return nil, fmt.Errorf("expired at %s (now %s, clock skew allowance %s)", stamp(exp), stamp(at), skew)
	}
	nbf, has, err := numericDate(c, "nbf")
	if err != nil {
		return nil, err
	}
	if has && nbf.After(at.Add(skew)) {
		return nil, fmt.Errorf("not valid before %s (nbf; now %s, clock skew allowance %s)", stamp(nbf), stamp(at), skew)
	}
	state, has, err := stringClaim(c, "state")
	if err != nil {
		return nil, err
	}
	if !has || state == "" {
		return nil, errors.New("no state claim: the response cannot be tied to this run")
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(o.State)) != 1 {
		return nil, errors.New("state does not match this run's: the response is not for this request")
	}
	params := url.Values{}
	for name, v := range c.Map() {
		if slices.Contains(jwtOnlyClaims, name) {
			continue
		}
		s, err := paramValue(name, v)
		if err != nil {
			return nil, err
		}
		params.Set(name, s)
	}
	return params, nil
}

// paramValue is a claim as the query parameter it stands for: a string, or
// a number such as expires_in, which some providers send as a JSON number.
func paramValue(name string, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("claim %s is not a string or number, so it is no authorization response parameter", quote(name))
}
