package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// exchangeSource names the token exchange response in checks.
const exchangeSource = "token exchange"

// tokenExchangeReport is the request section's account of a token
// exchange: what was asked (never the tokens).
func tokenExchangeReport(x flow.TokenExchange) *report.TokenExchange {
	return &report.TokenExchange{
		SubjectTokenType: x.SubjectTokenType, ActorTokenType: x.ActorTokenType,
		RequestedTokenType: x.RequestedTokenType, Audiences: x.Audiences,
	}
}

// exchangeGrantNote says, before anything is sent, that the provider does
// not list the grant: some providers offer it without saying so, so the
// request is made all the same, and a refusal is explained by
// explainTokenExchange.
func exchangeGrantNote(md verify.Metadata) string {
	if slices.Contains(md.GrantTypesSupported, flow.TokenExchangeGrantType) {
		return ""
	}
	if len(md.GrantTypesSupported) == 0 {
		return "the provider's metadata has no grant_types_supported, so it does not say whether it offers token exchange (" + flow.TokenExchangeGrantType + "); the request was sent"
	}
	return "the provider's grant_types_supported (" + strings.Join(md.GrantTypesSupported, ", ") + ") lacks " + flow.TokenExchangeGrantType + "; the request was sent all the same"
}

// explainTokenExchange adds to a provider's refusal of a token exchange
// the one sentence of RFC 8693 §2.2.2 (and RFC 6749 §5.2) that says what
// it means here.
func explainTokenExchange(err error, md verify.Metadata) error {
	var oe *flow.ErrorResponse
	if !errors.As(err, &oe) {
		return err
	}
	listed := slices.Contains(md.GrantTypesSupported, flow.TokenExchangeGrantType)
	why := ""
	switch oe.Code {
	case "invalid_request":
		why = "the provider refused the exchange request itself: a subject token it does not accept (expired, revoked, of another issuer, or not of --subject-token-type), or a parameter missing or malformed"
	case "invalid_target":
		why = "the provider will not issue a token for the --audience or --resource asked for, or for that combination with the client (RFC 8693 §2.2.2)"
	case "unsupported_token_type":
		why = "the provider does not accept a token of --subject-token-type or --actor-token-type for exchange (RFC 8693 §2.2.2)"
	case "invalid_scope":
		why = "the provider will not grant the --scopes asked for with this exchange"
	case "unauthorized_client", "unsupported_grant_type":
		why = "the client may not use token exchange"
		if !listed {
			why += ", and the provider's grant_types_supported does not list " + flow.TokenExchangeGrantType + ": it may not offer the grant at all"
		} else {
			why += ": allow the token exchange grant for it at the provider"
		}
	case "invalid_client":
		why = "the client's authentication was refused: the token exchange grant needs a confidential client at most providers (CLAIMCHECK_CLIENT_SECRET or --client-key)"
	case "invalid_grant":
		why = "the provider would not exchange the subject (or actor) token: expired, revoked or not one it issued"
	}
	if why == "" {
		return err
	}
	return failure.New(failure.Flow, "", "%w; %s", err, why)
}

// exchangeResponse verifies a token exchange response (RFC 8693 §2.2.1):
// issued_token_type says what access_token holds, token_type how it is
// used, and the issued token is verified as what it is, with every
// audience asked for among its aud.
func (v *tokenVerifier) exchangeResponse(ctx context.Context, t *flow.Tokens, x flow.TokenExchange) error {
	te := v.r.Request.TokenExchange
	te.IssuedTokenType = t.IssuedTokenType
	if t.IssuedTokenType == "" {
		return v.failExchange("issued_token_type", failure.New(failure.Verification, exchangeSource,
			"the response has no issued_token_type (RFC 8693 §2.2.1 requires it), so what the provider issued cannot be told"))
	}
	v.r.AddCheck(verify.Check{Name: "issued_token_type", OK: true, Source: exchangeSource, Detail: "issued_token_type " + t.IssuedTokenType})
	if x.RequestedTokenType != "" && t.IssuedTokenType != x.RequestedTokenType {
		v.r.Notes = append(v.r.Notes, fmt.Sprintf("a token of type %s was asked for; the provider issued %s (RFC 8693 lets it choose)", x.RequestedTokenType, t.IssuedTokenType))
	}
	if err := exchangeTokenType(t.IssuedTokenType, t.TokenType, v.cfg.DPoPKey != nil); err != nil {
		return v.failExchange("token_type", err)
	}
	v.r.AddCheck(verify.Check{Name: "token_type", OK: true, Source: exchangeSource, Detail: "token_type " + t.TokenType + " for a token of type " + shortTokenType(t.IssuedTokenType)})

	var claims map[string]any
	switch t.IssuedTokenType {
	case flow.TokenTypeAccessToken, flow.TokenTypeJWT:
		// A JWT (RFC 8693 §3) is checked as a JWT access token: signature,
		// iss, exp, and aud below. The access token check of token_type
		// was made above, for the type issued.
		issued := *t
		issued.TokenType = "Bearer"
		if v.cfg.DPoPKey != nil {
			issued.TokenType = flow.TokenTypeDPoP
		}
		if err := v.tokenResponse(ctx, &issued); err != nil {
			return err
		}
		v.atType = t.TokenType
		if v.access == nil {
			return nil // opaque: introspection vouches, or nothing does
		}
		claims = v.access.Claims()
	case flow.TokenTypeIDToken:
		aud := v.cfg.ClientID
		if len(x.Audiences) > 0 {
			aud = x.Audiences[0]
		}
		o := v.idOptions("", "", "", false, false)
		o.ClientID, o.AuthorizedParty, o.NoNonce, o.MaxAge = aud, v.cfg.ClientID, true, nil
		tok, err := v.p.VerifyIDToken(ctx, t.AccessToken, o)
		v.recordID(t.AccessToken, tok, err)
		if err != nil {
			return err
		}
		v.idToken = tok
		claims = tok.Claims()
	default:
		// A refresh token or a SAML assertion: nothing here can verify it,
		// and no check may pass on it.
		v.r.Tokens[report.IssuedToken] = &report.Token{Raw: t.AccessToken,
			Note: "a token of type " + t.IssuedTokenType + " cannot be verified locally"}
		return nil
	}
	te.Act, te.MayAct = claims["act"], claims["may_act"]
	return v.exchangeAudiences(claims, x.Audiences)
}

// failExchange records a failed check of the exchange response.
func (v *tokenVerifier) failExchange(name string, err error) error {
	v.r.AddCheck(verify.Check{Name: name, OK: false, Source: exchangeSource, Detail: err.Error()})
	return err
}

// exchangeAudiences checks that the issued token names every audience
// asked for: a token issued for another one would be refused there, or
// accepted where it should not be.
func (v *tokenVerifier) exchangeAudiences(claims map[string]any, audiences []string) error {
	var aud []string
	switch a := claims["aud"].(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, e := range a {
			if s, ok := e.(string); ok {
				aud = append(aud, s)
			}
		}
	}
	var missing []string
	for _, want := range audiences {
		ok := slices.Contains(aud, want)
		v.r.AddCheck(verify.Check{Name: "aud " + want, OK: ok, Source: exchangeSource,
			Detail: fmt.Sprintf("the issued token's aud %q includes the audience asked for", aud)})
		if !ok {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return failure.New(failure.Verification, exchangeSource, "the issued token's aud %q lacks the audience asked for: %s", aud, strings.Join(missing, ", "))
	}
	return nil
}

// exchangeTokenType checks token_type against issued_token_type (RFC 8693
// §2.2.1): an access token is Bearer (DPoP with a DPoP key); a token that
// is not one has N_A, or Bearer when it can be used as one (a JWT).
func exchangeTokenType(issued, tokenType string, dpop bool) error {
	if tokenType == "" {
		return failure.New(failure.Verification, exchangeSource, "the response has no token_type (RFC 8693 §2.2.1 requires it)")
	}
	switch issued {
	case flow.TokenTypeAccessToken:
		if strings.EqualFold(tokenType, "N_A") {
			return failure.New(failure.Verification, exchangeSource, "token_type N_A for an access token: N_A is for a token that is not one (RFC 8693 §2.2.1)")
		}
		return checkTokenType(exchangeSource, tokenType, dpop)
	case flow.TokenTypeIDToken, flow.TokenTypeRefreshToken:
		if tokenType != "N_A" {
			return failure.New(failure.Verification, exchangeSource, "token_type %q for a token of type %s, which is no access token: RFC 8693 §2.2.1 has N_A", cleanValue(tokenType), shortTokenType(issued))
		}
		return nil
	}
	if tokenType == "N_A" {
		return nil
	}
	return checkTokenType(exchangeSource, tokenType, dpop)
}

// shortTokenType is RFC 8693 §3's short name of t, or t.
func shortTokenType(t string) string {
	if s, ok := strings.CutPrefix(t, "urn:ietf:params:oauth:token-type:"); ok {
		return s
	}
	return t
}
