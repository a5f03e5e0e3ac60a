package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// This file is the lean verification path used for many tokens at once
// (claimcheck verify -). It gives the same verdict, with the same failure
// class, as VerifyIDToken and VerifyAccessToken (go-oidc's verifier plus
// this package's checks) — a differential test holds it to that — but
// splits and decodes each token once, looks its key up once per kid in
// the fetched set, and verifies with crypto/rsa, crypto/ecdsa or
// crypto/ed25519 directly. Where go-oidc or go-jose reject something for
// reasons of their own (a critical header, an embedded jwk, claim types,
// non-canonical base64), this path reproduces the rule rather than
// reimplementing it loosely.

// Parsed is a token split and decoded once, its signature not checked. It
// lets a caller route a token by its (unverified) issuer and kind before
// verifying it with the provider of that issuer, without decoding it twice.
type Parsed struct {
	raw string
	t   *compactJWT
	err error
}

// Parse splits and decodes raw. It never fails: a token that is not a
// compact JWS is reported by the Verify methods, as the kind of token
// decides what that means (a failure for an ID token, "not verifiable" for
// an access token).
func Parse(raw string) *Parsed {
	t, err := parseCompact(raw)
	return &Parsed{raw: raw, t: t, err: err}
}

// Parser is Parse with a memory of headers: the tokens of a stream share a
// few headers (one per signing key and type), and a Parser decodes each of
// those once. The header maps of the tokens it parses are then shared, as
// Parsed's maps always are: read them, never modify them. A Parser is safe
// for concurrent use and remembers at most maxCachedHeaders headers. The
// zero Parser is ready to use.
type Parser struct {
	cache headerCache
}

// Parse is Parse, with the header decoded once per distinct header.
func (p *Parser) Parse(raw string) *Parsed {
	t, err := parseCompactCached(raw, &p.cache)
	return &Parsed{raw: raw, t: t, err: err}
}

// maxCachedHeaders bounds a Parser's memory: a stream that mixes more
// distinct headers than this decodes the others each time.
const maxCachedHeaders = 64

// headerCache maps a header segment to its decoded form. Only headers that
// passed parseCompact's checks are kept. Reads are one atomic load of a
// map that is never modified (a put copies it): every token of a stream
// reads the cache from every core, and even a read lock is a write to
// memory all of them share.
type headerCache struct {
	mu sync.Mutex // serializes puts
	m  atomic.Pointer[map[string]*jwtHeader]
}

// jwtHeader is a decoded header and the fields parseCompact reads from it.
type jwtHeader struct {
	header        map[string]any
	alg, kid, typ string
}

// get returns the cached header of seg, or nil; c may be nil.
func (c *headerCache) get(seg string) *jwtHeader {
	if c == nil {
		return nil
	}
	if m := c.m.Load(); m != nil {
		return (*m)[seg]
	}
	return nil
}

func (c *headerCache) put(seg string, h *jwtHeader) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil && (len(*old) >= maxCachedHeaders || (*old)[seg] != nil) {
		return
	}
	m := make(map[string]*jwtHeader, 1)
	if old != nil {
		m = maps.Clone(*old)
	}
	m[seg] = h
	c.m.Store(&m)
}

// Err says why the token is not a compact JWS, or is nil.
func (p *Parsed) Err() error { return p.err }

// Issuer returns the token's iss claim, UNVERIFIED, or "" when it has none
// or is not a JWT: for choosing whose keys to verify it with, nothing more.
func (p *Parsed) Issuer() string {
	if p.t == nil {
		return ""
	}
	iss, _ := p.t.claims["iss"].(string)
	return iss
}

// UnverifiedClaims returns the token's claims, UNVERIFIED, or nil when it
// is not a JWT. The map is shared: do not modify it.
func (p *Parsed) UnverifiedClaims() map[string]any {
	if p.t == nil {
		return nil
	}
	return p.t.claims
}

// Type returns the typ header, UNVERIFIED, or "".
func (p *Parsed) Type() string {
	if p.t == nil {
		return ""
	}
	return p.t.typ
}

// Payload returns the decoded payload, the JSON text of the claims; once a
// Verify method has accepted the token it is the verified payload. It is
// nil when the token is not a JWT. The slice is shared: do not modify it.
func (p *Parsed) Payload() []byte {
	if p.t == nil {
		return nil
	}
	return p.t.payload
}

// VerifyParsedIDToken is VerifyIDToken on a parsed token, through the lean
// path: the same checks, verdict and failure class.
func (p *Provider) VerifyParsedIDToken(ctx context.Context, tok *Parsed, o IDTokenOptions) (*Token, error) {
	const op = "ID token"
	if err := o.check(); err != nil {
		return nil, err
	}
	if tok.err != nil {
		return nil, failure.New(failure.Verification, op, "%w", tok.err)
	}
	t := tok.t
	if err := p.checkIDHeader(t); err != nil {
		return nil, err
	}
	if err := p.leanSignature(ctx, t); err != nil {
		return nil, failure.Wrap(failure.Verification, op, err)
	}
	oc, err := goOIDCView(t)
	if err == nil {
		err = p.checkIDClaims(t.claims, t.alg, o)
	}
	if err == nil {
		// go-oidc's own checks, on its own reading of the claims (which
		// differs from a map's for keys that differ only in case).
		switch {
		case oc.iss != p.meta.Issuer:
			err = fmt.Errorf("id token issued by a different provider, expected %q got %q", p.meta.Issuer, oc.iss)
		case !slices.Contains(oc.aud, o.ClientID):
			err = fmt.Errorf("expected audience %q got %q", o.ClientID, oc.aud)
		}
	}
	if err != nil {
		return nil, failure.New(failure.Verification, op, "%w", err)
	}
	return &Token{Raw: tok.raw, Header: t.header, Claims: t.claims}, nil
}

// VerifyParsedAccessToken is VerifyAccessToken on a parsed token, through
// the lean path: the same checks, verdict and failure class, and a
// *NotVerifiableError in the same cases.
func (p *Provider) VerifyParsedAccessToken(ctx context.Context, tok *Parsed, o AccessTokenOptions) (*Token, error) {
	const op = "access token"
	if tok.raw == "" {
		return nil, failure.New(failure.Usage, op, "no access token to verify")
	}
	if tok.err != nil {
		if !strings.Contains(tok.raw, ".") {
			return nil, notVerifiable(op, "opaque (not a JWT)", nil)
		}
		return nil, notVerifiable(op, "not a JWT: "+tok.err.Error(), nil)
	}
	t := tok.t
	switch {
	case strings.EqualFold(t.alg, "none"):
		return nil, notVerifiable(op, `unsigned (alg "none")`, t)
	case !slices.Contains(asymmetricNames, t.alg):
		return nil, notVerifiable(op, fmt.Sprintf("signed with alg %s, not with a public key", quote(t.alg)), t)
	case p.keys == nil:
		return nil, notVerifiable(op, "the provider publishes no jwks_uri", t)
	}
	if err := p.leanSignature(ctx, t); err != nil {
		var unknown *unknownKeyError
		if errors.As(err, &unknown) {
			return nil, notVerifiable(op, "signed with a key the issuer does not publish: "+unknown.Error(), t)
		}
		return nil, failure.Wrap(failure.Verification, op, err)
	}
	oc, err := goOIDCView(t)
	if err == nil {
		err = p.checkAccessClaims(t.claims, o)
	}
	if err == nil && oc.iss != p.meta.Issuer {
		err = fmt.Errorf("id token issued by a different provider, expected %q got %q", p.meta.Issuer, oc.iss)
	}
	if err != nil {
		return nil, failure.New(failure.Verification, op, "%w", err)
	}
	return &Token{Raw: tok.raw, Header: t.header, Claims: t.claims}, nil
}

// leanSignature checks the header as go-jose does when it parses a token,
// then the signature with the key set (fetching and refetching exactly as
// the go-oidc path does).
func (p *Provider) leanSignature(ctx context.Context, t *compactJWT) error {
	if err := joseHeaderProblem(t.header); err != nil {
		return failure.New(failure.Verification, "", "not a compact JWS signed with an accepted algorithm")
	}
	sig, err := base64.RawURLEncoding.DecodeString(t.segs[2])
	if err != nil {
		return failure.New(failure.Verification, "", "not a compact JWS signed with an accepted algorithm")
	}
	// go-jose verifies the signature over the segments re-encoded from
	// their decoded bytes; a segment with non-zero padding bits differs
	// from its re-encoding, and so must the signing input.
	var input signingInput
	if canonicalBase64(t.segs[0]) && canonicalBase64(t.segs[1]) {
		input = signingInput{t.segs[0], t.segs[1]}
	} else {
		hdr, _ := base64.RawURLEncoding.DecodeString(t.segs[0])
		input = signingInput{base64.RawURLEncoding.EncodeToString(hdr), base64.RawURLEncoding.EncodeToString(t.payload)}
	}
	// go-jose checks crit when it verifies with a key, so an unsupported
	// one fails like a bad signature (and, without a kid, earns the same
	// refetch).
	critOK := critSupported(t.header)
	check := func(key jose.JSONWebKey) bool {
		return critOK && verifyWithKey(key.Key, t.alg, input, sig)
	}
	k := p.keys
	_, err = k.verifyWith(ctx, t.alg, t.kid, func(s *jwks) ([]byte, error) {
		return t.payload, s.tryLean(check, t.alg, t.kid, k.url)
	})
	return err
}

// tryLean is jwks.try with the key looked up by kid in the index and the
// signature checked by check.
func (s *jwks) tryLean(check func(jose.JSONWebKey) bool, alg, kid, jwksURL string) error {
	if kid == "" {
		n := 0
		for _, key := range s.keys {
			if fitsAlg(key, alg) != "" {
				continue
			}
			n++
			if check(key) {
				return nil
			}
		}
		if n == 0 {
			return s.unknown(jwksURL, alg, kid)
		}
		return &badSignatureError{alg: alg, candidates: n, url: displayURL(jwksURL)}
	}
	idx := s.byKid[kid]
	if len(idx) == 0 {
		return s.unknown(jwksURL, alg, kid)
	}
	misfit := ""
	for _, i := range idx {
		key := s.keys[i]
		if why := fitsAlg(key, alg); why != "" {
			misfit = why
			continue
		}
		if check(key) {
			return nil
		}
		misfit = ""
	}
	if misfit != "" {
		return fmt.Errorf("key %s in the JWKS %s, not usable with %s", quote(kid), misfit, alg)
	}
	return &badSignatureError{kid: kid, alg: alg}
}

// signingInput is header "." payload, kept in its two parts: the token's
// own segments, or their canonical re-encodings.
type signingInput struct{ header, payload string }

// hash is the digest of the signing input for alg's hash h (nil for any
// other hash). The input is assembled in a buffer on the stack and hashed
// in one call: a hash.Hash would take each part as a fresh []byte copy and
// be allocated itself, which costs more per token than the hashing.
func (in signingInput) hash(h crypto.Hash) []byte {
	var buf [2048]byte
	b := buf[:0]
	if n := len(in.header) + 1 + len(in.payload); n > len(buf) {
		b = make([]byte, 0, n)
	}
	b = append(b, in.header...)
	b = append(b, '.')
	b = append(b, in.payload...)
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(b)
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384(b)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(b)
		return d[:]
	}
	return nil
}

func (in signingInput) bytes() []byte {
	return []byte(in.header + "." + in.payload)
}

// verifyWithKey is go-jose's verifyPayload for the asymmetric algorithms.
func verifyWithKey(key any, alg string, input signingInput, sig []byte) bool {
	var h crypto.Hash
	switch alg {
	case "RS256", "PS256", "ES256":
		h = crypto.SHA256
	case "RS384", "PS384", "ES384":
		h = crypto.SHA384
	case "RS512", "PS512", "ES512":
		h = crypto.SHA512
	}
	digest := func() []byte { return input.hash(h) }
	switch pub := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case "RS256", "RS384", "RS512":
			return rsa.VerifyPKCS1v15(pub, h, digest(), sig) == nil
		case "PS256", "PS384", "PS512":
			return rsa.VerifyPSS(pub, h, digest(), sig, nil) == nil
		}
	case *ecdsa.PublicKey:
		curve, size := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg],
			map[string]int{"ES256": 32, "ES384": 48, "ES512": 66}[alg]
		if curve == nil || pub.Curve != curve || len(sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest(), r, s)
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, input.bytes(), sig)
	}
	return false
}

// canonicalBase64 reports whether seg (valid unpadded base64url) is the
// encoding of its own decoding: the unused bits of its last character are
// zero.
func canonicalBase64(seg string) bool {
	var mask byte
	switch len(seg) % 4 {
	case 0:
		return true
	case 2:
		mask = 0x0f
	case 3:
		mask = 0x03
	default:
		return false
	}
	c := seg[len(seg)-1]
	var v byte
	switch {
	case c >= 'A' && c <= 'Z':
		v = c - 'A'
	case c >= 'a' && c <= 'z':
		v = c - 'a' + 26
	case c >= '0' && c <= '9':
		v = c - '0' + 52
	case c == '-':
		v = 62
	case c == '_':
		v = 63
	}
	return v&mask == 0
}

// joseHeaderProblem applies the checks go-jose makes on a protected header
// when it parses a JWS: nonce a string, an embedded jwk a valid public key,
// x5c a chain of certificates. (alg and kid are checked by parseCompact.)
func joseHeaderProblem(h map[string]any) error {
	if v, ok := h["nonce"]; ok && v != nil {
		if _, ok := v.(string); !ok {
			return errors.New("nonce header is not a string")
		}
	}
	if v, ok := h["jwk"]; ok && v != nil {
		b, _ := json.Marshal(v)
		var k jose.JSONWebKey
		if err := json.Unmarshal(b, &k); err != nil || !k.Valid() || !k.IsPublic() {
			return errors.New("invalid embedded jwk")
		}
	}
	if v, ok := h["x5c"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			return errors.New("x5c is not an array")
		}
		for _, c := range list {
			s, ok := c.(string)
			if !ok {
				if c == nil {
					// json.Unmarshal into []string turns null into "",
					// which is not a certificate.
					s = ""
				} else {
					return errors.New("x5c holds a non-string")
				}
			}
			der, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return err
			}
			if _, err := x509.ParseCertificate(der); err != nil {
				return err
			}
		}
	}
	return nil
}

// critSupported is go-jose's check of crit in the protected header: an
// array of strings, each one a header it supports (only b64).
func critSupported(h map[string]any) bool {
	v, ok := h["crit"]
	if !ok || v == nil {
		return true
	}
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, c := range list {
		if c != "b64" {
			return false
		}
	}
	return true
}

// oidcView is what go-oidc reads from the claims for its own checks.
type oidcView struct {
	iss string
	aud []string
}

// oidcFields are the claims go-oidc decodes into typed fields.
var oidcFields = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "_claim_names", "_claim_sources"}

// goOIDCView returns go-oidc's reading of the claims, failing where go-oidc
// fails to decode them ("failed to unmarshal claims", distributed claims
// without a source). For the usual token — each of those claims spelled
// exactly and of the plain type — it is read off the decoded map; anything
// else is decoded as go-oidc decodes it, so that encoding/json's rules
// (case-insensitive keys, the last duplicate winning, json.Number from a
// string) apply as they do there.
func goOIDCView(t *compactJWT) (oidcView, error) {
	if plainOIDCClaims(t) {
		v := oidcView{}
		v.iss, _ = t.claims["iss"].(string)
		switch a := t.claims["aud"].(type) {
		case nil:
			if _, has := t.claims["aud"]; has {
				v.aud = []string{""}
			}
		case string:
			v.aud = []string{a}
		case []any:
			v.aud = make([]string, len(a))
			for i, s := range a {
				v.aud[i], _ = s.(string)
			}
		}
		return v, nil
	}
	var c struct {
		Issuer       string            `json:"iss"`
		Subject      string            `json:"sub"`
		Audience     oidcAudience      `json:"aud"`
		Expiry       oidcTime          `json:"exp"`
		IssuedAt     oidcTime          `json:"iat"`
		NotBefore    *oidcTime         `json:"nbf"`
		Nonce        string            `json:"nonce"`
		AtHash       string            `json:"at_hash"`
		ClaimNames   map[string]string `json:"_claim_names"`
		ClaimSources map[string]struct {
			Endpoint    string `json:"endpoint"`
			AccessToken string `json:"access_token"`
		} `json:"_claim_sources"`
	}
	if err := json.Unmarshal(t.payload, &c); err != nil {
		return oidcView{}, fmt.Errorf("failed to unmarshal claims: %v", err)
	}
	for _, src := range c.ClaimNames {
		if src == "" {
			return oidcView{}, errors.New("failed to obtain source from claim name")
		}
		if _, ok := c.ClaimSources[src]; !ok {
			return oidcView{}, errors.New("source does not exist")
		}
	}
	return oidcView{iss: c.Issuer, aud: c.Audience}, nil
}

// plainOIDCClaims reports whether go-oidc's typed fields can be read off
// the map: no key that differs from one of them only in case, and each of
// plain type.
func plainOIDCClaims(t *compactJWT) bool {
	c := t.claims
	if t.keysChecked {
		// The plain decoder saw every key, all ASCII.
		if t.foldsToOIDC {
			return false
		}
	} else if keysFoldToOIDC(c) {
		return false
	}
	return plainOIDCTypes(c)
}

// keysFoldToOIDC reports whether a key of c differs from one of go-oidc's
// typed claims only in case.
func keysFoldToOIDC(c map[string]any) bool {
	for k := range c {
		if len(k) > 3*len("_claim_sources") {
			continue
		}
		// Two ASCII strings fold to each other only if equally long; a
		// key outside ASCII may fold to a shorter one (ſ to s, K to k).
		ascii := true
		for i := 0; i < len(k); i++ {
			if k[i] >= 0x80 {
				ascii = false
				break
			}
		}
		for _, f := range oidcFields {
			if ascii && len(k) != len(f) {
				continue
			}
			if k != f && strings.EqualFold(k, f) {
				return true
			}
		}
	}
	return false
}

// plainOIDCTypes reports whether go-oidc's typed claims are of plain types.
func plainOIDCTypes(c map[string]any) bool {
	for _, f := range [...]string{"iss", "sub", "nonce", "at_hash"} {
		if v, ok := c[f]; ok && v != nil {
			if _, ok := v.(string); !ok {
				return false
			}
		}
	}
	switch a := c["aud"].(type) {
	case nil, string:
	case []any:
		for _, s := range a {
			if _, ok := s.(string); !ok && s != nil {
				return false
			}
		}
	default:
		return false
	}
	for _, f := range [...]string{"exp", "iat"} {
		if v, ok := c[f]; ok {
			if _, ok := v.(float64); !ok {
				return false
			}
		}
	}
	if v, ok := c["nbf"]; ok && v != nil {
		if _, ok := v.(float64); !ok {
			return false
		}
	}
	_, names := c["_claim_names"]
	_, sources := c["_claim_sources"]
	return !names && !sources
}

// oidcAudience decodes aud as go-oidc does: a string, or else an array of
// strings.
type oidcAudience []string

func (a *oidcAudience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = oidcAudience{s}
		return nil
	}
	var auds []string
	if err := json.Unmarshal(b, &auds); err != nil {
		return err
	}
	*a = auds
	return nil
}

// oidcTime decodes a NumericDate as go-oidc does (json.Number, as an
// integer or else a float); only whether it decodes matters here.
type oidcTime struct{}

func (*oidcTime) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if _, err := n.Int64(); err == nil {
		return nil
	}
	_, err := n.Float64()
	return err
}
