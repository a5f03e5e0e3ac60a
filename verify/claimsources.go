package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// Kinds of claim source (OpenID Connect Core 5.6.2), as in
// ResolvedSource.Kind and Source.Via.
const (
	Aggregated  = "aggregated"
	Distributed = "distributed"
)

// graphHosts are Microsoft Graph's hosts, where Entra ID points a token's
// _claim_sources when a user has too many groups (overage). The run's
// tokens are not sent there unless ClaimResolver.AllowGraph is set.
var graphHosts = []string{"graph.microsoft.com", "graph.windows.net"}

// ClaimResolver resolves the distributed and aggregated claims of OpenID
// Connect Core 5.6.2: a claim that _claim_names maps to a member of
// _claim_sources. An aggregated source's JWT, and a distributed source's
// answer when it is a JWT, count only once verified: a signature by the
// keys of the run's issuer or of one of TrustedIssuers (alg never none or
// HS*), the iss that names that issuer, exp, nbf and iat when present, and
// sub, when present, equal to the containing token's. A distributed
// source's JSON answer counts only when it came from the run's issuer's
// own origin (scheme, host and port), as userinfo does; from anywhere else
// it is an unverified source.
//
// A distributed endpoint is asked once, with one GET through Provider's
// HTTP client, sending the source's access_token as a bearer token, or
// RunAccessToken when the source gives none and RunAccessToken is set.
type ClaimResolver struct {
	// Provider is the run's provider: its issuer signs aggregated claims,
	// and its HTTP client fetches endpoints and discovers TrustedIssuers.
	Provider *Provider
	// TrustedIssuers are other issuers whose signed claims count; each is
	// discovered, as the run's issuer is, when a JWT first names it.
	TrustedIssuers []string
	// RunAccessToken, when set, is sent to a distributed endpoint whose
	// source gives no access_token.
	RunAccessToken string
	// AllowGraph lets endpoints on Microsoft Graph be called; without it
	// they are skipped (see ResolvedSource.Skipped).
	AllowGraph bool
	// ClockSkew is allowed on exp, nbf and iat.
	ClockSkew time.Duration
	// Now is the current time; nil means time.Now.
	Now func() time.Time
	// Secret, when set, is given each access token before it is sent, so
	// that the caller can keep it out of every output.
	Secret func(string)
	// SkipEndpoints, when not empty, is why no distributed endpoint is
	// asked: each such source is skipped with it (ResolvedSource.Skipped).
	SkipEndpoints string

	mu      sync.Mutex
	trusted map[string]*Provider
}

// ResolvedSource is the outcome for one member of a token's _claim_sources
// that _claim_names refers to.
type ResolvedSource struct {
	// From is the name of the source that holds the reference
	// (SourceIDToken, …); Name the member's name ("src1"); Kind Aggregated
	// or Distributed.
	From, Name, Kind string
	// Claims are the claim names _claim_names maps to this source, sorted.
	Claims []string
	// Endpoint is a distributed source's endpoint as DisplayURL shows it.
	Endpoint string
	// Source holds the claims resolved (only those of Claims), with Name
	// From and Via "Kind Name"; nil when the source was skipped or failed.
	Source *Source
	// Detail says how the claims were obtained and verified, or why they
	// do not count.
	Detail string
	// Skipped, when not empty, says why the source was not asked (an
	// endpoint on Microsoft Graph without AllowGraph, or any endpoint
	// with SkipEndpoints).
	Skipped string
	// Err is why the source could not be used: a failure.Verification
	// error for a JWT that does not verify, failure.Provider for an
	// endpoint that cannot be used, failure.Flow for a refused token.
	Err error
}

// Resolve resolves every source that the claims (of the source named from,
// already verified) refer to, in name order. It returns nil when they hold
// no _claim_names.
func (r *ClaimResolver) Resolve(ctx context.Context, from string, claims map[string]any) []ResolvedSource {
	names, _ := claims["_claim_names"].(map[string]any)
	sources, _ := claims["_claim_sources"].(map[string]any)
	bySource := map[string][]string{}
	for claim, v := range names {
		if src, ok := v.(string); ok && src != "" {
			bySource[src] = append(bySource[src], claim)
		}
	}
	subject, _ := claims["sub"].(string)
	var out []ResolvedSource
	for _, src := range slices.Sorted(maps.Keys(bySource)) {
		rs := ResolvedSource{From: from, Name: src, Claims: slices.Sorted(slices.Values(bySource[src]))}
		m, _ := sources[src].(map[string]any)
		r.resolve(ctx, &rs, m, subject)
		out = append(out, rs)
	}
	return out
}

func (r *ClaimResolver) resolve(ctx context.Context, rs *ResolvedSource, m map[string]any, subject string) {
	op := rs.From + " claim source " + rs.Name
	jwt, hasJWT := m["JWT"]
	endpoint, hasEndpoint := m["endpoint"]
	switch {
	case m == nil:
		rs.Err = failure.New(failure.Verification, op, "_claim_sources holds no such source")
	case hasJWT:
		rs.Kind = Aggregated
		raw, ok := jwt.(string)
		if !ok {
			rs.Err = failure.New(failure.Verification, op, "its JWT is not a string")
			return
		}
		got, iss, err := r.verifyJWT(ctx, raw, subject)
		if err != nil {
			rs.Err = failure.Wrap(failure.Verification, op, err)
			return
		}
		rs.Detail = "aggregated claims signed by " + iss
		rs.Source = r.source(rs, got, true)
	case hasEndpoint:
		rs.Kind = Distributed
		u, ok := endpoint.(string)
		if !ok {
			rs.Err = failure.New(failure.Verification, op, "its endpoint is not a string")
			return
		}
		token, _ := m["access_token"].(string)
		r.fetch(ctx, op, rs, u, token, subject)
	default:
		rs.Err = failure.New(failure.Verification, op, "the source has neither JWT nor endpoint")
	}
}

func (r *ClaimResolver) source(rs *ResolvedSource, claims map[string]any, verified bool) *Source {
	picked := map[string]any{}
	for _, c := range rs.Claims {
		if v, ok := claims[c]; ok {
			picked[c] = v
		}
	}
	return &Source{Name: rs.From, Via: rs.Kind + " " + rs.Name, Claims: picked, Verified: verified}
}

// fetch asks a distributed endpoint, once.
func (r *ClaimResolver) fetch(ctx context.Context, op string, rs *ResolvedSource, endpoint, token, subject string) {
	rs.Endpoint = displayURL(endpoint)
	if r.SkipEndpoints != "" {
		rs.Skipped = "its endpoint " + rs.Endpoint + " was not called: " + r.SkipEndpoints
		return
	}
	issuer, _ := url.Parse(r.Provider.meta.Issuer)
	if reason := endpointProblem(endpoint, issuer.Scheme); reason != "" {
		rs.Err = failure.New(failure.Provider, op, "endpoint %s", reason)
		return
	}
	u, _ := url.Parse(endpoint)
	if slices.Contains(graphHosts, strings.ToLower(u.Hostname())) && !r.AllowGraph {
		rs.Skipped = "its endpoint " + rs.Endpoint + " is Microsoft Graph, which claimcheck sends no token to unless asked (--claims-source-graph)"
		return
	}
	sent := "its own access_token"
	if token == "" {
		if r.RunAccessToken == "" {
			rs.Err = failure.New(failure.Provider, op, "%s: the source gives no access_token; --claims-source-token run sends the run's access token instead", rs.Endpoint)
			return
		}
		token, sent = r.RunAccessToken, "the run's access token"
	}
	if r.Secret != nil {
		r.Secret(token)
	}
	res, err := get(ctx, r.Provider.client, endpoint, map[string]string{
		"Accept":        "application/jwt, application/json",
		"Authorization": "Bearer " + token,
	})
	if err != nil {
		rs.Err = fetchFailure(ctx, op, endpoint, err)
		return
	}
	switch {
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		rs.Err = failure.New(failure.Flow, op, "%s: status %d%s: %s was refused", rs.Endpoint, res.status, bearerError(res.header), sent)
		return
	case res.status != http.StatusOK:
		rs.Err = failure.New(failure.Provider, op, "%s: status %d", rs.Endpoint, res.status)
		return
	}
	if res.mediaType() == "application/jwt" {
		claims, iss, err := r.verifyJWT(ctx, strings.TrimSpace(string(res.body)), subject)
		if err != nil {
			rs.Err = failure.Wrap(failure.Verification, op, fmt.Errorf("%s: %w", rs.Endpoint, err))
			return
		}
		rs.Detail = "distributed claims from " + rs.Endpoint + " (asked with " + sent + "), signed by " + iss
		rs.Source = r.source(rs, claims, true)
		return
	}
	if err := res.wantJSON(); err != nil {
		rs.Err = failure.New(failure.Provider, op, "%s: %w", rs.Endpoint, err)
		return
	}
	var claims map[string]any
	if err := json.Unmarshal(res.body, &claims); err != nil {
		rs.Err = failure.New(failure.Provider, op, "%s: %w", rs.Endpoint, jsonProblem("response", err))
		return
	}
	if err := sameSubject(mapClaims(claims), subject); err != nil {
		rs.Err = failure.New(failure.Verification, op, "%s: %w", rs.Endpoint, err)
		return
	}
	if sameOrigin(u, issuer) {
		rs.Detail = "distributed claims from " + rs.Endpoint + " (asked with " + sent + "), unsigned JSON from the issuer's own origin, trusted as userinfo is"
		rs.Source = r.source(rs, claims, true)
		return
	}
	rs.Detail = "distributed claims from " + rs.Endpoint + " (asked with " + sent + ") came as unsigned JSON from another origin than the issuer's: unverified, they do not count"
	rs.Source = r.source(rs, claims, false)
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

func sameSubject(c claims, subject string) error {
	sub, has, err := stringClaim(c, "sub")
	switch {
	case err != nil:
		return err
	case has && subject != "" && sub != subject:
		return fmt.Errorf("sub %s is not the token's sub %s", quote(sub), quote(subject))
	}
	return nil
}

// verifyJWT verifies a JWT of claims and returns its claims and issuer.
func (r *ClaimResolver) verifyJWT(ctx context.Context, raw, subject string) (map[string]any, string, error) {
	tok := Parse(raw)
	if tok.err != nil {
		return nil, "", tok.err
	}
	iss := tok.Issuer()
	p, err := r.issuer(ctx, iss)
	if err != nil {
		return nil, "", err
	}
	claims, err := p.verifyClaimsJWT(ctx, tok, subject, r.ClockSkew, now(r.Now))
	if err != nil {
		return nil, "", err
	}
	return claims, p.meta.Issuer, nil
}

// issuer returns the provider whose keys must have signed a JWT naming iss.
func (r *ClaimResolver) issuer(ctx context.Context, iss string) (*Provider, error) {
	if iss == "" {
		return nil, errors.New("iss is missing")
	}
	if iss == r.Provider.meta.Issuer {
		return r.Provider, nil
	}
	if !slices.Contains(r.TrustedIssuers, iss) {
		return nil, fmt.Errorf("iss %s is neither the issuer %s nor a trusted claims issuer (--trusted-claims-issuer)", quote(iss), quote(r.Provider.meta.Issuer))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.trusted[iss]; p != nil {
		return p, nil
	}
	p, err := Discover(ctx, iss, r.Provider.client)
	if err != nil {
		return nil, fmt.Errorf("the trusted claims issuer: %w", err)
	}
	if r.trusted == nil {
		r.trusted = map[string]*Provider{}
	}
	r.trusted[iss] = p
	return p, nil
}

// verifyClaimsJWT verifies a JWT of aggregated or distributed claims
// signed by p: an asymmetric algorithm, the signature, iss, the times
// present, and sub when present.
func (p *Provider) verifyClaimsJWT(ctx context.Context, tok *Parsed, subject string, skew time.Duration, now time.Time) (map[string]any, error) {
	t := tok.t
	if strings.EqualFold(t.alg, "none") || strings.HasPrefix(strings.ToUpper(t.alg), "HS") {
		return nil, algProblem(t.alg, nil, nil, "")
	}
	if !slices.Contains(asymmetricNames, t.alg) {
		return nil, fmt.Errorf("alg %s is not an algorithm claimcheck verifies", quote(t.alg))
	}
	if p.keys == nil {
		return nil, fmt.Errorf("the issuer %s publishes no jwks_uri, so the signature cannot be checked", quote(p.meta.Issuer))
	}
	if err := p.signature(ctx, t); err != nil {
		return nil, err
	}
	c := t.claims
	if err := checkClaimTypes(c); err != nil {
		return nil, err
	}
	if err := p.checkIssuer(c); err != nil {
		return nil, err
	}
	skew = max(skew, 0)
	if exp, has, _ := numericDate(c, "exp"); has && !now.Before(exp.Add(skew)) {
		return nil, fmt.Errorf("expired at %s (now %s, clock skew allowance %s)", stamp(exp), stamp(now), skew)
	}
	if nbf, has, _ := numericDate(c, "nbf"); has && nbf.After(now.Add(skew)) {
		return nil, fmt.Errorf("not valid before %s (nbf; now %s, clock skew allowance %s)", stamp(nbf), stamp(now), skew)
	}
	if iat, has, _ := numericDate(c, "iat"); has && iat.After(now.Add(skew)) {
		return nil, fmt.Errorf("iat %s is in the future (now %s, beyond the clock skew allowance of %s)", stamp(iat), stamp(now), skew)
	}
	if err := sameSubject(c, subject); err != nil {
		return nil, err
	}
	return c.Map(), nil
}
