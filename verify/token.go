package verify

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// Token is a verified token: its raw form and its decoded JOSE header and
// claims.
type Token struct {
	Raw    string
	Header map[string]any
	claims *claimSet
}

// Claims returns the token's claims, as encoding/json would decode them
// into a map (numbers as float64). The map is built on the first call and
// then shared: do not modify it. It is nil for a Token not made by a
// Verify method.
func (t *Token) Claims() map[string]any {
	if t == nil || t.claims == nil {
		return nil
	}
	return t.claims.Map()
}

// Source returns the token's claims as a verified Source named name, for
// Expectations.Evaluate: the claims the expectations name are decoded when
// they are read, and the whole map only when a check fails and its detail
// looks further. Its Claims field is nil until then; read the claims with
// Token.Claims.
func (t *Token) Source(name string) Source {
	return Source{Name: name, Verified: true, set: t.claims}
}

// IDTokenOptions say what an ID token is checked against.
type IDTokenOptions struct {
	// ClientID must be among the token's audiences (and equal its azp when
	// there are several, or when azp is present).
	ClientID string
	// AuthorizedParty, when set, is the azp in place of ClientID: an ID
	// token issued by a token exchange (RFC 8693) names its target in aud
	// and the client it was issued to, the one that asked, in azp.
	AuthorizedParty string
	// Nonce is the nonce sent in the authorization request; the token must
	// carry the same. An empty Nonce is an error unless NoNonce is set, so
	// that a caller cannot skip the check by forgetting it.
	Nonce string
	// NoNonce verifies without a nonce, for tokens that were not obtained
	// by this run (claimcheck verify).
	NoNonce bool
	// AccessToken, when set, is checked against the token's at_hash.
	AccessToken string
	// RequireAtHash makes a missing at_hash an error, as OpenID Connect
	// requires for an ID token that comes with an access token from the
	// authorization endpoint ("id_token token").
	RequireAtHash bool
	// Code, when set, is checked against the token's c_hash.
	Code string
	// RequireCHash makes a missing c_hash an error, as OpenID Connect
	// requires for the front-channel ID token of "code id_token" responses.
	RequireCHash bool
	// MaxAge, when set, is the max_age sent in the authorization request:
	// auth_time is then required and must be no older than MaxAge, with
	// the ClockSkew allowance (OpenID Connect Core 3.1.3.7, item 13).
	MaxAge *time.Duration
	// ClockSkew is allowed on exp, nbf, iat and auth_time. Zero allows
	// none; the CLI passes its --clock-skew (default 2m).
	ClockSkew time.Duration
	// Now is the current time; nil means time.Now.
	Now func() time.Time
}

// AccessTokenOptions say what a JWT access token is checked against.
type AccessTokenOptions struct {
	// Audience, when set, must be among the token's audiences.
	Audience string
	// ClockSkew is allowed on exp, nbf and iat.
	ClockSkew time.Duration
	// Now is the current time; nil means time.Now.
	Now func() time.Time
}

// NotVerifiableError says that an access token cannot be verified with the
// issuer's published keys: it is opaque, or unsigned, or signed with a key
// the JWKS lacks even after a refetch (as Okta's org authorization server
// does). It is not a verdict that the token is bad; such a token must be
// reported as "not verifiable locally" and never counted as verified. It
// reaches the caller inside a failure.Verification error: test for it with
// errors.As before treating the error as a failure.
type NotVerifiableError struct {
	// Reason is one line saying why.
	Reason string
	// Header and Claims are the token's decoded header and claims when it
	// is a JWT, UNVERIFIED: for display only, never for a decision.
	Header, Claims map[string]any
}

// Error says "not verifiable locally" and why, so that a caller that
// prints it without inspecting it still does not claim a verification.
func (e *NotVerifiableError) Error() string {
	return "not verifiable locally: " + e.Reason
}

// algProblem refuses algorithms before any key is touched: none and the
// HS* MACs always (HS256 keyed with the RSA public key is the classic
// confusion attack), and anything the provider does not advertise.
func algProblem(alg string, accepted, advertised []string, field string) error {
	switch {
	case strings.EqualFold(alg, "none"):
		return fmt.Errorf("alg %s (an unsigned token) is never accepted", quote(alg))
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return fmt.Errorf("alg %s (a MAC keyed with a shared secret) is never accepted", quote(alg))
	case slices.Contains(accepted, alg):
		return nil
	case len(advertised) == 0:
		return fmt.Errorf("alg %s is not accepted: the provider advertises no %s, so only RS256 is", quote(alg), field)
	}
	return fmt.Errorf("alg %s is not in the provider's %s %s", quote(alg), field, quoteList(advertised))
}

// checkIDHeader is what is checked of an ID token before its signature: an advertised algorithm, not an access token's
// type, and keys to check the signature with.
func (p *Provider) checkIDHeader(t *compactJWT) error {
	const op = "ID token"
	if err := algProblem(t.alg, p.idAlgs, p.meta.IDTokenSigningAlgValuesSupported, "id_token_signing_alg_values_supported"); err != nil {
		return failure.New(failure.Verification, op, "%w", err)
	}
	if isAccessTokenType(t.typ) {
		return failure.New(failure.Verification, op, "typ %s marks an access token, not an ID token", quote(t.typ))
	}
	if p.keys == nil {
		return failure.New(failure.Verification, op, "the provider publishes no jwks_uri, so its signature cannot be checked")
	}
	return nil
}

// check refuses options that cannot be right: a verification without them
// would silently skip a check.
func (o IDTokenOptions) check() error {
	const op = "ID token"
	switch {
	case o.ClientID == "":
		return failure.New(failure.Usage, op, "no client ID to check aud against")
	case o.Nonce == "" && !o.NoNonce:
		return failure.New(failure.Usage, op, "no nonce to compare (NoNonce must be set to verify without one)")
	case o.RequireAtHash && o.AccessToken == "":
		return failure.New(failure.Usage, op, "at_hash is required but no access token was given to check it against")
	case o.RequireCHash && o.Code == "":
		return failure.New(failure.Usage, op, "c_hash is required but no code was given to check it against")
	}
	return nil
}

// VerifyIDToken verifies an ID token: compact form and header (see Parse),
// an advertised algorithm (never none or HS*), the signature against the
// provider's JWKS (JWK use and alg honoured), and the claims of OpenID
// Connect Core 3.1.3.7: iss, aud, azp, exp present and not past with the
// skew, nbf, iat present and not in the future beyond the skew, sub,
// nonce, auth_time with max_age, at_hash, c_hash.
//
// Errors are failure.Verification, except an unreachable or broken JWKS
// (failure.Provider) and options that cannot be right (failure.Usage).
func (p *Provider) VerifyIDToken(ctx context.Context, raw string, o IDTokenOptions) (*Token, error) {
	return p.VerifyParsedIDToken(ctx, Parse(raw), o)
}

// VerifyParsedIDToken is VerifyIDToken on a token already parsed (by Parse
// or a Parser).
func (p *Provider) VerifyParsedIDToken(ctx context.Context, tok *Parsed, o IDTokenOptions) (*Token, error) {
	if err := p.idSignature(ctx, tok, o); err != nil {
		return nil, err
	}
	return p.idClaims(tok, o)
}

// VerifyParsedIDTokens is VerifyParsedIDToken for each of toks with the
// same options: out[i] and errs[i] are what it returns for toks[i] (out and
// errs are as long as toks). The signatures are checked back to back, then
// the claims, which is faster for a batch than one token after another
// (claimcheck verify - verifies its batches so).
func (p *Provider) VerifyParsedIDTokens(ctx context.Context, toks []*Parsed, o IDTokenOptions, out []*Token, errs []error) {
	verifyBatch(toks, out, errs,
		func(tok *Parsed) error { return p.idSignature(ctx, tok, o) },
		func(tok *Parsed) (*Token, error) { return p.idClaims(tok, o) })
}

// verifyBatch fills out and errs for toks: signature for each token, then
// claims for each whose signature passed.
func verifyBatch(toks []*Parsed, out []*Token, errs []error, signature func(*Parsed) error, claims func(*Parsed) (*Token, error)) {
	for i, tok := range toks {
		out[i], errs[i] = nil, signature(tok)
	}
	for i, tok := range toks {
		if errs[i] == nil {
			out[i], errs[i] = claims(tok)
		}
	}
}

// idSignature is VerifyParsedIDToken up to and including the signature.
func (p *Provider) idSignature(ctx context.Context, tok *Parsed, o IDTokenOptions) error {
	const op = "ID token"
	if err := o.check(); err != nil {
		return err
	}
	if tok.err != nil {
		return failure.New(failure.Verification, op, "%w", tok.err)
	}
	if err := p.checkIDHeader(tok.t); err != nil {
		return err
	}
	if err := p.signature(ctx, tok.t); err != nil {
		return failure.Wrap(failure.Verification, op, err)
	}
	return nil
}

// idClaims is the rest of VerifyParsedIDToken, once idSignature accepted
// tok.
func (p *Provider) idClaims(tok *Parsed, o IDTokenOptions) (*Token, error) {
	if err := p.checkIDClaims(tok.t.claims, tok.t.alg, o); err != nil {
		return nil, failure.New(failure.Verification, "ID token", "%w", err)
	}
	return tok.verifiedToken(), nil
}

// VerifyAccessToken verifies a JWT access token signed with the issuer's
// published keys: the header and signature as for an ID token (any
// asymmetric algorithm a published key fits, as access tokens are not
// bound to id_token_signing_alg_values_supported), then iss, exp, nbf, iat
// and, when AccessTokenOptions.Audience is set, aud. A token that cannot be
// verified that way (opaque, unsigned, HMAC, or signed with a key the JWKS
// lacks even after a refetch) yields a *NotVerifiableError inside a
// failure.Verification error; a token that can be checked and fails, or
// that breaks a rule of JOSE (a duplicate member, a critical extension), is
// a plain failure.Verification error.
func (p *Provider) VerifyAccessToken(ctx context.Context, raw string, o AccessTokenOptions) (*Token, error) {
	return p.VerifyParsedAccessToken(ctx, Parse(raw), o)
}

// VerifyParsedAccessToken is VerifyAccessToken on a token already parsed.
func (p *Provider) VerifyParsedAccessToken(ctx context.Context, tok *Parsed, o AccessTokenOptions) (*Token, error) {
	if err := p.accessSignature(ctx, tok); err != nil {
		return nil, err
	}
	return p.accessClaims(tok, o)
}

// VerifyParsedAccessTokens is VerifyParsedAccessToken for each of toks,
// as VerifyParsedIDTokens is VerifyParsedIDToken.
func (p *Provider) VerifyParsedAccessTokens(ctx context.Context, toks []*Parsed, o AccessTokenOptions, out []*Token, errs []error) {
	verifyBatch(toks, out, errs,
		func(tok *Parsed) error { return p.accessSignature(ctx, tok) },
		func(tok *Parsed) (*Token, error) { return p.accessClaims(tok, o) })
}

// accessSignature is VerifyParsedAccessToken up to and including the
// signature.
func (p *Provider) accessSignature(ctx context.Context, tok *Parsed) error {
	const op = "access token"
	if tok.raw == "" {
		return failure.New(failure.Usage, op, "no access token to verify")
	}
	if tok.err != nil {
		var r *refusedError
		switch {
		case errors.As(tok.err, &r):
			return failure.New(failure.Verification, op, "%w", tok.err)
		case !strings.Contains(tok.raw, "."):
			return notVerifiable(op, "opaque (not a JWT)", nil)
		}
		return notVerifiable(op, "not a JWT: "+tok.err.Error(), nil)
	}
	t := tok.t
	switch {
	case strings.EqualFold(t.alg, "none"):
		return notVerifiable(op, `unsigned (alg "none")`, t)
	case !slices.Contains(asymmetricNames, t.alg):
		return notVerifiable(op, fmt.Sprintf("signed with alg %s, not with a public key", quote(t.alg)), t)
	case p.keys == nil:
		return notVerifiable(op, "the provider publishes no jwks_uri", t)
	}
	if err := p.signature(ctx, t); err != nil {
		var unknown *unknownKeyError
		if errors.As(err, &unknown) && unknown.rejected == "" {
			return notVerifiable(op, "signed with a key the issuer does not publish: "+unknown.Error(), t)
		}
		return failure.Wrap(failure.Verification, op, err)
	}
	return nil
}

// accessClaims is the rest of VerifyParsedAccessToken, once
// accessSignature accepted tok.
func (p *Provider) accessClaims(tok *Parsed, o AccessTokenOptions) (*Token, error) {
	if err := p.checkAccessClaims(tok.t.claims, o); err != nil {
		return nil, failure.New(failure.Verification, "access token", "%w", err)
	}
	return tok.verifiedToken(), nil
}

// verifiedToken is the Token of a verified p, which p holds from parsing
// on: it is made of the parsed token alone, the same for every Verify
// method, and a Parsed stays read-only for them (safe for concurrent use).
func (p *Parsed) verifiedToken() *Token { return &p.verified }

func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "at+jwt" || typ == "application/at+jwt"
}

// checkIDClaims are the checks of OpenID Connect Core 3.1.3.7 (and 3.2.2.11,
// 3.3.2.11 for at_hash and c_hash) on verified claims.
func (p *Provider) checkIDClaims(c claims, alg string, o IDTokenOptions) error {
	if err := checkClaimTypes(c); err != nil {
		return err
	}
	if err := p.checkIssuer(c); err != nil {
		return err
	}
	var audBuf [4]string
	auds, err := audienceOf(c, audBuf[:0])
	if err != nil {
		return err
	}
	if !auds.contains(o.ClientID) {
		return fmt.Errorf("aud %s does not include the client ID %s", quoteList(audienceList(c)), quote(o.ClientID))
	}
	azp, hasAzp, err := stringClaim(c, "azp")
	if err != nil {
		return err
	}
	if auds.len() > 1 && !hasAzp {
		return fmt.Errorf("several audiences %s and no azp", quoteList(audienceList(c)))
	}
	party := o.ClientID
	if o.AuthorizedParty != "" {
		party = o.AuthorizedParty
	}
	if hasAzp && azp != party {
		return fmt.Errorf("azp %s is not the client ID %s", quote(azp), quote(party))
	}
	if err := checkTimes(c, now(o.Now), o.ClockSkew); err != nil {
		return err
	}
	if o.MaxAge != nil {
		if err := checkAuthTime(c, now(o.Now), *o.MaxAge, o.ClockSkew); err != nil {
			return err
		}
	}
	if sub, has, err := stringClaim(c, "sub"); err != nil {
		return err
	} else if !has || sub == "" {
		return errors.New("sub is missing")
	}
	if !o.NoNonce {
		nonce, has, err := stringClaim(c, "nonce")
		if err != nil {
			return err
		}
		if !has {
			return errors.New("nonce is missing, though one was sent")
		}
		if subtle.ConstantTimeCompare([]byte(nonce), []byte(o.Nonce)) != 1 {
			return errors.New("nonce does not match the one sent")
		}
	}
	if err := checkHash(c, "at_hash", alg, o.AccessToken, o.RequireAtHash, "the access token",
		"it is required when the access token comes from the authorization endpoint"); err != nil {
		return err
	}
	return checkHash(c, "c_hash", alg, o.Code, o.RequireCHash, "the authorization code",
		"it is required when the code comes with the ID token from the authorization endpoint")
}

// stringClaims and dateClaims are the registered claims of RFC 7519 and
// OpenID Connect Core whose type is fixed. A token that carries one with
// another type is malformed even when the check that reads it is not
// asked for (a nonce when none was sent, at_hash without an access token).
var (
	stringClaims = []string{"iss", "sub", "jti", "azp", "nonce", "at_hash", "c_hash"}
	dateClaims   = []string{"exp", "nbf", "iat", "auth_time"}
)

// checkClaimTypes refuses registered claims of the wrong type, and
// distributed or aggregated claims (OpenID Connect Core 5.6.2) whose
// _claim_names point at a source that _claim_sources does not hold.
func checkClaimTypes(c claims) error {
	if cs, ok := c.(*claimSet); !ok || !cs.registeredTypesOK() {
		if err := checkRegisteredTypes(c); err != nil {
			return err
		}
	}
	nmm, hasNames := c.get("_claim_names")
	smm, hasSources := c.get("_claim_sources")
	if !hasNames && !hasSources {
		return nil
	}
	var names, sources any
	if hasNames {
		names = c.value(nmm)
	}
	if hasSources {
		sources = c.value(smm)
	}
	nm, ok := names.(map[string]any)
	if hasNames && !ok {
		return errors.New("_claim_names is not an object")
	}
	sm, ok := sources.(map[string]any)
	if hasSources && !ok {
		return errors.New("_claim_sources is not an object")
	}
	for _, claim := range slices.Sorted(maps.Keys(nm)) {
		src, ok := nm[claim].(string)
		if !ok || src == "" {
			return fmt.Errorf("_claim_names maps %s to something other than a source name", quote(claim))
		}
		if _, ok := sm[src].(map[string]any); !ok {
			return fmt.Errorf("_claim_names maps %s to the source %s, which _claim_sources does not hold", quote(claim), quote(src))
		}
	}
	return nil
}

// checkRegisteredTypes is checkClaimTypes's check of the registered
// claims, in the order that decides which one a message names.
func checkRegisteredTypes(c claims) error {
	for _, name := range stringClaims {
		if _, _, err := stringClaim(c, name); err != nil {
			return err
		}
	}
	for _, name := range dateClaims {
		if _, _, err := numericDate(c, name); err != nil {
			return err
		}
	}
	if m, has := c.get("aud"); has && m.kind != 'z' {
		var buf [4]string
		if _, err := audienceOf(c, buf[:0]); err != nil {
			return err
		}
	}
	return nil
}

func (p *Provider) checkIssuer(c claims) error {
	iss, has, err := stringClaim(c, "iss")
	if err != nil {
		return err
	}
	if !has {
		return errors.New("iss is missing")
	}
	if iss != p.meta.Issuer {
		return fmt.Errorf("iss %s is not the issuer %s", quote(iss), quote(p.meta.Issuer))
	}
	return nil
}

// checkHash checks at_hash or c_hash: the base64url of the left half of
// the hash of value, with the hash of the token's alg.
func checkHash(c claims, claim, alg, value string, required bool, what, why string) error {
	if value == "" {
		return nil
	}
	got, has, err := stringClaim(c, claim)
	if err != nil {
		return err
	}
	if !has {
		if required {
			return fmt.Errorf("%s is missing; %s", claim, why)
		}
		return nil
	}
	want, err := leftHalfHash(alg, value)
	if err != nil {
		return fmt.Errorf("%s: %w", claim, err)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("%s does not match %s", claim, what)
	}
	return nil
}

func leftHalfHash(alg, value string) (string, error) {
	var h hash.Hash
	switch {
	case alg == "EdDSA" || strings.HasSuffix(alg, "512"):
		h = sha512.New()
	case strings.HasSuffix(alg, "384"):
		h = sha512.New384()
	case strings.HasSuffix(alg, "256"):
		h = sha256.New()
	default:
		return "", fmt.Errorf("no hash is defined for alg %s", quote(alg))
	}
	h.Write([]byte(value))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

// checkTimes checks exp (required), nbf (when present) and iat (required),
// each with the skew allowance.
func checkTimes(c claims, now time.Time, skew time.Duration) error {
	skew = max(skew, 0)
	exp, has, err := numericDate(c, "exp")
	if err != nil {
		return err
	}
	if !has {
		return errors.New("exp is missing")
	}
	if !now.Before(exp.Add(skew)) {
		return fmt.Errorf("expired at %s (now %s, clock skew allowance %s)", stamp(exp), stamp(now), skew)
	}
	nbf, has, err := numericDate(c, "nbf")
	if err != nil {
		return err
	}
	if has && nbf.After(now.Add(skew)) {
		return fmt.Errorf("not valid before %s (nbf; now %s, clock skew allowance %s)", stamp(nbf), stamp(now), skew)
	}
	iat, has, err := numericDate(c, "iat")
	if err != nil {
		return err
	}
	if !has {
		return errors.New("iat is missing")
	}
	if iat.After(now.Add(skew)) {
		return fmt.Errorf("iat %s is in the future (now %s, beyond the clock skew allowance of %s)", stamp(iat), stamp(now), skew)
	}
	return nil
}

// checkAuthTime checks auth_time against a max_age that was sent.
func checkAuthTime(c claims, now time.Time, maxAge, skew time.Duration) error {
	at, has, err := numericDate(c, "auth_time")
	if err != nil {
		return err
	}
	if !has {
		return errors.New("auth_time is missing, though max_age was sent")
	}
	if now.After(at.Add(maxAge + max(skew, 0))) {
		return fmt.Errorf("auth_time %s is older than max_age %s allows (now %s, clock skew allowance %s)", stamp(at), maxAge, stamp(now), max(skew, 0))
	}
	return nil
}

func numericDate(c claims, name string) (time.Time, bool, error) {
	m, has := c.get(name)
	if !has || m.kind == 'z' {
		return time.Time{}, false, nil
	}
	if m.kind != 'n' {
		return time.Time{}, true, fmt.Errorf("%s is not a number", name)
	}
	f := m.num
	// Beyond this, the conversion to int64 below would be undefined, and
	// an absurd iat could pass as being in the past.
	if f < -1e15 || f > 1e15 {
		return time.Time{}, true, fmt.Errorf("%s is out of range", name)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func now(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

// stringClaim returns a claim that must be a string when present.
func stringClaim(c claims, name string) (string, bool, error) {
	m, has := c.get(name)
	if !has || m.kind == 'z' {
		return "", false, nil
	}
	if m.kind != 's' {
		return "", true, fmt.Errorf("%s is not a string", name)
	}
	return m.str, true, nil
}

// audience is the aud claim read without copying it: one string, or
// (array) an array of strings.
type audience struct {
	one   string
	array bool
	many  []string
}

// audienceOf reads aud, a string or an array of strings (RFC 7519 4.1.3),
// appending an array's elements to buf.
func audienceOf(c claims, buf []string) (audience, error) {
	m, has := c.get("aud")
	if !has || m.kind == 'z' {
		return audience{}, errors.New("aud is missing")
	}
	if m.kind == 's' {
		return audience{one: m.str}, nil
	}
	// Made only when it is returned: every array aud of a stream passes
	// here.
	notStrings := func() error { return errors.New("aud is neither a string nor an array of strings") }
	if m.kind != 'a' {
		return audience{}, notStrings()
	}
	if cs, ok := c.(*claimSet); ok {
		many, ok := cs.strings(m, buf)
		if !ok {
			return audience{}, notStrings()
		}
		return audience{array: true, many: many}, nil
	}
	v, _ := c.value(m).([]any)
	many := buf
	for _, a := range v {
		s, ok := a.(string)
		if !ok {
			return audience{}, notStrings()
		}
		many = append(many, s)
	}
	return audience{array: true, many: many}, nil
}

func (a audience) contains(s string) bool {
	if !a.array {
		return a.one == s
	}
	return slices.Contains(a.many, s)
}

func (a audience) len() int {
	if !a.array {
		return 1
	}
	return len(a.many)
}

// list is the audiences as strings, for messages.
// audienceList is the audiences of c for a message, read again so that
// the buffer a check read them into stays on its stack.
func audienceList(c claims) []string {
	a, _ := audienceOf(c, nil)
	return a.list()
}

func (a audience) list() []string {
	if !a.array {
		return []string{a.one}
	}
	return a.many
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// checkAccessClaims follows RFC 9068 section 4 where it applies to a
// client: iss, exp and iat are required, aud is checked when the caller
// knows which to expect.
func (p *Provider) checkAccessClaims(c claims, o AccessTokenOptions) error {
	if err := checkClaimTypes(c); err != nil {
		return err
	}
	if err := p.checkIssuer(c); err != nil {
		return err
	}
	if err := checkTimes(c, now(o.Now), o.ClockSkew); err != nil {
		return err
	}
	if o.Audience == "" {
		return nil
	}
	auds, err := audienceOf(c, nil)
	if err != nil {
		return err
	}
	if !auds.contains(o.Audience) {
		return fmt.Errorf("aud %s does not include the expected audience %s", quoteList(auds.list()), quote(o.Audience))
	}
	return nil
}

func notVerifiable(op, reason string, t *compactJWT) error {
	e := &NotVerifiableError{Reason: reason}
	if t != nil {
		e.Header, e.Claims = t.header, t.claims.Map()
	}
	return failure.Wrap(failure.Verification, op, e)
}
