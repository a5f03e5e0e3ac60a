package flow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
)

// JWT Secured Authorization Response Mode (JARM, OpenID FAPI): the
// response parameters travel as the claims of one signed JWT, the response
// parameter, in the query, the fragment or a form post.
const (
	modeJWT         = "jwt"
	modeQueryJWT    = "query.jwt"
	modeFragmentJWT = "fragment.jwt"
	modeFormPostJWT = "form_post.jwt"
)

// IsJARM reports whether responseMode is one of JARM's: jwt, query.jwt,
// fragment.jwt or form_post.jwt.
func IsJARM(responseMode string) bool {
	switch responseMode {
	case modeJWT, modeQueryJWT, modeFragmentJWT, modeFormPostJWT:
		return true
	}
	return false
}

// ResponseJWTVerifier verifies the response JWT of a JARM response for req
// and returns the authorization response parameters its claims carry. Its
// error ends the run; one without a class is failure.Verification.
type ResponseJWTVerifier func(ctx context.Context, req *Request, responseJWT string) (url.Values, error)

// jarmParam is the one parameter of a JARM response (JARM section 2.3).
const jarmParam = "response"

// jarmState reads the state claim of a response JWT, UNVERIFIED, for one
// purpose only: to tell a response meant for this run from stray traffic
// to the listener before the response is judged. Nothing else of the JWT
// is read here; the verifier checks all of it, state included. readable
// is false for a JWT whose payload cannot be read (an encrypted one, or
// one that is not a JWS at all).
func jarmState(jwt string) (state string, readable bool) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		State string `json:"state"`
	}
	if json.Unmarshal(b, &c) != nil {
		return "", false
	}
	return c.State, true
}

// jarmResponse turns a JARM response, as it arrived in mode (query,
// fragment or form_post), into the authorization response its verified
// JWT carries. A response without the response parameter is refused (its
// parameters are not signed) unless it is an error, which is shown as the
// provider's error, marked as unsigned; any parameter beside the response
// JWT is refused, as nothing vouches for it.
func jarmResponse(ctx context.Context, req *Request, verify ResponseJWTVerifier, mode string, p url.Values) (*Response, error) {
	const op = "JARM response"
	if !p.Has(jarmParam) {
		if p.Has("error") {
			return nil, failure.New(failure.Flow, op, "%w (unsigned: outside a response JWT, though response_mode %s was asked for)", providerError(p), req.ResponseMode)
		}
		return nil, failure.New(failure.Verification, op, "response_mode %s was asked for, but the response has no response parameter: its parameters are not signed, so none is used", req.ResponseMode)
	}
	var extra []string
	for k := range p {
		if k != jarmParam {
			extra = append(extra, clean(k, 40))
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return nil, failure.New(failure.Verification, op, "parameters beside the response JWT (%s): nothing vouches for them, so the response is refused", strings.Join(extra, ", "))
	}
	if verify == nil {
		return nil, failure.New(failure.Usage, op, "no verifier for the response JWT")
	}
	params, err := verify(ctx, req, p.Get(jarmParam))
	if err != nil {
		return nil, failure.Wrap(failure.Verification, op, err)
	}
	for k, vs := range params {
		if len(vs) != 1 {
			return nil, failure.New(failure.Verification, op, "the response JWT gives %s %d times", clean(k, 40), len(vs))
		}
	}
	return &Response{Mode: mode + ".jwt", Params: params}, nil
}
