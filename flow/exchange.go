package flow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

// Tokens are raw tokens, from the token endpoint or from the authorization
// response's front channel. None of them is verified here.
type Tokens struct {
	IDToken      string
	AccessToken  string
	RefreshToken string
	TokenType    string
	Scope        string
	// ExpiresIn is the access token's lifetime in seconds as the provider
	// stated it; 0 when it did not.
	ExpiresIn int64
	// IssuedTokenType is a token exchange response's issued_token_type
	// (RFC 8693 §2.2.1), which says what AccessToken holds; empty for
	// the other grants, and when the provider left it out.
	IssuedTokenType string
}

// Bearer says whether the access token may be sent as a bearer token
// (RFC 6750), to userinfo for one: when token_type is "Bearer", compared
// case-insensitively (RFC 6749 §5.1 and §7.1). A token of another type
// (DPoP, RFC 9449, or N_A, or anything else) may not, and note says so. A
// response without token_type breaks RFC 6749 §4.2.2 and §5.1; it is taken
// as Bearer, as golang.org/x/oauth2 does, with a note. Note is one line,
// its provider-given part cleaned, and "" for a plain Bearer token or when
// there is no access token.
func (t Tokens) Bearer() (ok bool, note string) {
	switch {
	case t.AccessToken == "":
		return false, ""
	case strings.EqualFold(t.TokenType, "bearer"):
		return true, ""
	case t.TokenType == "":
		return true, "the response has no token_type (RFC 6749 requires one); the access token was taken as a Bearer token"
	}
	return false, fmt.Sprintf("token_type %q is not Bearer: the access token cannot be sent as a bearer token (RFC 6750)", clean(t.TokenType, 40))
}

const tokenOp = "token endpoint"

// defaultTokenTimeout bounds a token request when Config.HTTPClient is nil.
const defaultTokenTimeout = 10 * time.Second

// Exchange redeems code at c.TokenEndpoint with req's PKCE verifier and
// redirect URI, in exactly one request: client_secret_basic sends the
// client in an Authorization header, client_secret_post and public clients
// (none) in the form.
//
// An OAuth error answered with a 4xx status (invalid_grant, invalid_client,
// ...) is failure.Flow and shows the error code and description. A 5xx, a
// 4xx without an OAuth error, a 200 that is not a token response, and a
// network failure are failure.Provider naming the status; no response body
// appears in any message, and what the provider says is shown without the
// code, the verifier and the client secret this request sent (a provider
// that echoes its request in error_description would show them).
func Exchange(ctx context.Context, c Config, req *Request, code string) (*Tokens, error) {
	if c.TokenEndpoint == "" {
		return nil, failure.New(failure.Usage, tokenOp, "missing")
	}
	if err := checkEndpoint(tokenOp, c.TokenEndpoint); err != nil {
		return nil, err
	}
	method, err := c.resolveAuthMethod()
	if err != nil {
		return nil, err
	}
	if req == nil || req.CodeVerifier == "" {
		return nil, failure.New(failure.Usage, tokenOp, "the request has no PKCE verifier to send with the code")
	}
	if code == "" {
		return nil, failure.New(failure.Flow, tokenOp, "no code to redeem")
	}
	// AuthStyleInParams for public clients: with auto-detection x/oauth2
	// first sends HTTP Basic with an empty secret, and strict providers
	// answer that with an error before the second try.
	style := oauth2.AuthStyleInParams
	if method == authClientSecretBasic {
		style = oauth2.AuthStyleInHeader
	}
	conf := oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.formSecret(method),
		Endpoint:     oauth2.Endpoint{TokenURL: c.TokenEndpoint, AuthStyle: style},
		RedirectURL:  req.RedirectURI,
	}
	sc := clientScrubber(c)
	c.AuthMethod = method
	client, rec, done, err := c.tokenClient(sc)
	if err != nil {
		return nil, err
	}
	defer done()
	sc.Add(scrub.Code, code)
	sc.Add(scrub.CodeVerifier, req.CodeVerifier)
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), code, oauth2.VerifierOption(req.CodeVerifier))
	if err != nil {
		return nil, sc.Error(tokenError(ctx, err, rec, sc))
	}
	return tokensOf(tok), nil
}

// formSecret is the secret x/oauth2 is given to send: none for the methods
// that send a client assertion instead.
func (c Config) formSecret(method string) string {
	if usesAssertion(method) {
		return ""
	}
	return c.ClientSecret
}

// tokenClient is recordingClient's client, presenting c.ClientCertificate
// when set, which for c.AuthMethod private_key_jwt or client_secret_jwt
// also adds a new client assertion to every request, and with c.DPoPKey a
// DPoP proof, both registered with sc.
func (c Config) tokenClient(sc *scrub.Scrubber) (client *http.Client, rec *recorder, done func(), err error) {
	base, certDone, err := c.certClient(tokenOp, c.HTTPClient)
	if err != nil {
		return nil, nil, nil, err
	}
	client, rec, done, err = recordingClient(base)
	if err != nil {
		return client, rec, done, err
	}
	if certDone != nil {
		done = certDone
	}
	if usesAssertion(c.AuthMethod) {
		client.Transport = &assertionTransport{next: client.Transport, c: c, sc: sc}
	}
	// Outermost, so that a request sent again with a DPoP nonce gets a
	// new client assertion too.
	return c.dpopClient(client, sc), rec, done, nil
}

// certClient is base presenting c.ClientCertificate (httpclient
// WithCertificate), with the function that closes its connections once
// the request is over; base itself, and a nil function, without one.
func (c Config) certClient(op string, base *http.Client) (*http.Client, func(), error) {
	if c.ClientCertificate == nil {
		return base, nil, nil
	}
	client, err := httpclient.WithCertificate(base, c.ClientCertificate.TLSCertificate())
	if err != nil {
		return nil, nil, failure.Wrap(failure.Usage, op, err)
	}
	return client, client.CloseIdleConnections, nil
}

// clientScrubber is a Scrubber that knows the client's secret in every
// form a token request sends it: in the form body and as HTTP Basic.
func clientScrubber(c Config) *scrub.Scrubber {
	sc := &scrub.Scrubber{}
	sc.AddBasic(c.ClientID, c.ClientSecret)
	return sc
}

// recordingClient returns a copy of base (or of a default client with a
// deadline and a body cap when base is nil) whose transport records the
// token endpoint's status for tokenError. The caller calls done when the
// request is over: a client made for one call must not leave its
// kept-alive connection behind.
func recordingClient(base *http.Client) (client *http.Client, rec *recorder, done func(), err error) {
	done = func() {}
	if base == nil {
		if base, err = httpclient.New(httpclient.Options{Timeout: defaultTokenTimeout}); err != nil {
			return nil, nil, nil, failure.Wrap(failure.Usage, tokenOp, err)
		}
		done = base.CloseIdleConnections
	}
	rec = &recorder{}
	c := *base
	rec.next = c.Transport
	if rec.next == nil {
		rec.next = http.DefaultTransport
	}
	c.Transport = rec
	return &c, rec, done, nil
}

// tokensOf turns x/oauth2's token response into Tokens.
func tokensOf(tok *oauth2.Token) *Tokens {
	t := &Tokens{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.TokenType,
		ExpiresIn:    tok.ExpiresIn,
	}
	t.IDToken, _ = tok.Extra("id_token").(string)
	t.Scope, _ = tok.Extra("scope").(string)
	if t.ExpiresIn == 0 && !tok.Expiry.IsZero() {
		t.ExpiresIn = int64(time.Until(tok.Expiry).Round(time.Second) / time.Second)
	}
	return t
}

// tokenError classes a failed token request. sc scrubs the provider's
// error text before it is cut and quoted, so that neither a cut nor an
// escape leaves part of a secret behind.
func tokenError(ctx context.Context, err error, rec *recorder, sc *scrub.Scrubber) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return failure.New(failure.Interrupted, tokenOp, "interrupted: %w", ctx.Err())
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := rec.statusText()
		if re.Response != nil {
			status = statusText(re.Response)
		}
		code := clean(sc.String(re.ErrorCode), 64)
		if code != "" && (re.Response == nil || re.Response.StatusCode < 500) {
			msg := fmt.Sprintf("%s: error=%s", status, code)
			if re.ErrorDescription != "" {
				msg += fmt.Sprintf(" error_description=%q", clean(sc.String(re.ErrorDescription), 300))
			}
			if re.ErrorURI != "" {
				msg += fmt.Sprintf(" error_uri=%q", clean(sc.String(re.ErrorURI), 200))
			}
			return failure.New(failure.Flow, tokenOp, "%w", &ErrorResponse{Code: code, msg: msg})
		}
		if code != "" {
			return failure.New(failure.Provider, tokenOp, "%s (error=%s)", status, code)
		}
		return failure.New(failure.Provider, tokenOp, "%s, and no OAuth error in the response", status)
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		return fe
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return failure.New(failure.Provider, tokenOp, "timed out: %w", httpclient.StripURL(err))
		}
		return failure.New(failure.Provider, tokenOp, "%w", httpclient.StripURL(err))
	}
	if status, readErr, ok := rec.result(); ok {
		if readErr != nil {
			return failure.New(failure.Provider, tokenOp, "%s: reading the response: %w", status, httpclient.StripURL(readErr))
		}
		return failure.New(failure.Provider, tokenOp, "%s, but the response is not a token response (JSON with an access_token)", status)
	}
	return failure.New(failure.Provider, tokenOp, "%w", httpclient.StripURL(err))
}

// recorder remembers the token endpoint's status and any error reading its
// body: x/oauth2 reports a 200 with an unusable body as a plain error that
// carries neither (and, for JSON errors, nothing we may show).
type recorder struct {
	next http.RoundTripper

	mu      sync.Mutex
	status  string
	seen    bool
	readErr error
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// x/oauth2 reads at most 1 MiB and parses what it got, so a larger
	// body would fail as "not a token response" (truncated JSON) rather
	// than as what it is. Read it here, capped, and say so.
	body, readErr := io.ReadAll(io.LimitReader(&recordedBody{ReadCloser: resp.Body, r: r}, maxTokenResponse+1))
	resp.Body.Close()
	if readErr == nil && len(body) > maxTokenResponse {
		readErr = fmt.Errorf("response body is too large (over %d bytes)", maxTokenResponse)
		body = nil
	}
	r.mu.Lock()
	r.status, r.seen = statusText(resp), true
	if r.readErr == nil {
		r.readErr = readErr
	}
	r.mu.Unlock()
	if readErr != nil {
		return nil, failure.New(failure.Provider, tokenOp, "%s: reading the response: %w", statusText(resp), httpclient.StripURL(readErr))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// maxTokenResponse is the largest token response read: x/oauth2's own cap.
const maxTokenResponse = 1 << 20

func (r *recorder) result() (status string, readErr error, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.readErr, r.seen
}

func (r *recorder) statusText() string {
	s, _, ok := r.result()
	if !ok {
		return "no response"
	}
	return s
}

type recordedBody struct {
	io.ReadCloser
	r *recorder
}

func (b *recordedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.r.mu.Lock()
		if b.r.readErr == nil {
			b.r.readErr = err
		}
		b.r.mu.Unlock()
	}
	return n, err
}

// statusText is "status 500 Internal Server Error", without the body.
func statusText(resp *http.Response) string {
	text := http.StatusText(resp.StatusCode)
	if text == "" {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return fmt.Sprintf("status %d %s", resp.StatusCode, text)
}
