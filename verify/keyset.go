package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// defaultRefetchInterval is how long after a refetch for an unknown key the
// next one may happen. A provider that signs with a key it does not publish
// would otherwise cost one JWKS request per token (go-oidc's RemoteKeySet
// refetches on every failed verification).
const defaultRefetchInterval = time.Minute

// keySet verifies signatures against a jwks_uri. It implements oidc.KeySet
// so that go-oidc's IDTokenVerifier keeps doing its own checks, and differs
// from go-oidc's RemoteKeySet where that one is wrong for claimcheck: a kid
// missing from the keys just fetched still gets one refetch (a cache in
// front of the provider may serve yesterday's keys), further refetches are
// rate limited, a bad signature with a known key causes none, fetch
// failures stay typed (failure.Provider), keys marked use "enc" or carrying
// another alg are not used, and only the compact serialization is parsed.
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

// go-oidc's IDTokenVerifier is given a keySet.
var _ oidc.KeySet = (*keySet)(nil)

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
	keys []jose.JSONWebKey
	// byKid indexes keys by kid, for the lean path's one lookup per token.
	byKid map[string][]int
	// enc and unusable count the keys left out, for messages about a set
	// that holds no key for a token.
	enc, unusable int
}

// sigResult carries the outcome of VerifySignature back to claimcheck when
// go-oidc is in between: go-oidc formats the KeySet's error with %v, which
// would lose the failure class (and with it "JWKS unreachable" vs "bad
// signature"), and the verified payload is needed for our own checks.
type sigResult struct {
	called  bool
	payload []byte
	err     error
}

type sigResultKey struct{}

// withSigResult returns a context through which VerifySignature reports to r.
func withSigResult(ctx context.Context, r *sigResult) context.Context {
	return context.WithValue(ctx, sigResultKey{}, r)
}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, err := k.verify(ctx, raw, allAsymmetric)
	if r, ok := ctx.Value(sigResultKey{}).(*sigResult); ok {
		r.called, r.payload, r.err = true, payload, err
	}
	return payload, err
}

// allAsymmetric are the algorithms VerifySignature parses: the callers
// narrow them to the provider's before (go-oidc does, and so does this
// package), so the key set only guarantees that none and HS* never reach a
// key.
var allAsymmetric = joseAlgs(asymmetricNames)

// verify checks raw's signature with the keys of the set, fetching them on
// first use and refetching (within the allowance) when no key fits.
func (k *keySet) verify(ctx context.Context, raw string, algs []jose.SignatureAlgorithm) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return nil, failure.New(failure.Verification, "", "not a compact JWS signed with an accepted algorithm")
	}
	header := jws.Signatures[0].Header
	alg, kid := header.Algorithm, header.KeyID
	return k.verifyWith(ctx, alg, kid, func(s *jwks) ([]byte, error) { return s.try(jws, alg, kid, k.url) })
}

// verifyWith runs try on the cached set, fetching it on first use, and once
// more on a refetched set (within the allowance) when no key fitted. It is
// shared by the go-oidc path (try with go-jose) and the lean path (try with
// crypto/rsa and crypto/ecdsa directly), so both fetch alike.
func (k *keySet) verifyWith(ctx context.Context, alg, kid string, try func(*jwks) ([]byte, error)) ([]byte, error) {
	set, gen, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	payload, err := try(set)
	if err == nil || !retryable(err) {
		return payload, classify(err)
	}
	set, refetched, since, ferr := k.refetch(ctx, gen)
	if ferr != nil {
		return nil, ferr
	}
	if refetched {
		payload, err = try(set)
		if err == nil || !retryable(err) {
			return payload, classify(err)
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
	return nil, classify(err)
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
// serve one purpose only (go-oidc would verify with them).
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
		var meta struct {
			Use    string   `json:"use"`
			Alg    string   `json:"alg"`
			Kty    string   `json:"kty"`
			KeyOps []string `json:"key_ops"`
			// Private or symmetric material: go-jose would load it, and a
			// set that publishes it is broken whatever else it holds.
			D, P, Q, DP, DQ, QI, K, Priv json.RawMessage
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			set.unusable++
			continue
		}
		switch {
		case meta.Use == "enc":
			set.enc++
			continue
		case meta.Use != "" && meta.Use != "sig",
			meta.KeyOps != nil && !slices.Contains(meta.KeyOps, "verify"),
			meta.Alg != "" && !slices.Contains(asymmetricNames, meta.Alg),
			meta.Kty != "RSA" && meta.Kty != "EC" && meta.Kty != "OKP",
			meta.D != nil || meta.P != nil || meta.Q != nil || meta.DP != nil ||
				meta.DQ != nil || meta.QI != nil || meta.K != nil || meta.Priv != nil:
			set.unusable++
			continue
		}
		var key jose.JSONWebKey
		if err := json.Unmarshal(raw, &key); err != nil || !key.IsPublic() || !key.Valid() {
			set.unusable++
			continue
		}
		set.keys = append(set.keys, key)
	}
	set.byKid = make(map[string][]int, len(set.keys))
	for i, key := range set.keys {
		set.byKid[key.KeyID] = append(set.byKid[key.KeyID], i)
	}
	return set, nil
}

// try verifies jws with the keys of the set that may have signed it: those
// with its kid, or, without a kid, every key that fits its alg (as go-oidc
// does).
func (s *jwks) try(jws *jose.JSONWebSignature, alg, kid, jwksURL string) ([]byte, error) {
	if kid == "" {
		n := 0
		for _, key := range s.keys {
			if fitsAlg(key, alg) != "" {
				continue
			}
			n++
			if payload, err := jws.Verify(key.Key); err == nil {
				return payload, nil
			}
		}
		if n == 0 {
			return nil, s.unknown(jwksURL, alg, kid)
		}
		return nil, &badSignatureError{alg: alg, candidates: n, url: displayURL(jwksURL)}
	}

	found, misfit := false, ""
	for _, key := range s.keys {
		if key.KeyID != kid {
			continue
		}
		found = true
		if why := fitsAlg(key, alg); why != "" {
			misfit = why
			continue
		}
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
		misfit = ""
	}
	switch {
	case !found:
		return nil, s.unknown(jwksURL, alg, kid)
	case misfit != "":
		return nil, fmt.Errorf("key %s in the JWKS %s, not usable with %s", quote(kid), misfit, alg)
	}
	return nil, &badSignatureError{kid: kid, alg: alg}
}

func (s *jwks) unknown(jwksURL, alg, kid string) *unknownKeyError {
	return &unknownKeyError{url: displayURL(jwksURL), alg: alg, kid: kid, signing: len(s.keys), enc: s.enc, unusable: s.unusable}
}

// fitsAlg returns why key cannot verify alg, or "" when it can. A key's own
// alg, when set, is binding (RFC 7517 section 4.4): an RSA key published
// for RS256 must not verify a PS256 token.
func fitsAlg(key jose.JSONWebKey, alg string) string {
	if key.Algorithm != "" && key.Algorithm != alg {
		return "is for " + key.Algorithm
	}
	switch pub := key.Key.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
			return ""
		}
		return "is an RSA key"
	case *ecdsa.PublicKey:
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if want != nil && pub.Curve == want {
			return ""
		}
		return "is an EC key on " + pub.Curve.Params().Name
	case ed25519.PublicKey:
		if alg == "EdDSA" {
			return ""
		}
		return "is an Ed25519 key"
	}
	return fmt.Sprintf("is of type %T", key.Key)
}

// unknownKeyError: no key of the set can have signed the token. For an ID
// token that is a verification failure; for an access token it means "not
// verifiable locally" (providers such as Okta's org authorization server
// sign access tokens with keys they do not publish).
type unknownKeyError struct {
	url, alg, kid          string
	signing, enc, unusable int
	refetched              bool
	since, interval        time.Duration
}

func (e *unknownKeyError) Error() string {
	var b strings.Builder
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
