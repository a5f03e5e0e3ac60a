package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// defaultRefetchInterval is how long after a refetch for an unknown key the
// next one may happen. A provider that signs with a key it does not publish
// would otherwise cost one JWKS request per token (go-oidc's RemoteKeySet
// refetches on every failed verification).
const defaultRefetchInterval = time.Minute

// keySet verifies signatures against a jwks_uri. It differs from go-oidc's
// RemoteKeySet where that one is wrong for claimcheck: a kid
// missing from the keys just fetched still gets one refetch (a cache in
// front of the provider may serve yesterday's keys), further refetches are
// rate limited, a bad signature with a known key causes none, fetch
// failures stay typed (failure.Provider), keys marked use "enc" or carrying
// another alg are not used, and a key that cannot be used is kept out with
// the reason, for the message of a token signed with it.
type keySet struct {
	url         string
	client      *http.Client
	minInterval time.Duration
	now         func() time.Time

	// sem serializes fetches; it is a channel rather than a mutex so that
	// a caller waiting for another's fetch can give up when its context
	// ends.
	sem chan struct{}

	// cur is the current set, nil until the first successful fetch. It is
	// read with one atomic load on every verification (a stream verifies
	// on all cores: a lock there would be written by each of them), and
	// replaced under mu.
	cur atomic.Pointer[keyGen]

	mu sync.Mutex
	// refetchedAt is when the last refetch for an unknown key was started;
	// zero when none has been.
	refetchedAt time.Time
}

// keyGen is a fetched set and its generation: gen counts successful
// fetches, so that a caller who saw an old set can tell that someone else
// refetched meanwhile and use that set instead of fetching again.
type keyGen struct {
	set *jwks
	gen int
}

// install makes set the current set, of the next generation; k.mu is held.
func (k *keySet) install(set *jwks) int {
	gen := 1
	if old := k.cur.Load(); old != nil {
		gen = old.gen + 1
	}
	k.cur.Store(&keyGen{set: set, gen: gen})
	return gen
}

func newKeySet(jwksURL string, client *http.Client) *keySet {
	return &keySet{
		url:         jwksURL,
		client:      client,
		minInterval: defaultRefetchInterval,
		now:         time.Now,
		sem:         make(chan struct{}, 1),
	}
}

// jwks is one fetched key set, reduced to the keys usable for signatures.
// It is immutable once built.
type jwks struct {
	keys []sigKey
	// byKid indexes keys by kid, for one lookup per token.
	byKid map[string][]int
	// enc and unusable count the keys left out, for messages about a set
	// that holds no key for a token; rejected says, by kid, why a key
	// that names one could not be used.
	enc, unusable int
	rejected      map[string]string
}

// sigKey is a published key that can verify signatures.
type sigKey struct {
	kid, alg string
	// pub is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	pub crypto.PublicKey
}

// verifyWith runs try on the cached set, fetching it on first use, and once
// more on a refetched set (within the allowance) when no key fitted.
func (k *keySet) verifyWith(ctx context.Context, try func(*jwks) error) error {
	set, gen, err := k.current(ctx)
	if err != nil {
		return err
	}
	err = try(set)
	if err == nil || !retryable(err) {
		return classify(err)
	}
	set, refetched, since, ferr := k.refetch(ctx, gen)
	if ferr != nil {
		return ferr
	}
	if refetched {
		err = try(set)
		if err == nil || !retryable(err) {
			return classify(err)
		}
	}
	var unknown *unknownKeyError
	if errors.As(err, &unknown) {
		unknown.refetched, unknown.since, unknown.interval = refetched, since, k.minInterval
	}
	var bad *badSignatureError
	if errors.As(err, &bad) {
		// With no kid, a failing signature was worth a refetch (the signer
		// may be a new key); after it, the signature is simply bad.
		bad.afterRefetch = refetched
	}
	return classify(err)
}

// classify gives the key set's errors their class: every one of them means
// the token does not verify. Access-token callers turn an unknownKeyError
// into a NotVerifiableError themselves.
func classify(err error) error {
	if err == nil {
		return nil
	}
	return failure.Wrap(failure.Verification, "", err)
}

// retryable reports whether a refetch could change the outcome: no key
// matched the kid, or, without a kid, no key verified.
func retryable(err error) bool {
	var unknown *unknownKeyError
	if errors.As(err, &unknown) {
		return true
	}
	var bad *badSignatureError
	return errors.As(err, &bad) && bad.kid == ""
}

// current returns the cached set, fetching it on first use.
func (k *keySet) current(ctx context.Context) (*jwks, int, error) {
	if g := k.cur.Load(); g != nil {
		return g.set, g.gen, nil
	}
	if err := k.acquire(ctx); err != nil {
		return nil, 0, err
	}
	defer k.release()
	if g := k.cur.Load(); g != nil {
		return g.set, g.gen, nil
	}
	set, err := k.fetch(ctx)
	if err != nil {
		return nil, 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return set, k.install(set), nil
}

// refetch fetches the set again unless another caller already did since
// generation seen, or the last refetch is less than minInterval ago. It
// reports whether the returned set is newer than seen and, when the
// interval forbade a refetch, how long ago the last one was.
func (k *keySet) refetch(ctx context.Context, seen int) (*jwks, bool, time.Duration, error) {
	if err := k.acquire(ctx); err != nil {
		return nil, false, 0, err
	}
	defer k.release()
	k.mu.Lock()
	g := k.cur.Load()
	if g.gen != seen {
		k.mu.Unlock()
		return g.set, true, 0, nil
	}
	now := k.now()
	if !k.refetchedAt.IsZero() && now.Sub(k.refetchedAt) < k.minInterval {
		since := now.Sub(k.refetchedAt)
		k.mu.Unlock()
		return g.set, false, since, nil
	}
	// The allowance is spent when the refetch starts, so a JWKS that fails
	// to answer is not asked again for every token.
	k.refetchedAt = now
	k.mu.Unlock()

	set, err := k.fetch(ctx)
	if err != nil {
		return nil, false, 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.install(set)
	return set, true, 0, nil
}

func (k *keySet) acquire(ctx context.Context) error {
	select {
	case k.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return k.failed(ctx, ctx.Err())
	}
}

func (k *keySet) release() { <-k.sem }

// fetch downloads and parses the key set. Its errors are failure.Provider:
// a JWKS that cannot be had says nothing about the token.
func (k *keySet) fetch(ctx context.Context) (*jwks, error) {
	// no-cache asks caches in front of the provider for the current keys,
	// which is the point of a refetch after rotation.
	res, err := get(ctx, k.client, k.url, map[string]string{
		"Accept":        "application/jwk-set+json, application/json",
		"Cache-Control": "no-cache",
	})
	if err == nil {
		err = res.wantJSON()
	}
	if err != nil {
		return nil, k.failed(ctx, err)
	}
	set, err := parseJWKS(res.body)
	if err != nil {
		return nil, k.failed(ctx, err)
	}
	return set, nil
}

// failed names the JWKS in a fetch failure: Ctrl-C is an interruption,
// anything else a provider failure.
func (k *keySet) failed(ctx context.Context, err error) error {
	op := "JWKS at " + displayURL(k.url)
	if errors.Is(ctx.Err(), context.Canceled) {
		return failure.New(failure.Interrupted, op, "%w", context.Canceled)
	}
	return failure.New(failure.Provider, op, "%w", err)
}

// parseJWKS keeps the keys usable to verify signatures. Keys it does not
// understand are skipped, as RFC 7517 section 5 asks, rather than failing
// the whole set; keys meant for encryption are skipped because a key must
// serve one purpose only (go-oidc would verify with them). Why a key with a
// kid was skipped is kept, so that a token signed with it is told so
// instead of "not in the JWKS".
func parseJWKS(body []byte) (*jwks, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, jsonProblem("key set", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`the key set has no "keys" array`)
	}
	set := &jwks{}
	for _, raw := range doc.Keys {
		var k rawJWK
		if err := json.Unmarshal(raw, &k); err != nil {
			set.unusable++
			continue
		}
		if k.Use == "enc" {
			set.enc++
			continue
		}
		key, why := k.sigKey()
		if why != "" {
			set.unusable++
			if k.Kid != "" {
				if set.rejected == nil {
					set.rejected = map[string]string{}
				}
				set.rejected[k.Kid] = why
			}
			continue
		}
		set.keys = append(set.keys, key)
	}
	set.byKid = make(map[string][]int, len(set.keys))
	for i, key := range set.keys {
		set.byKid[key.kid] = append(set.byKid[key.kid], i)
	}
	return set, nil
}

// rawJWK is the members of a JWK (RFC 7517, RFC 7518 section 6, RFC 8037)
// that decide whether and how it verifies signatures.
type rawJWK struct {
	Kty, Use, Alg, Kid string
	KeyOps             []string `json:"key_ops"`
	N, E               string
	Crv, X, Y          string
	// Private or symmetric material: a set that publishes it is broken
	// whatever else it holds.
	D, P, Q, DP, DQ, QI, K, Priv json.RawMessage
}

// RSA moduli outside these bounds are refused: under 2048 bits is too weak
// (RFC 7518 section 3.3 requires 2048), and over 8192 is no real key, only
// a way to make each verification slow.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// sigKey returns the key, or why it cannot verify signatures.
func (k rawJWK) sigKey() (sigKey, string) {
	switch {
	case k.Use != "" && k.Use != "sig":
		return sigKey{}, fmt.Sprintf("its use is %s, not sig", quote(k.Use))
	case k.KeyOps != nil && !slices.Contains(k.KeyOps, "verify"):
		return sigKey{}, `its key_ops do not include "verify"`
	case k.Alg != "" && !slices.Contains(asymmetricNames, k.Alg):
		return sigKey{}, fmt.Sprintf("its alg %s is not a public-key signature algorithm", quote(k.Alg))
	case k.D != nil || k.P != nil || k.Q != nil || k.DP != nil || k.DQ != nil || k.QI != nil || k.K != nil || k.Priv != nil:
		return sigKey{}, "it holds private or symmetric key material"
	}
	out := sigKey{kid: k.Kid, alg: k.Alg}
	switch k.Kty {
	case "RSA":
		n, ok1 := base64UInt(k.N)
		e, ok2 := base64UInt(k.E)
		if !ok1 || !ok2 || n.Sign() == 0 {
			return sigKey{}, "an RSA key whose n or e is not a base64url integer"
		}
		switch bits := n.BitLen(); {
		case bits < minRSABits:
			return sigKey{}, fmt.Sprintf("a %d-bit RSA key, too small: at least %d bits are required (RFC 7518 section 3.3)", bits, minRSABits)
		case bits > maxRSABits:
			return sigKey{}, fmt.Sprintf("a %d-bit RSA key, larger than the %d bits claimcheck accepts", bits, maxRSABits)
		case n.Bit(0) == 0:
			return sigKey{}, "an RSA key with an even modulus"
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
			return sigKey{}, fmt.Sprintf("an RSA key with the unusable public exponent %s", e)
		}
		out.pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return sigKey{}, fmt.Sprintf("an EC key on the unsupported curve %s", quote(k.Crv))
		}
		size := (curve.Params().BitSize + 7) / 8
		x, ok1 := base64Bytes(k.X)
		y, ok2 := base64Bytes(k.Y)
		if !ok1 || !ok2 || len(x) != size || len(y) != size {
			return sigKey{}, fmt.Sprintf("an EC key whose x and y are not %d-byte base64url coordinates of %s", size, k.Crv)
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return sigKey{}, fmt.Sprintf("an EC key whose point is not on %s", k.Crv)
		}
		out.pub = pub
	case "OKP":
		if k.Crv != "Ed25519" {
			return sigKey{}, fmt.Sprintf("an OKP key on the unsupported curve %s", quote(k.Crv))
		}
		x, ok := base64Bytes(k.X)
		if !ok || len(x) != ed25519.PublicKeySize {
			return sigKey{}, "an Ed25519 key whose x is not 32 base64url bytes"
		}
		out.pub = ed25519.PublicKey(x)
	case "":
		return sigKey{}, "it has no kty"
	default:
		return sigKey{}, fmt.Sprintf("its kty %s is not RSA, EC or OKP", quote(k.Kty))
	}
	return out, ""
}

// base64Bytes decodes a JWK member: base64url, without padding as RFC 7515
// section 2 says, though padding some providers add is tolerated.
func base64Bytes(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return b, err == nil && s != ""
}

// base64UInt decodes a Base64urlUInt (RFC 7518 section 2).
func base64UInt(s string) (*big.Int, bool) {
	b, ok := base64Bytes(s)
	if !ok {
		return nil, false
	}
	return new(big.Int).SetBytes(b), true
}

// try verifies the token with the keys of the set that may have signed it
// (check says whether one key verifies): those with its kid, or, without a
// kid, every key that fits its alg (as go-oidc does).
func (s *jwks) try(check func(crypto.PublicKey) bool, alg, kid, jwksURL string) error {
	if kid == "" {
		n := 0
		for _, key := range s.keys {
			if fitsAlg(key, alg) != "" {
				continue
			}
			n++
			if check(key.pub) {
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
		if check(key.pub) {
			return nil
		}
		misfit = ""
	}
	if misfit != "" {
		return fmt.Errorf("key %s in the JWKS %s, not usable with %s", quote(kid), misfit, alg)
	}
	return &badSignatureError{kid: kid, alg: alg}
}

func (s *jwks) unknown(jwksURL, alg, kid string) *unknownKeyError {
	return &unknownKeyError{url: displayURL(jwksURL), alg: alg, kid: kid, signing: len(s.keys), enc: s.enc, unusable: s.unusable, rejected: s.rejected[kid]}
}

// fitsAlg returns why key cannot verify alg, or "" when it can. A key's own
// alg, when set, is binding (RFC 7517 section 4.4): an RSA key published
// for RS256 must not verify a PS256 token.
func fitsAlg(key sigKey, alg string) string {
	if key.alg != "" && key.alg != alg {
		return "is for " + key.alg
	}
	switch pub := key.pub.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
			return ""
		}
		return "is an RSA key"
	case *ecdsa.PublicKey:
		// No map literal: this runs for every token of a stream.
		if want, _ := ecCurve(alg); want != nil && pub.Curve == want {
			return ""
		}
		return "is an EC key on " + pub.Curve.Params().Name
	case ed25519.PublicKey:
		if alg == "EdDSA" {
			return ""
		}
		return "is an Ed25519 key"
	}
	return fmt.Sprintf("is of type %T", key.pub)
}

// unknownKeyError: no key of the set can have signed the token. For an ID
// token that is a verification failure; for an access token it means "not
// verifiable locally" (providers such as Okta's org authorization server
// sign access tokens with keys they do not publish).
type unknownKeyError struct {
	url, alg, kid          string
	signing, enc, unusable int
	// rejected, when set, is why the key the set publishes under kid
	// cannot be used.
	rejected        string
	refetched       bool
	since, interval time.Duration
}

func (e *unknownKeyError) Error() string {
	var b strings.Builder
	if e.rejected != "" {
		fmt.Fprintf(&b, "key %s in the JWKS at %s is unusable: %s", quote(e.kid), e.url, e.rejected)
		return b.String()
	}
	if e.kid != "" {
		fmt.Fprintf(&b, "key %s is not in the JWKS at %s", quote(e.kid), e.url)
	} else {
		fmt.Fprintf(&b, "the token has no kid and no %s key is in the JWKS at %s", e.alg, e.url)
	}
	if e.refetched {
		b.WriteString(", even after a refetch")
	} else {
		fmt.Fprintf(&b, " (refetched %s ago; the next refetch is allowed %s after the last)", e.since.Round(time.Second), e.interval)
	}
	if e.signing == 0 {
		b.WriteString(": it holds no signing keys")
		var skipped []string
		if e.enc > 0 {
			skipped = append(skipped, fmt.Sprintf(`%d marked use "enc"`, e.enc))
		}
		if e.unusable > 0 {
			skipped = append(skipped, fmt.Sprintf("%d unusable", e.unusable))
		}
		if len(skipped) > 0 {
			fmt.Fprintf(&b, " (skipped: %s)", strings.Join(skipped, ", "))
		}
	}
	return b.String()
}

// badSignatureError: a key that may have signed the token does not verify
// it.
type badSignatureError struct {
	kid, alg     string
	candidates   int
	url          string
	afterRefetch bool
}

func (e *badSignatureError) Error() string {
	if e.kid != "" {
		return fmt.Sprintf("signature does not verify with key %s (%s)", quote(e.kid), e.alg)
	}
	msg := fmt.Sprintf("the token has no kid and its signature verifies with none of the %d %s keys in the JWKS at %s", e.candidates, e.alg, e.url)
	if e.afterRefetch {
		msg += ", even after a refetch"
	}
	return msg
}
