package check

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/report"
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

// Verify verifies tokens obtained elsewhere (claimcheck verify) against the
// issuer's keys and evaluates the expectations on them: kind is id_token,
// access_token, or auto (or "") to guess each token's kind from its claims.
// No nonce was sent for them, so none is compared; everything else is
// checked as in a run. The report and the error are as Run's; the fields
// of c that only a flow uses are ignored.
//
// The verified tokens' aggregated claims (OpenID Connect Core 5.6.2) are
// resolved as in a run. Their distributed claims are fetched only when
// c.ClaimSources.Token is ClaimSourcesTokenRun: verifying a token names no
// endpoint to call, so none is called unless asked. The "run's" access
// token is then the first access token among tokens that verified.
func Verify(ctx context.Context, c Config, kind string, tokens []string) (*report.Report, error) {
	r := verifyTokens(ctx, c, kind, tokens)
	return r, outcome(r)
}

func verifyTokens(ctx context.Context, c Config, kind string, tokens []string) *report.Report {
	c = c.withScrubber()
	r := report.New(c.Issuer, "verify")
	if err := c.checkProviderKind(); err != nil {
		return finish(r, err, c)
	}
	if err := c.ClaimSources.check(); err != nil {
		return finish(r, err, c)
	}
	p, err := verify.Discover(ctx, c.Issuer, c.HTTPClient)
	if err != nil {
		return finish(r, err, c)
	}
	// The provider is named; its diagnosis is left out, as what was
	// requested (the scopes it turns on) is not known here.
	c.recognise(r, p.Metadata())
	certP, err := c.certProvider(p)
	if err != nil {
		return finish(r, err, c)
	}
	var sources []verify.Source
	var firstErr error
	// rawAccess is the first access token that verified, which
	// --claims-source-token run sends.
	var rawAccess string
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
		var tok *verify.Token
		var err error
		if k == report.IDToken {
			tok, err = p.VerifyIDToken(ctx, raw, verify.IDTokenOptions{ClientID: c.ClientID, NoNonce: true, ClockSkew: c.ClockSkew, Now: c.Now})
		} else {
			tok, err = p.VerifyAccessToken(ctx, raw, verify.AccessTokenOptions{Audience: c.Audience, ClockSkew: c.ClockSkew, Now: c.Now})
		}
		t, nv := recordVerdict(r, key, k, raw, tok, err)
		switch {
		case err == nil:
			sources = append(sources, verify.Source{Name: k, Claims: tok.Claims(), Verified: true})
			if k != report.AccessToken {
				break
			}
			if rawAccess == "" {
				rawAccess = raw
			}
			if _, err := checkX5t(r, key, tok.Claims(), c.ClientCertificate, p.Metadata().TLSClientCertificateBoundAccessTokens); err != nil && firstErr == nil {
				firstErr = err
			}
		case nv != nil:
			if k == report.AccessToken && c.hasCredential() && certP.Metadata().IntrospectionEndpoint != "" {
				// The provider can vouch for what its keys cannot.
				c.secrets.Add(scrub.AccessToken, raw)
				o, err := c.introspectOptions(certP.Metadata())
				if err == nil {
					err = recordIntrospection(ctx, certP, r, o, key, raw, c.DPoPKey, c.ClientCertificate)
				}
				if err != nil && firstErr == nil {
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
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil {
		return finish(r, firstErr, c)
	}
	resolved, srcErr := resolveGiven(ctx, c, p, r, sources, rawAccess)
	sources = append(sources, resolved...)
	for _, ch := range c.Expect.Evaluate(sources) {
		r.AddCheck(ch)
	}
	return finish(r, srcErr, c)
}

// resolveGiven resolves the claim sources of the verified tokens given to
// Verify, named as the report names them.
// rawAccess is the first verified access token.
func resolveGiven(ctx context.Context, c Config, p *verify.Provider, r *report.Report, sources []verify.Source, rawAccess string) ([]verify.Source, error) {
	v := &tokenVerifier{cfg: c, p: p, r: r}
	cs := c.ClaimSources
	v.resolver = &verify.ClaimResolver{
		Provider: p, TrustedIssuers: cs.TrustedIssuers, AllowGraph: cs.Graph,
		ClockSkew: c.ClockSkew, Now: c.Now,
		Secret: func(s string) { c.secrets.Add(scrub.SourceToken, s) },
	}
	switch {
	case cs.Token != ClaimSourcesTokenRun:
		v.resolver.SkipEndpoints = "claimcheck verify calls a distributed claims endpoint only when asked (--claims-source-token run)"
	case rawAccess != "":
		v.resolver.RunAccessToken = rawAccess
		c.secrets.Add(scrub.AccessToken, rawAccess)
	}
	var given []namedClaims
	for _, s := range sources {
		given = append(given, namedClaims{s.Name, s.Claims})
	}
	err := v.resolveSources(ctx, given)
	return v.resolved, err
}

// introspectionHint says what would let claimcheck ask the provider about
// an access token its keys cannot verify.
func introspectionHint(c Config, p *verify.Provider) string {
	switch {
	case p.Metadata().IntrospectionEndpoint == "":
		return "the provider advertises no introspection endpoint to ask instead"
	case !c.hasCredential():
		return "give the client id and secret (CLAIMCHECK_CLIENT_SECRET) to have the provider introspect it"
	}
	return ""
}

// guessKind tells an ID token from an access token by what each carries:
// a nonce or an aud naming the client marks an ID token, a scope or an
// at+jwt type an access token. --kind settles it when the guess is wrong.
func guessKind(raw, clientID string) string {
	return verify.GuessKind(unverifiedClaims(raw), headerType(raw), clientID)
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
