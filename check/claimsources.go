package check

import (
	"context"
	"errors"
	"fmt"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// ClaimSources says how a run resolves the distributed and aggregated
// claims (OpenID Connect Core 5.6.2) of its verified tokens and of its
// userinfo answer once that is tied to the ID token's sub: a claim that
// _claim_names maps to a member of _claim_sources. See verify.ClaimResolver
// for what is verified, and Verify for tokens given to it.
type ClaimSources struct {
	// TrustedIssuers are issuers besides the run's whose signed claims
	// count (--trusted-claims-issuer); each is discovered when a JWT first
	// names it.
	TrustedIssuers []string
	// Token is "run" to send the run's access token to a distributed
	// endpoint whose source gives no access_token (--claims-source-token
	// run); empty sends it nowhere.
	Token string
	// Graph lets the run's tokens go to a distributed endpoint on
	// Microsoft Graph (--claims-source-graph), where Entra ID points when
	// a user has too many groups; without it such a source is skipped
	// with a note.
	Graph bool
}

// ClaimSourcesTokenRun is the ClaimSources.Token that sends the run's own
// access token.
const ClaimSourcesTokenRun = "run"

func (c ClaimSources) check() error {
	if c.Token != "" && c.Token != ClaimSourcesTokenRun {
		return failure.New(failure.Usage, "--claims-source-token", "unknown value %q (want run, or nothing)", c.Token)
	}
	return nil
}

// namedClaims are the verified claims of one source (report.IDToken, …).
type namedClaims struct {
	name   string
	claims map[string]any
}

// resolveClaimSources resolves the claim sources of the verified ID and
// access tokens (see resolveSources).
func (v *tokenVerifier) resolveClaimSources(ctx context.Context) error {
	var tokens []namedClaims
	if v.idToken != nil {
		tokens = append(tokens, namedClaims{report.IDToken, v.idToken.Claims()})
	}
	if v.access != nil {
		tokens = append(tokens, namedClaims{report.AccessToken, v.access.Claims()})
	}
	return v.resolveSources(ctx, tokens)
}

// claimResolver is the run's resolver, made once so that a trusted claims
// issuer is discovered once whichever source names it first.
func (v *tokenVerifier) claimResolver() *verify.ClaimResolver {
	if v.resolver != nil {
		return v.resolver
	}
	cs := v.cfg.ClaimSources
	r := &verify.ClaimResolver{
		Provider: v.p, TrustedIssuers: cs.TrustedIssuers, AllowGraph: cs.Graph,
		ClockSkew: v.cfg.ClockSkew, Now: v.cfg.Now,
		Secret:        func(s string) { v.cfg.secrets.Add(scrub.SourceToken, s) },
		SkipEndpoints: v.skipEndpoints,
	}
	if cs.Token == ClaimSourcesTokenRun && v.rawAT != "" && v.bearer() {
		r.RunAccessToken = v.rawAT
		v.cfg.secrets.Add(scrub.AccessToken, v.rawAT)
	}
	v.resolver = r
	return r
}

// resolveSources resolves the claim sources of the claims into v.resolved,
// with one check per source: passed with how its claims were obtained, or
// failed with why. The error is the first failed source's, a
// failure.Verification error before any other, so that a forged source
// decides the exit status over an unreachable one.
func (v *tokenVerifier) resolveSources(ctx context.Context, from []namedClaims) error {
	var first error
	for _, t := range from {
		registerSourceTokens(v.cfg.secrets, t.claims)
		if _, has := t.claims["_claim_names"]; !has {
			continue
		}
		for _, rs := range v.claimResolver().Resolve(ctx, t.name, t.claims) {
			c := verify.Check{Name: rs.From + " claim source " + rs.Name, OK: rs.Err == nil, Source: rs.From}
			switch {
			case rs.Err != nil:
				c.Detail = v.cfg.secrets.Error(rs.Err).Error()
				first = worseSourceError(first, rs.Err)
			case rs.Skipped != "":
				// The provider's diagnosis (provider/entra) explains
				// Graph and overage in the group's check; this only
				// says that nothing was sent.
				c.Detail = "not asked: " + rs.Skipped
			default:
				c.Detail = fmt.Sprintf("%s for %s", rs.Detail, claimList(rs.Claims))
				v.resolved = append(v.resolved, *rs.Source)
			}
			v.r.AddCheck(c)
		}
	}
	if first != nil {
		var fe *failure.Error
		if errors.As(first, &fe) {
			return first
		}
		return failure.Wrap(failure.Verification, "claim source", first)
	}
	return nil
}

// worseSourceError is the error of two failed claim sources that decides
// the exit status: the first, unless only the second is a verification
// failure.
func worseSourceError(first, next error) error {
	if first == nil || (failure.ClassOf(next) == failure.Verification && failure.ClassOf(first) != failure.Verification) {
		return next
	}
	return first
}

func claimList(claims []string) string {
	s := ""
	for i, c := range claims {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", c)
	}
	return s
}

// registerSourceTokens registers every access_token of the claims'
// _claim_sources with the run's scrubber, sent or not: they are in the
// token's claims, which the report shows.
func registerSourceTokens(sc *scrub.Scrubber, claims map[string]any) {
	sources, _ := claims["_claim_sources"].(map[string]any)
	for _, s := range sources {
		if m, ok := s.(map[string]any); ok {
			if t, ok := m["access_token"].(string); ok {
				sc.Add(scrub.SourceToken, t)
			}
		}
	}
}
