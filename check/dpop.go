package check

import (
	"errors"
	"fmt"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// dpopConfig gives fc the run's DPoP key, with the hook that registers
// each proof with the run's scrubber.
func (c Config) dpopConfig(fc *flow.Config) {
	if c.DPoPKey == nil {
		return
	}
	sc := c.secrets
	fc.DPoPKey = c.DPoPKey
	fc.OnDPoPProof = func(p string) { sc.Add(scrub.DPoPProof, p) }
}

// dpopReport is the report's view of the run's DPoP key, nil without one.
func dpopReport(c Config) *report.DPoP {
	if c.DPoPKey == nil {
		return nil
	}
	return &report.DPoP{JKT: c.DPoPKey.Thumbprint(), Alg: c.DPoPKey.Alg(), KeyFile: c.DPoPKey.File}
}

// explainDPoP adds to a token request's error, when the request carried
// no DPoP proof, that --dpop sends one: when the provider's answer is about
// DPoP, or when it is invalid_grant from a provider that offers DPoP (its
// metadata lists dpop_signing_alg_values_supported), since a client that
// requires DPoP-bound tokens is refused so by some (oidc-provider says only
// "grant request is invalid").
func explainDPoP(err error, fc flow.Config, md verify.Metadata) error {
	var oe *flow.ErrorResponse
	if fc.DPoPKey != nil || !errors.As(err, &oe) {
		return err
	}
	switch {
	case oe.Code == "invalid_dpop_proof", strings.Contains(strings.ToLower(oe.Error()), "dpop"):
		return failure.New(failure.Flow, "", "%w; the client requires DPoP-bound tokens (RFC 9449): run with --dpop (and --dpop-key FILE for a key the client is registered with)", err)
	case oe.Code == "invalid_grant" && len(md.DPoPSigningAlgValuesSupported) > 0:
		return failure.New(failure.Flow, "", "%w; the provider offers DPoP (dpop_signing_alg_values_supported): if the client requires DPoP-bound tokens (RFC 9449), run with --dpop", err)
	}
	return err
}

// checkTokenType refuses an access token whose token_type claimcheck cannot
// use. Without DPoP only Bearer (RFC 6750), compared case-insensitively
// (RFC 6749 §5.1): a token of another type (mac, N_A, or DPoP without a
// proof of possession, RFC 9449) sent as a bearer token would be refused
// or, worse, accepted by a resource server that does not check. A missing
// token_type breaks RFC 6749 too but is taken as Bearer, with a note
// (bearer), as golang.org/x/oauth2 does. With DPoP (dpop true) only DPoP:
// a Bearer token answering a request with a proof is not bound to the key.
func checkTokenType(where, tokenType string, dpop bool) error {
	switch {
	case dpop && strings.EqualFold(tokenType, flow.TokenTypeDPoP):
		return nil
	case dpop:
		return failure.New(failure.Verification, where, "token_type %q answers a request with a DPoP proof: the access token is not bound to the DPoP key (RFC 9449 §5 wants token_type DPoP)", cleanValue(tokenType))
	case tokenType == "", strings.EqualFold(tokenType, "bearer"):
		return nil
	case strings.EqualFold(tokenType, flow.TokenTypeDPoP):
		return failure.New(failure.Verification, where, "token_type %q: the provider issued a DPoP-bound token, which claimcheck can use only with --dpop (RFC 9449)", cleanValue(tokenType))
	default:
		return failure.New(failure.Verification, where, "token_type %q is not Bearer, the only type claimcheck can use (RFC 6750)", cleanValue(tokenType))
	}
}

// checkCnf compares the cnf.jkt of claims (a JWT access token's or an
// introspection answer's) with the DPoP key's thumbprint (RFC 9449 §6),
// adding the check to r. A token without cnf.jkt is a failure too: the
// token_type says it is bound, and nothing says to what. Errors are
// failure.Verification.
func checkCnf(r *report.Report, source string, claims map[string]any, key *flow.DPoPKey) error {
	want := key.Thumbprint()
	cnf, _ := claims["cnf"].(map[string]any)
	got, _ := cnf["jkt"].(string)
	ch := verify.Check{Name: source + " cnf.jkt", OK: got == want, Source: source,
		Detail: fmt.Sprintf("cnf.jkt is the DPoP key's thumbprint %s", want)}
	var err error
	switch {
	case got == "":
		err = failure.New(failure.Verification, source, "has no cnf.jkt: nothing binds it to the DPoP key (thumbprint %s, RFC 9449 §6)", want)
	case got != want:
		err = failure.New(failure.Verification, source, "cnf.jkt %s is not the DPoP key's thumbprint %s: the token is bound to another key (RFC 9449 §6)", cleanValue(got), want)
	}
	if err != nil {
		ch.Detail = err.Error()
	}
	r.AddCheck(ch)
	return err
}
