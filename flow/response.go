package flow

import (
	"crypto/subtle"
	"fmt"
	"net/url"
	"slices"

	"github.com/claimcheck/claimcheck/failure"
)

// Response is an authorization response as the listener received it.
type Response struct {
	// Mode is how it arrived: query, fragment or form_post, with ".jwt"
	// appended for a JARM response, whose Params are then the claims of
	// its verified response JWT. It can differ
	// from the mode asked for (Dex, for one, answers form_post requests
	// with a fragment); the parameters were checked all the same.
	Mode string
	// Params holds each parameter once: a repeated one is refused.
	Params url.Values
}

// Get returns the parameter name, or "" when it is absent.
func (r *Response) Get(name string) string { return r.Params.Get(name) }

const responseOp = "authorization response"

// responseMarkers are the parameters of which an authorization response
// carries at least one. A request to the callback with none of them (a
// reload, a probe) is not a response and does not end the wait.
var responseMarkers = []string{"state", "code", "error", "id_token", "access_token", jarmParam}

// isResponse tells whether raw has any parameter of an authorization
// response; a request to the callback without one is not a response.
func isResponse(raw string) bool {
	_, ok, _ := parseParams(modeQuery, raw)
	return ok
}

// parseParams parses an authorization response's parameters. It returns
// ok=false for something that is not an authorization response at all, and
// an error for a response that is malformed or ambiguous.
func parseParams(mode, raw string) (resp *Response, ok bool, err error) {
	vals, perr := url.ParseQuery(raw)
	for _, m := range responseMarkers {
		if _, has := vals[m]; has {
			ok = true
		}
	}
	if !ok {
		return nil, false, nil
	}
	if perr != nil {
		return nil, true, failure.New(failure.Flow, responseOp, "malformed parameters in the %s: %s", mode, clean(perr.Error(), 100))
	}
	// RFC 6749 §3.1: parameters must not be included more than once; which
	// copy would count is exactly what an injected one relies on.
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if n := len(vals[k]); n > 1 {
			return nil, true, failure.New(failure.Flow, responseOp, "parameter %q appears %d times", clean(k, 40), n)
		}
	}
	return &Response{Mode: mode, Params: vals}, true, nil
}

// checkResponse applies the checks that tie a response to req, in the order
// that keeps untrusted content out: state first, so that nothing from a
// response for another request (not even its error text) is believed.
func checkResponse(req *Request, resp *Response) error {
	p := resp.Params
	state := p.Get("state")
	if state == "" {
		return failure.New(failure.Flow, responseOp, "no state parameter: the response cannot be tied to this run")
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(req.State)) != 1 {
		if p.Has("error") {
			return failure.New(failure.Flow, responseOp, "state does not match this run's; an error response with a foreign state is not trusted")
		}
		return failure.New(failure.Flow, responseOp, "state does not match this run's: the response is not for this request")
	}
	// RFC 9207 §2.4: a present iss must be the issuer; a missing one is
	// tolerated only where the provider does not promise it, or where an ID
	// token (whose own iss is verified) carries it, as oidc-provider does.
	if iss, has := p["iss"]; has {
		if iss[0] != req.Issuer {
			return failure.New(failure.Flow, responseOp, "iss %q is not the issuer %q (RFC 9207): the response may come from another authorization server", clean(iss[0], 200), req.Issuer)
		}
	} else if req.IssParameterSupported && !p.Has("id_token") {
		return failure.New(failure.Flow, responseOp, "no iss parameter, though the provider's metadata says it sends one (RFC 9207)")
	}
	if p.Has("error") {
		if p.Has("code") {
			return failure.New(failure.Flow, responseOp, "the response carries both a code and an error")
		}
		return providerError(p)
	}
	rt, err := parseResponseType(req.ResponseType)
	if err != nil {
		return err
	}
	for _, need := range []struct {
		want  bool
		param string
	}{{rt.code, "code"}, {rt.idToken, "id_token"}, {rt.token, "access_token"}} {
		if need.want && p.Get(need.param) == "" {
			return failure.New(failure.Flow, responseOp, "response_type %q but no %s in the response", req.ResponseType, need.param)
		}
	}
	return nil
}

// providerError shows the provider's error response, all three parameters,
// made safe for a terminal.
func providerError(p url.Values) error {
	msg := fmt.Sprintf("error=%s", clean(p.Get("error"), 64))
	if d := p.Get("error_description"); d != "" {
		msg += fmt.Sprintf(" error_description=%q", clean(d, 300))
	}
	if u := p.Get("error_uri"); u != "" {
		msg += fmt.Sprintf(" error_uri=%q", clean(u, 200))
	}
	return failure.New(failure.Flow, responseOp, "the provider returned %w", &refusal{msg})
}

// refusal marks a provider's own error response, so that the browser is
// told the provider refused rather than that claimcheck did.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }
