package flow

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

// GrantTokenExchange is OAuth 2.0 Token Exchange (RFC 8693).
const GrantTokenExchange = "token_exchange"

// TokenExchangeGrantType is the grant_type of RFC 8693 §2.1.
const TokenExchangeGrantType = "urn:ietf:params:oauth:grant-type:token-exchange"

// The token type identifiers of RFC 8693 §3.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeSAML1        = "urn:ietf:params:oauth:token-type:saml1"
	TokenTypeSAML2        = "urn:ietf:params:oauth:token-type:saml2"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// tokenTypeNames are the short names ParseTokenType accepts for the
// identifiers of RFC 8693 §3.
var tokenTypeNames = map[string]string{
	"access_token":  TokenTypeAccessToken,
	"refresh_token": TokenTypeRefreshToken,
	"id_token":      TokenTypeIDToken,
	"saml1":         TokenTypeSAML1,
	"saml2":         TokenTypeSAML2,
	"jwt":           TokenTypeJWT,
}

// ParseTokenType returns the token type identifier s names: one of RFC
// 8693 §3's short names (access_token, refresh_token, id_token, saml1,
// saml2, jwt), or an absolute URI as it is, since §3 lets any URI
// identify a token type. Anything else is a failure.Usage error naming
// what (a flag).
func ParseTokenType(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if t, ok := tokenTypeNames[s]; ok {
		return t, nil
	}
	if s == "" {
		return "", failure.New(failure.Usage, what, "empty (want access_token, refresh_token, id_token, jwt, saml1, saml2 or a token type URI)")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque == "" && u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
		return "", failure.New(failure.Usage, what, "unknown token type %q (want access_token, refresh_token, id_token, jwt, saml1, saml2 or a token type URI)", clean(s, 80))
	}
	return s, nil
}

// TokenExchange is one token exchange request (RFC 8693 §2.1). The
// tokens are secrets: no message shows them.
type TokenExchange struct {
	// SubjectToken is the token the request is about, of type
	// SubjectTokenType (a token type identifier; see ParseTokenType).
	SubjectToken, SubjectTokenType string
	// ActorToken, when set, is the token of the party acting for the
	// subject, of type ActorTokenType.
	ActorToken, ActorTokenType string
	// RequestedTokenType is the type of token asked for; empty leaves it
	// to the provider.
	RequestedTokenType string
	// Audiences are the logical names of the target services; Resources
	// their URIs (RFC 8707). Each is sent as a parameter of its own.
	Audiences, Resources []string
}

// ExchangeToken performs the token exchange grant (RFC 8693) at
// c.TokenEndpoint in one request, with the client authentication of
// c.AuthMethod and c.Scopes as scope. Errors are classed as Exchange's
// are; no message shows the subject or actor token. The answer's
// issued_token_type is in Tokens.IssuedTokenType and is not checked here.
func ExchangeToken(ctx context.Context, c Config, x TokenExchange) (*Tokens, error) {
	if x.SubjectToken == "" {
		return nil, failure.New(failure.Usage, "subject token", "empty (CLAIMCHECK_SUBJECT_TOKEN or stdin)")
	}
	if x.SubjectTokenType == "" {
		return nil, failure.New(failure.Usage, "--subject-token-type", "required with the token_exchange grant")
	}
	if (x.ActorToken == "") != (x.ActorTokenType == "") {
		// RFC 8693 §2.1: actor_token_type is required with an
		// actor_token and must not be sent without one.
		return nil, failure.New(failure.Usage, "--actor-token-type", "an actor token and --actor-token-type go together")
	}
	form := url.Values{
		"grant_type":         {TokenExchangeGrantType},
		"subject_token":      {x.SubjectToken},
		"subject_token_type": {x.SubjectTokenType},
	}
	if x.ActorToken != "" {
		form.Set("actor_token", x.ActorToken)
		form.Set("actor_token_type", x.ActorTokenType)
	}
	if x.RequestedTokenType != "" {
		form.Set("requested_token_type", x.RequestedTokenType)
	}
	for _, a := range x.Audiences {
		form.Add("audience", a)
	}
	for _, r := range x.Resources {
		form.Add("resource", r)
	}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}

	c, style, err := grantConfig(c)
	if err != nil {
		return nil, err
	}
	sc := clientScrubber(c)
	sc.Add(scrub.SubjectToken, x.SubjectToken)
	sc.Add(scrub.ActorToken, x.ActorToken)
	client, _, done, err := c.tokenClient(sc)
	if err != nil {
		return nil, err
	}
	defer done()
	body, oerr, err := postForm(ctx, client, c, style, sc, tokenOp, c.TokenEndpoint, form)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, failure.New(failure.Interrupted, tokenOp, "interrupted")
		}
		if ctx.Err() != nil {
			return nil, failure.New(failure.Provider, tokenOp, "no answer before the deadline")
		}
		return nil, sc.Error(err)
	}
	if oerr != nil {
		return nil, sc.Error(oerr.failure(tokenOp))
	}
	t, err := parseTokenResponse(body)
	if err != nil {
		return nil, err
	}
	var extra struct {
		IssuedTokenType json.RawMessage `json:"issued_token_type"`
	}
	_ = json.Unmarshal(body, &extra) // parseTokenResponse read it as JSON
	var itt string
	if json.Unmarshal(extra.IssuedTokenType, &itt) == nil {
		// Scrubbed before it is cut: a provider that echoes the subject
		// token here must not get a piece of it shown.
		t.IssuedTokenType = clean(sc.String(itt), 200)
	}
	return t, nil
}
