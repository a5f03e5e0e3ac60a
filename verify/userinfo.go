package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
)

// UserInfo reads the userinfo endpoint with accessToken as a bearer token
// and returns its claims. The response may be JSON or a JWT signed with the
// issuer's keys (Content-Type application/jwt); a signed one is verified
// and, when it carries iss, that must be the issuer.
//
// subject is the sub of the run's ID token: the userinfo sub must equal it
// (OpenID Connect Core 5.3.4), since otherwise the claims may be another
// user's. An empty subject means there is no ID token to compare with (an
// OAuth-only response type); sub must still be present.
//
// A missing or differing sub or a signature that does not verify is a
// failure.Verification error; a 401 or 403 (the bearer token refused) is a
// failure.Flow error; a missing endpoint, an unreachable one, another
// non-200 status or a body that is not JSON is a failure.Provider error.
func (p *Provider) UserInfo(ctx context.Context, accessToken, subject string) (map[string]any, error) {
	return p.userInfo(ctx, p.client, "Bearer", accessToken, subject)
}

// UserInfoDPoP is UserInfo for a DPoP-bound access token (RFC 9449 §7.1):
// the token goes as "Authorization: DPoP", through the provider's client
// with its transport wrapped by wrap, which adds the proof (see
// flow.DPoPKey.DPoPTransport).
func (p *Provider) UserInfoDPoP(ctx context.Context, wrap func(http.RoundTripper) http.RoundTripper, accessToken, subject string) (map[string]any, error) {
	c := *p.client
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = wrap(next)
	return p.userInfo(ctx, &c, "DPoP", accessToken, subject)
}

func (p *Provider) userInfo(ctx context.Context, client *http.Client, scheme, accessToken, subject string) (map[string]any, error) {
	const op = "userinfo"
	endpoint := p.meta.UserinfoEndpoint
	if endpoint == "" {
		return nil, failure.New(failure.Provider, op, "the provider advertises no userinfo_endpoint")
	}
	if accessToken == "" {
		return nil, failure.New(failure.Usage, op, "no access token to present")
	}
	where := displayURL(endpoint)
	res, err := get(ctx, client, endpoint, map[string]string{
		"Accept":        "application/json, application/jwt",
		"Authorization": scheme + " " + accessToken,
	})
	if err != nil {
		return nil, fetchFailure(ctx, op, endpoint, err)
	}
	if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden {
		// RFC 6750 3.1: the bearer token was refused (invalid_token,
		// insufficient_scope): the run's token, not the provider, is at
		// fault.
		return nil, failure.New(failure.Flow, op, "%s: status %d%s: the access token was refused", where, res.status, bearerError(res.header))
	}
	if res.status != http.StatusOK {
		return nil, failure.New(failure.Provider, op, "%s: status %d%s", where, res.status, bearerError(res.header))
	}

	var claims map[string]any
	if res.mediaType() == "application/jwt" {
		claims, err = p.signedUserInfo(ctx, strings.TrimSpace(string(res.body)))
		if err != nil {
			return nil, failure.Wrap(failure.Verification, op, err)
		}
	} else {
		if err := res.wantJSON(); err != nil {
			return nil, failure.New(failure.Provider, op, "%s: %w", where, err)
		}
		if err := json.Unmarshal(res.body, &claims); err != nil {
			return nil, failure.New(failure.Provider, op, "%s: %w", where, jsonProblem("response", err))
		}
	}

	sub, has, err := stringClaim(mapClaims(claims), "sub")
	switch {
	case err != nil:
		return nil, failure.New(failure.Verification, op, "%w", err)
	case !has || sub == "":
		return nil, failure.New(failure.Verification, op, "sub is missing")
	case subject != "" && sub != subject:
		return nil, failure.New(failure.Verification, op, "sub %s does not match the ID token's sub %s", quote(sub), quote(subject))
	}
	return claims, nil
}

// signedUserInfo verifies a userinfo response in JWT form. Its aud (the
// client) is not checked: UserInfo is not told the client ID, and the
// response answers this run's own bearer token over a connection the run
// opened.
func (p *Provider) signedUserInfo(ctx context.Context, raw string) (map[string]any, error) {
	tok := Parse(raw)
	if tok.err != nil {
		return nil, fmt.Errorf("the signed response: %w", tok.err)
	}
	t := tok.t
	if err := algProblem(t.alg, p.userinfoAlgs, p.userinfoAdvertised, p.userinfoAlgsField); err != nil {
		return nil, fmt.Errorf("the signed response: %w", err)
	}
	if p.keys == nil {
		return nil, fmt.Errorf("the response is signed but the provider publishes no jwks_uri")
	}
	if err := p.signature(ctx, t); err != nil {
		return nil, err
	}
	if _, has := t.claims.get("iss"); has {
		if err := p.checkIssuer(t.claims); err != nil {
			return nil, err
		}
	}
	return t.claims.Map(), nil
}

// bearerErrorCode matches the error code of a WWW-Authenticate Bearer
// challenge (RFC 6750 section 3). Only the code is shown, never the
// provider's free-text description.
var bearerErrorCode = regexp.MustCompile(`error="?([A-Za-z_]{1,40})"?`)

func bearerError(h http.Header) string {
	m := bearerErrorCode.FindStringSubmatch(h.Get("WWW-Authenticate"))
	if m == nil {
		return ""
	}
	return " (" + m[1] + ")"
}
