package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

const parOp = "pushed authorization request"

// CheckResource checks a resource indicator meant for Config.Resources:
// RFC 8707 §2 wants an absolute URI without a fragment. The error is
// failure.Usage.
func CheckResource(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(s, "#") {
		return failure.New(failure.Usage, "resource", "%q is not an absolute URI without a fragment (RFC 8707 §2)", clean(s, 200))
	}
	return nil
}

// CheckAuthorizationDetails checks s, meant for
// Config.AuthorizationDetails: RFC 9396 §2 wants a JSON array of objects,
// each with a type that is a non-empty string. The error is failure.Usage
// and says what is wrong, never quoting more than the start of s.
func CheckAuthorizationDetails(s string) error {
	const op = "authorization details"
	var details []json.RawMessage
	if err := json.Unmarshal([]byte(s), &details); err != nil {
		return failure.New(failure.Usage, op, "not a JSON array of objects (RFC 9396 §2): %w", err)
	}
	if len(details) == 0 {
		return failure.New(failure.Usage, op, "an empty array asks for nothing (RFC 9396 §2)")
	}
	for i, d := range details {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(d, &obj); err != nil || obj == nil {
			return failure.New(failure.Usage, op, "element %d is not a JSON object (RFC 9396 §2)", i)
		}
		var typ string
		if err := json.Unmarshal(obj["type"], &typ); err != nil || typ == "" {
			return failure.New(failure.Usage, op, "element %d has no type string (RFC 9396 §2)", i)
		}
	}
	return nil
}

// checkRichRequest checks Resources and AuthorizationDetails, and that no
// extra parameter sends either of them a second time.
func (c Config) checkRichRequest() error {
	for _, r := range c.Resources {
		if err := CheckResource(r); err != nil {
			return err
		}
	}
	if len(c.Resources) > 0 && c.ExtraParams.Has("resource") {
		return failure.New(failure.Usage, "extra parameters", "resource is given both as a resource indicator and as an extra parameter: use one")
	}
	if c.AuthorizationDetails != "" {
		if err := CheckAuthorizationDetails(c.AuthorizationDetails); err != nil {
			return err
		}
		if c.ExtraParams.Has("authorization_details") {
			return failure.New(failure.Usage, "extra parameters", "authorization_details is given twice, on its own and as an extra parameter: use one")
		}
	}
	return nil
}

// parResponse is the pushed authorization response (RFC 9126 §2.2).
type parResponse struct {
	RequestURI string      `json:"request_uri"`
	ExpiresIn  json.Number `json:"expires_in"`
}

// Push sends req's authorization parameters (every one NewRequest put in
// the authorize URL: state, nonce, PKCE challenge, redirect URI, scope,
// response type and mode, resources, authorization details, extra
// parameters; with Config.RequestObject, client_id and the signed request
// alone) to c.PushedAuthorizationRequestEndpoint (RFC 9126), with the
// client authentication of the token endpoint (a public client sends its
// client_id in the form). On a 201 answer with a request_uri and an
// expires_in, req.URL becomes the authorization endpoint with client_id
// and request_uri alone, and req.RequestURI and req.RequestURIExpiresIn
// say what the provider answered; req's state, nonce and verifier are
// unchanged, and the response is checked against them as without Push.
//
// A missing endpoint is failure.Usage. An OAuth error answered with a 4xx
// is failure.Flow wrapping *ErrorResponse; any other status (201 is the
// only success), a body without request_uri or expires_in, a network
// failure and a timeout are failure.Provider. On an error req is
// unchanged. Messages never hold the client secret or assertion.
func Push(ctx context.Context, c Config, req *Request) error {
	if req == nil || req.params == nil {
		return failure.New(failure.Usage, parOp, "no request from NewRequest to push")
	}
	if c.PushedAuthorizationRequestEndpoint == "" {
		return failure.New(failure.Usage, parOp, "the provider's metadata has no pushed_authorization_request_endpoint")
	}
	if err := checkEndpoint(parOp, c.PushedAuthorizationRequestEndpoint); err != nil {
		return err
	}
	method, err := c.resolveAuthMethod()
	if err != nil {
		return err
	}
	c.AuthMethod = method
	style := oauth2.AuthStyleInParams
	if method == authClientSecretBasic {
		style = oauth2.AuthStyleInHeader
	}
	sc := clientScrubber(c)
	client, done, err := c.parClient(sc)
	if err != nil {
		return err
	}
	defer done()
	status, body, oerr, err := postFormStatus(ctx, client, c, style, sc, parOp, c.PushedAuthorizationRequestEndpoint, req.params)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		return failure.New(failure.Interrupted, parOp, "interrupted")
	case err != nil && (ctx.Err() != nil || isTimeout(err)):
		return failure.New(failure.Provider, parOp, "no answer in time: %w", httpclient.StripURL(err))
	case err != nil:
		return sc.Error(err)
	case oerr != nil:
		return sc.Error(oerr.failure(parOp))
	case status != http.StatusCreated:
		return failure.New(failure.Provider, parOp, "%s, where RFC 9126 §2.2 answers 201 Created", statusName(status))
	}
	var pr parResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&pr); err != nil {
		return failure.New(failure.Provider, parOp, "status 201 Created, but the response is not JSON with request_uri and expires_in (RFC 9126 §2.2)")
	}
	if pr.RequestURI == "" {
		return failure.New(failure.Provider, parOp, "status 201 Created, but the response has no request_uri (RFC 9126 §2.2)")
	}
	n, err := pr.ExpiresIn.Int64()
	if err != nil || n <= 0 {
		return failure.New(failure.Provider, parOp, "status 201 Created, but the response has no positive expires_in (RFC 9126 §2.2 requires one)")
	}
	req.RequestURI = clean(pr.RequestURI, 2000)
	if req.RequestURI != pr.RequestURI {
		return failure.New(failure.Provider, parOp, "the request_uri has control characters or invalid UTF-8, or is over 2000 characters")
	}
	req.RequestURIExpiresIn = n
	req.URL = authorizeURL(c.AuthorizationEndpoint, url.Values{"client_id": {c.ClientID}, "request_uri": {req.RequestURI}})
	return nil
}

// parClient is the client of pushed authorization requests: c.HTTPClient
// (or a default one with a deadline and a body cap), presenting
// c.ClientCertificate when set, that for
// private_key_jwt and client_secret_jwt, adds a new client assertion to
// every request, registered with sc.
func (c Config) parClient(sc *scrub.Scrubber) (*http.Client, func(), error) {
	done := func() {}
	base := c.HTTPClient
	if base == nil {
		var err error
		if base, err = httpclient.New(httpclient.Options{Timeout: defaultTokenTimeout}); err != nil {
			return nil, nil, failure.Wrap(failure.Usage, parOp, err)
		}
		done = base.CloseIdleConnections
	}
	base, certDone, err := c.certClient(parOp, base)
	if err != nil {
		return nil, nil, err
	}
	if certDone != nil {
		done = certDone
	}
	if !usesAssertion(c.AuthMethod) {
		return base, done, nil
	}
	client := *base
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client.Transport = &assertionTransport{next: next, c: c, sc: sc}
	return &client, done, nil
}

// isTimeout says whether err is a network timeout (an http.Client's
// Timeout, a dial or read deadline).
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// statusName is "status 500 Internal Server Error" for a status code.
func statusName(code int) string {
	return statusText(&http.Response{StatusCode: code})
}
