package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
)

// Keys are generated once per test binary: RSA generation is the slowest
// part of these tests.
var (
	rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
		keys := make([]*rsa.PrivateKey, 3)
		for i := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[i] = k
		}
		return keys
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

const (
	testClientID = "client-1"
	testNonce    = "n-0S6_WzA2Mj-7q8cYxw"
)

// t0 is the tests' "now"; tokens are built around it and verification is
// told about it, so no test depends on the wall clock.
var t0 = time.Unix(1_750_000_000, 0)

func jwk(priv crypto.Signer, kid, alg, use string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: use}
}

// testIssuer is an httptest server acting as an authorization server whose
// discovery document, JWKS and userinfo the test controls.
type testIssuer struct {
	*httptest.Server
	mu sync.Mutex
	// meta is the discovery document; "issuer", "jwks_uri" and
	// "userinfo_endpoint" are filled in from the server's URL unless set.
	meta map[string]any
	// keys returns the JWKS served on the n-th request (1-based).
	keys func(n int) []jose.JSONWebKey
	// jwks, when set, replaces the JWKS handler.
	jwks     http.HandlerFunc
	userinfo http.HandlerFunc
	jwksHits atomic.Int32
}

func newIssuer(t testing.TB, keys ...jose.JSONWebKey) *testIssuer {
	ti := &testIssuer{
		meta: map[string]any{"id_token_signing_alg_values_supported": []string{"RS256"}},
		keys: func(int) []jose.JSONWebKey { return keys },
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		doc := map[string]any{
			"issuer":                 ti.URL,
			"authorization_endpoint": ti.URL + "/authorize",
			"token_endpoint":         ti.URL + "/token",
			"jwks_uri":               ti.URL + "/keys",
			"userinfo_endpoint":      ti.URL + "/userinfo",
		}
		for k, v := range ti.meta {
			if v == nil {
				delete(doc, k)
				continue
			}
			doc[k] = v
		}
		ti.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		n := int(ti.jwksHits.Add(1))
		ti.mu.Lock()
		custom, keys := ti.jwks, ti.keys(n)
		ti.mu.Unlock()
		if custom != nil {
			custom(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	})
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		h := ti.userinfo
		ti.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	})
	ti.Server = httptest.NewServer(mux)
	t.Cleanup(ti.Close)
	return ti
}

func (ti *testIssuer) set(f func(ti *testIssuer)) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	f(ti)
}

// discover runs Discover against the issuer with a client like the CLI's.
func (ti *testIssuer) discover(t testing.TB) *Provider {
	t.Helper()
	p, err := Discover(testCtx(t), ti.URL, testClient(t))
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return p
}

func testClient(t testing.TB) *http.Client {
	c, err := httpclient.New(httpclient.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testCtx bounds every wait of a test.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// idClaims are the claims of a valid ID token for testClientID at t0.
func idClaims(issuer string) map[string]any {
	return map[string]any{
		"iss":   issuer,
		"sub":   "alice",
		"aud":   testClientID,
		"exp":   t0.Add(5 * time.Minute).Unix(),
		"iat":   t0.Unix(),
		"nonce": testNonce,
	}
}

func idOpts() IDTokenOptions {
	return IDTokenOptions{
		ClientID:  testClientID,
		Nonce:     testNonce,
		ClockSkew: 2 * time.Minute,
		Now:       func() time.Time { return t0 },
	}
}

// sign makes a compact JWS. key is a private key (kid then comes from
// header) or a jose.JSONWebKey holding one.
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// wantFailure asserts err's class and message fragment, and that the
// message is one line without the token or anything else secret.
func wantFailure(t testing.TB, err error, class failure.Class, fragment string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s error containing %q", class, fragment)
	}
	if got := failure.ClassOf(err); got != class {
		t.Errorf("class %s, want %s (error: %v)", got, class, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, fragment) {
		t.Errorf("error %q does not contain %q", msg, fragment)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q leaks %q", msg, s)
		}
	}
}

func isNotVerifiable(err error) bool {
	var nv *NotVerifiableError
	return errors.As(err, &nv)
}
