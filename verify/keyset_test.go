package verify

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// fakeClock drives the key set's refetch interval.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestKeyRotation(t *testing.T) {
	k1, k2 := rsaKeys()[0], rsaKeys()[1]
	// The first fetch has only the old key, as a cache in front of the
	// provider would serve it; later ones have the new key too.
	rotated := func(n int) []jose.JSONWebKey {
		if n == 1 {
			return []jose.JSONWebKey{jwk(k1, "old", "", "sig")}
		}
		return []jose.JSONWebKey{jwk(k1, "old", "", "sig"), jwk(k2, "new", "", "sig")}
	}
	tests := []struct {
		name string
		// kids are verified in turn; all must pass.
		kids     []string
		wantHits int32
	}{
		{"new kid right after the first fetch", []string{"new"}, 2},
		{"new kid after the old one verified", []string{"old", "new"}, 2},
		{"new kid twice", []string{"new", "new", "old"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := newIssuer(t)
			ti.set(func(ti *testIssuer) { ti.keys = rotated })
			p := ti.discover(t)
			for _, kid := range tt.kids {
				key := k1
				if kid == "new" {
					key = k2
				}
				if _, err := p.VerifyIDToken(testCtx(t), sign(t, key, jose.RS256, kid, idClaims(ti.URL)), idOpts()); err != nil {
					t.Fatalf("kid %s: %v", kid, err)
				}
			}
			if hits := ti.jwksHits.Load(); hits != tt.wantHits {
				t.Errorf("JWKS fetched %d times, want %d", hits, tt.wantHits)
			}
		})
	}
}

func TestRotationWithoutKid(t *testing.T) {
	k1, k2 := rsaKeys()[0], rsaKeys()[1]
	ti := newIssuer(t)
	ti.set(func(ti *testIssuer) {
		ti.keys = func(n int) []jose.JSONWebKey {
			if n == 1 {
				return []jose.JSONWebKey{jwk(k1, "", "", "")}
			}
			return []jose.JSONWebKey{jwk(k1, "", "", ""), jwk(k2, "", "", "")}
		}
	})
	p := ti.discover(t)
	if _, err := p.VerifyIDToken(testCtx(t), sign(t, k2, jose.RS256, "", idClaims(ti.URL)), idOpts()); err != nil {
		t.Fatal(err)
	}
	if hits := ti.jwksHits.Load(); hits != 2 {
		t.Errorf("JWKS fetched %d times, want 2", hits)
	}
}

func TestRefetchInterval(t *testing.T) {
	k1, k3 := rsaKeys()[0], rsaKeys()[2]
	ti := newIssuer(t, jwk(k1, "k1", "", ""))
	p := ti.discover(t)
	clock := &fakeClock{now: t0}
	p.keys.now = clock.Now

	steps := []struct {
		name     string
		advance  time.Duration
		key      any
		kid      string
		wantFrag string // "" means it verifies
		wantHits int32
	}{
		{"unknown kid: one refetch", 0, k3, "k9", `key "k9" is not in the JWKS at http://127.0.0.1`, 2},
		{"second unknown kid within the interval: none", 0, k3, "k8", `(refetched 0s ago; the next refetch is allowed 1m0s after the last)`, 2},
		{"still within the interval", 59 * time.Second, k3, "k7", "refetched 59s ago", 2},
		{"known kid verifies without a fetch", 0, k1, "k1", "", 2},
		{"bad signature with a known kid: no refetch", 0, k3, "k1", `signature does not verify with key "k1"`, 2},
		{"no kid, no key verifies, within the interval", 0, k3, "", "verifies with none of the 1 RS256 keys", 2},
		{"after the interval: another refetch", time.Second, k3, "k7", `key "k7" is not in the JWKS at http://127.0.0.1`, 3},
		{"and the interval starts again", 30 * time.Second, k3, "k6", "refetched 30s ago", 3},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		raw := sign(t, s.key, jose.RS256, s.kid, idClaims(ti.URL))
		_, err := p.VerifyIDToken(testCtx(t), raw, idOpts())
		if s.wantFrag == "" {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		} else {
			t.Logf("%s: %v", s.name, err)
			wantFailure(t, err, failure.Verification, s.wantFrag, raw)
		}
		if hits := ti.jwksHits.Load(); hits != s.wantHits {
			t.Fatalf("%s: JWKS fetched %d times, want %d", s.name, hits, s.wantHits)
		}
	}
}

func TestRefetchConcurrent(t *testing.T) {
	k1, k3 := rsaKeys()[0], rsaKeys()[2]
	ti := newIssuer(t, jwk(k1, "k1", "", ""))
	p := ti.discover(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		raw := sign(t, k3, jose.RS256, "unknown-"+string(rune('a'+i)), idClaims(ti.URL))
		wg.Go(func() {
			_, err := p.VerifyIDToken(testCtx(t), raw, idOpts())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		wantFailure(t, err, failure.Verification, "is not in the JWKS")
	}
	if hits := ti.jwksHits.Load(); hits != 2 {
		t.Errorf("JWKS fetched %d times by 8 concurrent unknown kids, want 2", hits)
	}
}

func TestJWKSFailures(t *testing.T) {
	k1 := rsaKeys()[0]
	privateJWK, err := jose.JSONWebKey{Key: k1, KeyID: "k1"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantFrag string
		class    failure.Class
	}{
		{
			name: "status 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "secret-body", http.StatusInternalServerError)
			},
			wantFrag: "/keys: status 500", class: failure.Provider,
		},
		{
			name: "status 404",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "secret-body", http.StatusNotFound)
			},
			wantFrag: "/keys: status 404", class: failure.Provider,
		},
		{
			name: "HTML page",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html><body>secret-body sign in</body></html>"))
			},
			wantFrag: "status 200 with an HTML page, not JSON", class: failure.Provider,
		},
		{
			name: "garbage",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("secret-body \x00\x01"))
			},
			wantFrag: "not a JSON object", class: failure.Provider,
		},
		{
			name: "truncated JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"keys": [{"kty": "RSA", "secret-body`))
			},
			wantFrag: "the key set is not valid JSON", class: failure.Provider,
		},
		{
			name: "no keys array",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"secret-body": []}`))
			},
			wantFrag: `the key set has no "keys" array`, class: failure.Provider,
		},
		{
			name: "keys of the wrong type",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"keys": "secret-body"}`))
			},
			wantFrag: "the key set is malformed: keys has the wrong JSON type", class: failure.Provider,
		},
		{
			name: "oversized",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"keys": [], "pad": "`))
				w.Write([]byte(strings.Repeat("secret-body", 200_000)))
				w.Write([]byte(`"}`))
			},
			wantFrag: "response body is too large", class: failure.Provider,
		},
		{
			name: "private key published",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"keys": [` + string(privateJWK) + `]}`))
			},
			wantFrag: `/keys is unusable: it holds private or symmetric key material`, class: failure.Verification,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := newIssuer(t)
			ti.set(func(ti *testIssuer) { ti.jwks = tt.handler })
			p := ti.discover(t)
			raw := sign(t, k1, jose.RS256, "k1", idClaims(ti.URL))
			_, err := p.VerifyIDToken(testCtx(t), raw, idOpts())
			t.Logf("%v", err)
			wantFailure(t, err, tt.class, tt.wantFrag, raw, "secret-body")
			if tt.class == failure.Provider && !strings.HasPrefix(err.Error(), "ID token: JWKS at "+ti.URL+"/keys: ") {
				t.Errorf("error %q does not name the JWKS", err)
			}
		})
	}
}

func TestJWKSUnreachable(t *testing.T) {
	k1 := rsaKeys()[0]
	dead := newIssuer(t)
	deadURL := dead.URL
	dead.Close()
	ti := newIssuer(t)
	ti.set(func(ti *testIssuer) { ti.meta["jwks_uri"] = deadURL + "/keys?secret-query=1" })
	p := ti.discover(t)
	raw := sign(t, k1, jose.RS256, "k1", idClaims(ti.URL))
	_, err := p.VerifyIDToken(testCtx(t), raw, idOpts())
	wantFailure(t, err, failure.Provider, "ID token: JWKS at "+deadURL+"/keys: ", raw, "secret-query")
}

func TestRefetchFailureIsProvider(t *testing.T) {
	k1, k3 := rsaKeys()[0], rsaKeys()[2]
	ti := newIssuer(t)
	ti.set(func(ti *testIssuer) {
		ti.keys = func(int) []jose.JSONWebKey { return []jose.JSONWebKey{jwk(k1, "k1", "", "")} }
		ti.jwks = func(w http.ResponseWriter, r *http.Request) {
			if ti.jwksHits.Load() > 1 {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte(`{"keys": []}`))
		}
	})
	p := ti.discover(t)
	_, err := p.VerifyIDToken(testCtx(t), sign(t, k3, jose.RS256, "k9", idClaims(ti.URL)), idOpts())
	wantFailure(t, err, failure.Provider, "/keys: status 503")
}

func TestParseJWKS(t *testing.T) {
	k1 := rsaKeys()[0]
	ec := ecKey()
	pub, _ := jwk(k1, "rsa", "", "").MarshalJSON()
	ecPub, _ := jwk(ec, "ec", "ES256", "sig").MarshalJSON()
	body := `{"keys": [
		` + string(pub) + `,
		` + string(ecPub) + `,
		{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
		{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		{"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
		{"kty": "RSA", "kid": "ops", "key_ops": ["encrypt"], "n": "AQAB", "e": "AQAB"},
		{"kty": "OKP", "crv": "X448", "kid": "x448", "x": "AQAB"},
		{"kty": "RSA", "kid": "broken", "n": 5},
		{"kty": "ML-DSA", "kid": "future"}
	]}`
	set, err := parseJWKS([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.keys {
		kids = append(kids, k.kid)
	}
	if strings.Join(kids, ",") != "rsa,ec" || set.enc != 1 || set.unusable != 6 {
		t.Errorf("kept %v, enc %d, unusable %d; want rsa,ec, 1, 6", kids, set.enc, set.unusable)
	}
}

func TestJSONSerializationRefusedBeforeTheKeys(t *testing.T) {
	// go-oidc's RemoteKeySet parses with ParseSigned, which accepts the
	// JSON serialization; claimcheck refuses it before fetching keys.
	k1 := rsaKeys()[0]
	ti := newIssuer(t, jwk(k1, "k1", "", ""))
	p := ti.discover(t)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k1, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.VerifyIDToken(testCtx(t), jws.FullSerialize(), IDTokenOptions{ClientID: testClientID, NoNonce: true})
	wantFailure(t, err, failure.Verification, "JWS JSON serialization is not accepted")
	if hits := ti.jwksHits.Load(); hits != 0 {
		t.Errorf("JWKS fetched %d times for a token refused by its form", hits)
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Errorf("error %T is not a *failure.Error", err)
	}
}
