package check

import (
	"context"
	"errors"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// recordVerdict records in r, under key (a token kind, or kind#n when
// claimcheck verify is given several), a token's verdict as verify gave it:
// the token, and the "KEY verified" check with source kind.
//
// A token verify rejected keeps its claims out of Claims: those of tok when
// it was verified and then rejected (a hybrid flow's two ID tokens about
// different users), else its payload decoded unverified. A token that is
// not verifiable locally (an opaque access token, or one for another
// resource server) is not a failure: it gets a note and no check, and nv is
// returned so that the caller decides what that means.
func recordVerdict(r *report.Report, key, kind, raw string, tok *verify.Token, err error) (t *report.Token, nv *verify.NotVerifiableError) {
	t = &report.Token{Raw: raw}
	r.Tokens[key] = t
	switch {
	case err == nil:
		t.Verified, t.Claims, t.Header = true, tok.Claims(), tok.Header
	case errors.As(err, &nv):
		// Its claims are never shown as if they were verified.
		t.Note = nv.Error() // "not verifiable locally: " and why
		t.UnverifiedClaims, t.Header = nv.Claims, nv.Header
		return t, nv
	case tok != nil:
		t.Error = err.Error()
		t.UnverifiedClaims, t.Header = tok.Claims(), tok.Header
	default:
		t.Error = err.Error()
		t.UnverifiedClaims = unverifiedClaims(raw)
	}
	r.AddCheck(verify.Check{Name: key + " verified", OK: err == nil, Source: kind, Detail: verifiedDetail(tok, err)})
	return t, nil
}

func verifiedDetail(tok *verify.Token, err error) string {
	if err != nil {
		return err.Error()
	}
	alg, _ := tok.Header["alg"].(string)
	return report.VerifiedDetail(alg)
}

// recordIntrospection asks the provider's introspection endpoint (RFC 7662)
// about the access token raw, which its keys could not verify, with the
// client's authentication o (Config.introspectOptions), and records the
// answer in r: the token under the kind introspection (introspection#n for
// key access_token#n) and the "KEY introspected" check. An inactive token
// is a verification failure, and so is an answer whose cnf does not bind
// the token to the DPoP key or the client certificate used.
func recordIntrospection(ctx context.Context, p *verify.Provider, r *report.Report, o verify.IntrospectOptions, key, raw string, dpop *flow.DPoPKey, cert *flow.ClientCertificate) error {
	ikey := strings.Replace(key, report.AccessToken, report.Introspection, 1)
	claims, err := p.Introspect(ctx, raw, o)
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
	if dpop != nil {
		if err := checkCnf(r, report.Introspection, claims, dpop); err != nil {
			return err
		}
	}
	_, err = checkX5t(r, report.Introspection, claims, cert, p.Metadata().TLSClientCertificateBoundAccessTokens)
	return err
}
