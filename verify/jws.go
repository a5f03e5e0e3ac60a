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
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
)

// This file is the one way claimcheck reads and checks a JWS: every token
// — from a flow, a grant, claimcheck verify, verify -, a suite, a signed
// userinfo response — is split and decoded by parseCompact, its header
// checked there, and its signature checked by Provider.signature with the
// provider's key set and crypto/rsa, crypto/ecdsa or crypto/ed25519
// directly. go-oidc's verifier is the oracle of the differential test
// (TestOnePathMatchesGoOIDC), not a second path.

// Parsed is a token split and decoded once, its signature not checked. It
// lets a caller route a token by its (unverified) issuer and kind before
// verifying it with the provider of that issuer, without decoding it twice.
type Parsed struct {
	raw string
	t   *compactJWT // nil, or &jwt once parsed
	err error
	// jwt holds what t points at, and verified the Token a Verify method
	// returns for it: one allocation per token for all three.
	jwt      compactJWT
	verified Token
}

// Parse splits and decodes raw. It never fails: a token that is not a
// compact JWS is reported by the Verify methods, as the kind of token
// decides what that means (a failure for an ID token, "not verifiable" for
// an access token that is not a JWT at all).
func Parse(raw string) *Parsed {
	return parse(raw, nil)
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
	return parse(raw, &p.cache)
}

// parse is Parse with cache (nil for none).
func parse(raw string, cache *headerCache) *Parsed {
	p := &Parsed{raw: raw}
	p.err = parseCompactInto(raw, cache, &p.jwt)
	if p.err == nil {
		p.t = &p.jwt
		p.verified = Token{Raw: raw, Header: p.jwt.header, claims: p.jwt.claims}
	}
	return p
}

// Err says why the token is not a compact JWS claimcheck accepts, or is
// nil.
func (p *Parsed) Err() error { return p.err }

// Issuer returns the token's iss claim, UNVERIFIED, or "" when it has none
// or is not a JWT: for choosing whose keys to verify it with, nothing more.
func (p *Parsed) Issuer() string {
	if p.t == nil {
		return ""
	}
	iss, _, _ := stringClaim(p.t.claims, "iss")
	return iss
}

// UnverifiedClaims returns the token's claims, UNVERIFIED, or nil when it
// is not a JWT. The map is built on the first call and then shared: do not
// modify it.
func (p *Parsed) UnverifiedClaims() map[string]any {
	if p.t == nil {
		return nil
	}
	return p.t.claims.Map()
}

// Kind is GuessKind of the token's UNVERIFIED claims and typ header,
// without decoding the claims into a map.
func (p *Parsed) Kind(clientID string) string {
	if p.t == nil {
		return guessKind(nil, "", clientID)
	}
	return guessKind(p.t.claims, p.t.typ, clientID)
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
// empty when the token is not a JWT.
func (p *Parsed) Payload() string {
	if p.t == nil {
		return ""
	}
	return p.t.payload
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

// maxTokenBytes bounds what is parsed at all. Real tokens, groups included,
// are a few kilobytes; bearer tokens travel in HTTP headers, which servers
// cap well below this.
const maxTokenBytes = 64 << 10

// compactJWT is a token split and decoded, signature not yet checked.
type compactJWT struct {
	header        map[string]any
	claims        *claimSet
	alg, kid, typ string
	// payload and sig are the decoded payload and signature segments;
	// segs are the three segments.
	payload string
	sig     []byte
	segs    [3]string
	// set holds what claims points at: one allocation for the token and
	// its claims.
	set claimSet
	// hashed is the digest of the signing input for alg's hash (nil when
	// alg has none: EdDSA, or one that is refused), in digest. It is made
	// when the token is parsed, so that the signature checks of a batch
	// are the checks alone, and once for all the keys a token without kid
	// is tried with.
	hashed []byte
	digest [sha512.Size]byte
}

// refusedError is a token that has the form of a compact JWS but breaks a
// rule of JOSE or JWT that protects its meaning: a duplicate member, text
// that is not UTF-8, a critical extension, a non-canonical encoding. Such a
// token is refused as a verification failure even where a token that is
// merely not a JWT would be "not verifiable" (an access token), since it
// can only have been made to be read two ways.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// Is makes a refusal match ErrRefused.
func (e *refusedError) Is(target error) bool { return target == ErrRefused }

// ErrRefused matches (with errors.Is) a Parsed.Err that is not a matter of
// form — the token is a compact JWS — but of a rule it breaks: a duplicate
// member in its header or claims, text that is not UTF-8, nesting too
// deep, a critical extension, b64, a non-canonical encoding. Every Verify
// method fails such a token, an access token included.
var ErrRefused = errors.New("refused")

func refused(format string, args ...any) error {
	return &refusedError{fmt.Errorf(format, args...)}
}

// parseCompactInto splits and decodes raw into t, taking headers that
// passed its checks from, and adding them to, cache when it is not nil. t
// is meaningful only when the error is nil.
//
// Only the JWS compact serialization is accepted: three segments of
// unpadded base64url (RFC 7515 section 7.1), each the canonical encoding of
// its bytes, and header and payload JSON objects as decodeObject reads
// them. The header must name its alg; kid and typ, when present, are
// strings; crit and b64 are refused (see checkHeader). Headers that carry a
// key or point at one (jwk, jku, x5u, x5c) are not refused, but those keys
// are never used: only the provider's JWKS verifies a token.
func parseCompactInto(raw string, cache *headerCache, t *compactJWT) error {
	if raw == "" {
		return errors.New("empty")
	}
	if len(raw) > maxTokenBytes {
		return fmt.Errorf("%d bytes, over the %d-byte limit", len(raw), maxTokenBytes)
	}
	if jsonSerialization(raw) {
		return errors.New("JWS JSON serialization is not accepted; a compact JWS (three segments) is required")
	}
	// Split without allocating: a compact JWS has exactly two dots.
	switch n := strings.Count(raw, ".") + 1; n {
	case 3:
	case 5:
		return errors.New("5 segments: an encrypted token (JWE), which claimcheck cannot decrypt")
	default:
		return fmt.Errorf("%d dot-separated segments; a compact JWS has 3", n)
	}
	var parts [3]string
	i := strings.IndexByte(raw, '.')
	j := i + 1 + strings.IndexByte(raw[i+1:], '.')
	parts[0], parts[1], parts[2] = raw[:i], raw[i+1:j], raw[j+1:]
	// The signature first, as its form is checked before anything else is
	// read.
	sig := make([]byte, base64.RawURLEncoding.DecodedLen(len(parts[2])))
	if !decodeBase64URL(sig, parts[2]) {
		// Only now, for the message, the reason.
		if !isBase64URL(parts[2]) {
			return errors.New("segment 3 holds characters outside unpadded base64url")
		}
		return errors.New("segment 3 is not base64url")
	}
	for i, part := range parts {
		// The signature covers the segments as sent, so a segment whose
		// unused bits are set decodes like another one: the same token in
		// two spellings, which a verifier that re-encodes (go-jose) and
		// one that does not would judge differently.
		if !canonicalBase64(part) {
			return refused("segment %d is not canonical base64url (its last character has unused bits set)", i+1)
		}
	}
	*t = compactJWT{segs: parts, sig: sig}
	cached := cache.get(parts[0])
	if cached != nil {
		t.header, t.alg, t.kid, t.typ = cached.header, cached.alg, cached.kid, cached.typ
	} else {
		hdr, err := decodeSegment(parts[0])
		if err != nil {
			return segmentError(1, parts[0])
		}
		if t.header, err = decodeObject(hdr); err != nil {
			return jsonRefusal("the header", err)
		}
		if err := checkHeader(t); err != nil {
			return err
		}
	}
	payload, ok := decodeBase64URLString(parts[1])
	if !ok {
		return segmentError(2, parts[1])
	}
	if err := decodeClaimsInto(payload, &t.set); err != nil {
		return jsonRefusal("the payload", err)
	}
	t.claims, t.payload = &t.set, payload
	if h := algHash(t.alg); h != 0 {
		t.hashed = signingInput{parts[0], parts[1]}.hash(h, &t.digest)
	}
	if cached == nil {
		cache.put(parts[0], &jwtHeader{header: t.header, alg: t.alg, kid: t.kid, typ: t.typ})
	}
	return nil
}

// jsonSerialization reports whether raw begins, after white space, with
// the brace of a JWS JSON serialization.
func jsonSerialization(raw string) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// decodeSegment decodes a segment of unpadded base64url (decodeBase64URL).
func decodeSegment(seg string) ([]byte, error) {
	b := make([]byte, base64.RawURLEncoding.DecodedLen(len(seg)))
	if !decodeBase64URL(b, seg) {
		return nil, errors.New("not unpadded base64url")
	}
	return b, nil
}

// segmentError says why segment n (1 or 2) does not decode.
func segmentError(n int, seg string) error {
	if !isBase64URL(seg) {
		return fmt.Errorf("segment %d holds characters outside unpadded base64url", n)
	}
	return fmt.Errorf("segment %d is not base64url", n)
}

// jsonRefusal names the segment in a decodeObject error, keeping a
// strictness violation a refusal.
func jsonRefusal(what string, err error) error {
	var strict *strictJSONError
	if errors.As(err, &strict) {
		return refused("%s %w", what, err)
	}
	return fmt.Errorf("%s %w", what, err)
}

// checkHeader reads alg, kid and typ and applies the header rules.
func checkHeader(t *compactJWT) error {
	h := t.header
	var ok bool
	if t.alg, ok = h["alg"].(string); !ok || t.alg == "" {
		return errors.New("the header has no alg")
	}
	if v, has := h["kid"]; has {
		if t.kid, ok = v.(string); !ok {
			return errors.New("the header's kid is not a string")
		}
	}
	if v, has := h["typ"]; has {
		if t.typ, ok = v.(string); !ok {
			return refused("the header's typ is not a string")
		}
	}
	if v, has := h["crit"]; has {
		// RFC 7515 section 4.1.11: a recipient that does not understand
		// an extension listed in crit must refuse the JWS. claimcheck
		// understands none (b64, the one go-jose knows, is refused
		// below), so any crit is a refusal.
		names, ok := v.([]any)
		if !ok || len(names) == 0 {
			return refused("the header's crit is not a non-empty array of names (RFC 7515 section 4.1.11)")
		}
		for _, n := range names {
			if _, ok := n.(string); !ok {
				return refused("the header's crit is not a non-empty array of names (RFC 7515 section 4.1.11)")
			}
		}
		return refused("the header marks %s as critical (crit), an extension claimcheck does not implement, so the token must be refused (RFC 7515 section 4.1.11)", quote(names[0].(string)))
	}
	if _, has := h["b64"]; has {
		// RFC 7797's unencoded payload would make the signed bytes differ
		// from the decoded payload segment.
		return refused("the header's b64 parameter is not allowed in a JWT")
	}
	return nil
}

// isBase64URL reports whether s holds only the unpadded base64url alphabet.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		// One load per byte rather than five comparisons.
		if base64URLTable[s[i]] != '1' {
			return false
		}
	}
	return true
}

// base64URLTable marks with '1' the bytes of unpadded base64url, by value.
const base64URLTable = "0000000000000000000000000000000000000000000001001111111111000000" +
	"0111111111111111111111111110000101111111111111111111111111100000" +
	"0000000000000000000000000000000000000000000000000000000000000000" +
	"0000000000000000000000000000000000000000000000000000000000000000"

// canonicalBase64 reports whether seg is not a second spelling of its
// bytes: false only when its last character is of the base64url alphabet
// and has unused bits set. A segment that is not base64url at all passes,
// for its decoding to refuse with the reason.
func canonicalBase64(seg string) bool {
	var mask byte
	switch len(seg) % 4 {
	case 2:
		mask = 0x0f
	case 3:
		mask = 0x03
	default:
		return true
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
	default:
		return true
	}
	return v&mask == 0
}

// signature checks the token's signature with the provider's key set,
// fetching it on first use and refetching (rate limited) for a key it
// lacks. The alg has been checked against what the caller accepts.
func (p *Provider) signature(ctx context.Context, t *compactJWT) error {
	sig := t.sig
	if len(sig) > maxRSABits/8 {
		// No accepted key makes a signature longer than an 8192-bit RSA
		// one: let the key set say so (a bad signature, or the key it
		// lacks).
		sig = nil
	}
	input := signingInput{t.segs[0], t.segs[1]}
	k := p.keys
	return k.verifyWith(ctx, func(s *jwks) error {
		return s.try(func(pub crypto.PublicKey) bool { return verifyWithKey(pub, t.alg, input, t.hashed, sig) }, t.alg, t.kid, k.url)
	})
}

// algHash is the hash of an RSA or ECDSA JWS algorithm, 0 for another.
func algHash(alg string) crypto.Hash {
	switch alg {
	case "RS256", "PS256", "ES256":
		return crypto.SHA256
	case "RS384", "PS384", "ES384":
		return crypto.SHA384
	case "RS512", "PS512", "ES512":
		return crypto.SHA512
	}
	return 0
}

// signingInput is header "." payload, kept in its two parts, the token's
// own segments.
type signingInput struct{ header, payload string }

// hash is the digest of the signing input for alg's hash h (nil for any
// other hash), written to out. The input is assembled in a buffer on the
// stack and hashed in one call: a hash.Hash would take each part as a
// fresh []byte copy and be allocated itself, which costs more per token
// than the hashing.
func (in signingInput) hash(h crypto.Hash, out *[sha512.Size]byte) []byte {
	var buf [2048]byte
	b := in.appendTo(buf[:0])
	switch h {
	case crypto.SHA256:
		*(*[sha256.Size]byte)(out[:]) = sha256.Sum256(b)
		return out[:sha256.Size]
	case crypto.SHA384:
		*(*[sha512.Size384]byte)(out[:]) = sha512.Sum384(b)
		return out[:sha512.Size384]
	case crypto.SHA512:
		*out = sha512.Sum512(b)
		return out[:]
	}
	return nil
}

// appendTo appends header "." payload to b, growing it (on the heap) only
// when a token is larger than b's room.
func (in signingInput) appendTo(b []byte) []byte {
	b = append(b, in.header...)
	b = append(b, '.')
	return append(b, in.payload...)
}

// ecCurve is the curve of an ECDSA JWS algorithm and the length of each
// of R and S in its signatures (RFC 7518 section 3.4); nil for another alg.
func ecCurve(alg string) (elliptic.Curve, int) {
	switch alg {
	case "ES256":
		return elliptic.P256(), 32
	case "ES384":
		return elliptic.P384(), 48
	case "ES512":
		return elliptic.P521(), 66
	}
	return nil, 0
}

// verifyWithKey verifies sig over input, whose digest for alg's hash is
// hashed (the parse made it), with key for alg, one of the asymmetric JWS
// algorithms of RFC 7518 and RFC 8037. fitsAlg has matched the key's type
// to alg.
func verifyWithKey(key crypto.PublicKey, alg string, input signingInput, hashed, sig []byte) bool {
	h := algHash(alg)
	if h != 0 && len(hashed) != h.Size() {
		return false
	}
	switch pub := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case "RS256", "RS384", "RS512":
			return rsa.VerifyPKCS1v15(pub, h, hashed, sig) == nil
		case "PS256", "PS384", "PS512":
			// The salt is as long as the hash (RFC 7518 section 3.5);
			// VerifyPSS's auto-detection would accept any length.
			return rsa.VerifyPSS(pub, h, hashed, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
	case *ecdsa.PublicKey:
		curve, size := ecCurve(alg)
		// RFC 7518 section 3.4: R and S as fixed-length big-endian
		// octets, never DER.
		if curve == nil || pub.Curve != curve || len(sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, hashed, r, s)
	case ed25519.PublicKey:
		var buf [2048]byte
		return alg == "EdDSA" && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, input.appendTo(buf[:0]), sig)
	}
	return false
}
