package runner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/report"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/verify"
)

// unverifiedClaims decodes a JWT's payload without verifying it, so that a
// report can show what a rejected or foreign token claimed. It returns nil
// for anything that is not a compact JWT with a JSON object payload.
func unverifiedClaims(raw string) map[string]any {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(raw) > 64<<10 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&claims); err != nil {
		return nil
	}
	return claims
}

// VerifyTokens verifies tokens given by hand (claimcheck verify) against the
// issuer's keys and evaluates the expectations on them. No nonce was sent for
// them, so none is compared; everything else is checked as in a run.
func VerifyTokens(ctx context.Context, c Config, kind string, tokens []string) *report.Report {
	c = c.withScrubber()
	r := report.New(c.Issuer, "verify")
	p, err := verify.Discover(ctx, c.Issuer, c.HTTPClient)
	if err != nil {
		return finish(r, err, c)
	}
	var sources []verify.Source
	var firstErr error
	count := map[string]int{}
	for _, raw := range tokens {
		k := kind
		if k == "" || k == "auto" {
			k = guessKind(raw, c.ClientID)
		}
		count[k]++
		key := k
		if count[k] > 1 {
			key = fmt.Sprintf("%s#%d", k, count[k])
		}
		t := &report.Token{Raw: raw}
		var tok *verify.Token
		var err error
		if k == report.IDToken {
			tok, err = p.VerifyIDToken(ctx, raw, verify.IDTokenOptions{ClientID: c.ClientID, NoNonce: true, ClockSkew: c.ClockSkew, Now: c.Now})
		} else {
			tok, err = p.VerifyAccessToken(ctx, raw, verify.AccessTokenOptions{Audience: c.Audience, ClockSkew: c.ClockSkew, Now: c.Now})
		}
		var nv *verify.NotVerifiableError
		switch {
		case err == nil:
			t.Verified, t.Claims, t.Header = true, tok.Claims, tok.Header
			sources = append(sources, verify.Source{Name: k, Claims: tok.Claims, Verified: true})
			r.AddCheck(verify.Check{Name: key + " verified", OK: true, Source: k, Detail: verifiedDetail(tok, nil)})
		case errors.As(err, &nv):
			t.Note = nv.Error() // "not verifiable locally: " and why
			t.UnverifiedClaims, t.Header = nv.Claims, nv.Header
			if k == report.AccessToken && c.ClientSecret != "" && p.Metadata().IntrospectionEndpoint != "" {
				// The provider can vouch for what its keys cannot.
				if err := introspectGiven(ctx, c, p, r, key, raw); err != nil && firstErr == nil {
					firstErr = err
				}
				break
			}
			hint := ""
			if h := introspectionHint(c, p); h != "" && k == report.AccessToken {
				hint = "; " + h
			}
			r.AddCheck(verify.Check{Name: key + " verified", OK: false, Source: k, Detail: t.Note + hint})
			// Asked to verify it and could not: that is a verification
			// failure here, though in a run it is only a note.
			if firstErr == nil {
				firstErr = failure.New(failure.Verification, key, "%w%s", err, hint)
			}
		default:
			t.Error = err.Error()
			t.UnverifiedClaims = unverifiedClaims(raw)
			r.AddCheck(verify.Check{Name: key + " verified", OK: false, Source: k, Detail: err.Error()})
			if firstErr == nil {
				firstErr = err
			}
		}
		r.Tokens[key] = t
	}
	if firstErr != nil {
		return finish(r, firstErr, c)
	}
	for _, ch := range c.Expect.Evaluate(sources) {
		r.AddCheck(ch)
	}
	return finish(r, nil, c)
}

// introspectGiven asks the provider about an access token given to
// claimcheck verify that its keys cannot verify, and records the answer
// under KEY introspection. An inactive token is a verification failure.
func introspectGiven(ctx context.Context, c Config, p *verify.Provider, r *report.Report, key, raw string) error {
	ikey := strings.Replace(key, report.AccessToken, report.Introspection, 1)
	method := c.AuthMethod
	if method == "" || method == "none" {
		method = "client_secret_basic"
	}
	c.secrets.Add(scrub.AccessToken, raw)
	claims, err := p.Introspect(ctx, raw, verify.IntrospectOptions{ClientID: c.ClientID, ClientSecret: c.ClientSecret, AuthMethod: method})
	if err != nil {
		r.Tokens[ikey] = &report.Token{Error: err.Error()}
		r.AddCheck(verify.Check{Name: key + " introspected", OK: false, Source: report.Introspection, Detail: err.Error()})
		return err
	}
	active, _ := claims["active"].(bool)
	r.Tokens[ikey] = &report.Token{Verified: active, Claims: claims,
		Note: "the provider's answer about the access token (RFC 7662), asked with the client secret"}
	ch := verify.Check{Name: key + " introspected", OK: active, Source: report.Introspection, Detail: "active: the provider vouches for the token"}
	if !active {
		ch.Detail = "not active: the provider does not know the token, or it has expired or been revoked"
	}
	r.AddCheck(ch)
	if !active {
		return failure.New(failure.Verification, key, "the provider's introspection says the token is not active")
	}
	return nil
}

// introspectionHint says what would let claimcheck ask the provider about
// an access token its keys cannot verify.
func introspectionHint(c Config, p *verify.Provider) string {
	switch {
	case p.Metadata().IntrospectionEndpoint == "":
		return "the provider advertises no introspection endpoint to ask instead"
	case c.ClientSecret == "":
		return "give the client id and secret (CLAIMCHECK_CLIENT_SECRET) to have the provider introspect it"
	}
	return ""
}

// guessKind tells an ID token from an access token by what each carries:
// a nonce or an aud naming the client marks an ID token, a scope or an
// at+jwt type an access token. --kind settles it when the guess is wrong.
func guessKind(raw, clientID string) string {
	return guessKindOf(unverifiedClaims(raw), headerType(raw), clientID)
}

// guessKindOf is guessKind on a token's decoded claims and typ header.
func guessKindOf(claims map[string]any, typ, clientID string) string {
	if claims == nil {
		return report.AccessToken
	}
	if _, ok := claims["nonce"]; ok {
		return report.IDToken
	}
	_, scope := claims["scope"]
	_, scp := claims["scp"]
	if scope || scp || strings.EqualFold(typ, "at+jwt") {
		return report.AccessToken
	}
	switch aud := claims["aud"].(type) {
	case string:
		if aud == clientID {
			return report.IDToken
		}
	case []any:
		for _, a := range aud {
			if a == clientID {
				return report.IDToken
			}
		}
	}
	return report.AccessToken
}

func headerType(raw string) string {
	h, _, ok := strings.Cut(raw, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return ""
	}
	return hdr.Typ
}
