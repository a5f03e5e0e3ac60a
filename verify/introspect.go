package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
)

// IntrospectOptions authenticate the client at the introspection endpoint.
type IntrospectOptions struct {
	ClientID, ClientSecret string
	// AuthMethod is client_secret_basic (the default) or client_secret_post.
	AuthMethod string
	// AuthParams, when set, authenticates the client instead of the
	// secret: the form parameters it returns (a new client assertion of
	// private_key_jwt or client_secret_jwt, from flow.ClientAssertionParams)
	// are sent, and no Authorization header. Its error is returned as is.
	AuthParams func() (url.Values, error)
}

// Introspect asks the provider's introspection endpoint (RFC 7662) about an
// access token, authenticating with the client secret, and returns the
// response's members, "active" among them. It is how a client learns about
// a token it cannot verify itself, such as an Okta org authorization
// server's access token. An inactive token is not an error here: the
// caller decides. A missing endpoint or secret is failure.Usage; a refusal
// of the client (401, 403) is failure.Flow; another status or a body that
// is not a JSON object with a boolean active is failure.Provider.
func (p *Provider) Introspect(ctx context.Context, token string, o IntrospectOptions) (map[string]any, error) {
	const op = "introspection"
	endpoint := p.meta.IntrospectionEndpoint
	switch {
	case endpoint == "":
		return nil, failure.New(failure.Usage, op, "the provider advertises no introspection_endpoint")
	case o.ClientID == "" || (o.ClientSecret == "" && o.AuthParams == nil):
		return nil, failure.New(failure.Usage, op, "introspection needs the client id and secret")
	case token == "":
		return nil, failure.New(failure.Usage, op, "no token to introspect")
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	switch {
	case o.AuthParams != nil:
		params, err := o.AuthParams()
		if err != nil {
			return nil, err
		}
		for k, v := range params {
			form[k] = v
		}
	case o.AuthMethod == "client_secret_post":
		form.Set("client_id", o.ClientID)
		form.Set("client_secret", o.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, failure.New(failure.Usage, op, "%w", httpclient.StripURL(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if o.AuthParams == nil && o.AuthMethod != "client_secret_post" {
		// RFC 6749 section 2.3.1: form-encode before Basic.
		req.SetBasicAuth(url.QueryEscape(o.ClientID), url.QueryEscape(o.ClientSecret))
	}
	res, err := send(p.client, req)
	if err != nil {
		return nil, fetchFailure(ctx, op, endpoint, err)
	}
	where := displayURL(endpoint)
	if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden {
		return nil, failure.New(failure.Flow, op, "%s: status %d%s: the client was refused (check the client secret and the client authentication method)", where, res.status, oauthError(res))
	}
	if err := res.wantJSON(); err != nil {
		return nil, failure.New(failure.Provider, op, "%s: %w", where, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(res.body, &claims); err != nil {
		return nil, failure.New(failure.Provider, op, "%s: %w", where, jsonProblem("response", err))
	}
	if _, ok := claims["active"].(bool); !ok {
		return nil, failure.New(failure.Provider, op, "%s: the response has no boolean active member", where)
	}
	return claims, nil
}

// oauthError is " (CODE)" for an RFC 6749 5.2 error body or a Bearer
// challenge, "" otherwise. Only the code is shown, never a description.
func oauthError(res *response) string {
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(res.body, &body) == nil && oauthErrorCode.MatchString(body.Error) {
		return " (" + body.Error + ")"
	}
	return bearerError(res.header)
}

// oauthErrorCode is an error code as RFC 6749 defines them, bounded.
var oauthErrorCode = regexp.MustCompile(`^[A-Za-z_]{1,40}$`)
