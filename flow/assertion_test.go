package flow

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

// Keys are generated once per test binary: RSA generation is slow on two
// shared cores.
var (
	testKeysOnce sync.Once
	testRSA      *rsa.PrivateKey
	testRSA2     *rsa.PrivateKey
	testEC       *ecdsa.PrivateKey
)

func testKeys(t *testing.T) {
	t.Helper()
	testKeysOnce.Do(func() {
		var err error
		if testRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if testRSA2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if testEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemOf(typ string, der []byte, headers map[string]string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: headers})
}

func mustPKCS8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func jwkJSON(t *testing.T, k any, kid string) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadClientKey(t *testing.T) {
	testKeys(t)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(testEC)
	sec1224, _ := x509.MarshalECPrivateKey(ec224)
	pub, _ := x509.MarshalPKIXPublicKey(&testRSA.PublicKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &testRSA.PublicKey, testRSA)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pemOf("PRIVATE KEY", mustPKCS8(t, testRSA), nil)
	ecParams := []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n")
	jwk := jwkJSON(t, testRSA, "kid-1")
	pubJWK := jwkJSON(t, &testRSA.PublicKey, "kid-1")

	tests := []struct {
		name, file string
		data       []byte
		keyID      string
		algs       string
		kid        string
		err        string
	}{
		{name: "pkcs8 rsa", data: pkcs8, algs: "RS256", kid: ""},
		{name: "pkcs1 rsa", data: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(testRSA), nil), algs: "RS256"},
		{name: "sec1 ec with parameters", data: append(ecParams, pemOf("EC PRIVATE KEY", sec1, nil)...), algs: "ES256"},
		{name: "pkcs8 ec", data: pemOf("PRIVATE KEY", mustPKCS8(t, testEC), nil), algs: "ES256"},
		{name: "pkcs8 ed25519", data: pemOf("PRIVATE KEY", mustPKCS8(t, ed), nil), algs: "EdDSA"},
		{name: "key and certificate", data: append(pemOf("CERTIFICATE", cert, nil), pkcs8...), algs: "RS256"},
		{name: "key id flag", data: pkcs8, keyID: "flag-kid", algs: "RS256", kid: "flag-kid"},
		{name: "jwk", data: jwk, algs: "RS256", kid: "kid-1"},
		{name: "jwk, flag wins", data: jwk, keyID: "other", algs: "RS256", kid: "other"},
		{name: "jwks of one", data: []byte(`{"keys":[` + string(jwkJSON(t, testEC, "ec-1")) + `]}`), algs: "ES256", kid: "ec-1"},

		{name: "missing file", file: filepath.Join(t.TempDir(), "nope.pem"), err: "cannot be read"},
		{name: "empty", data: []byte{}, err: "neither PEM nor a JWK"},
		{name: "garbage", data: []byte("hello, world"), err: "neither PEM nor a JWK"},
		{name: "public pem", data: pemOf("PUBLIC KEY", pub, nil), err: "holds a public key"},
		{name: "certificate only", data: pemOf("CERTIFICATE", cert, nil), err: "certificate but no private key"},
		{name: "encrypted pem", data: pemOf("RSA PRIVATE KEY", []byte("xx"), map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}), err: "is encrypted"},
		{name: "encrypted pkcs8", data: pemOf("ENCRYPTED PRIVATE KEY", []byte("xx"), nil), err: "is encrypted"},
		{name: "broken block", data: pemOf("PRIVATE KEY", []byte("not der"), nil), err: "not a valid key"},
		{name: "two keys", data: append(pkcs8, pemOf("EC PRIVATE KEY", sec1, nil)...), err: "more than one private key"},
		{name: "small rsa", data: pemOf("PRIVATE KEY", mustPKCS8(t, small), nil), err: "1024 bits"},
		{name: "p-224", data: pemOf("EC PRIVATE KEY", sec1224, nil), err: "curve"},
		{name: "public jwk", data: pubJWK, err: "public key"},
		{name: "oct jwk", data: []byte(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`), err: "symmetric"},
		{name: "bad json", data: []byte(`{"kty":`), err: "not valid JSON"},
		{name: "jwks of two", data: []byte(`{"keys":[` + string(jwk) + `,` + string(jwk) + `]}`), err: "2 keys"},
		{name: "jwk with unknown kty", data: []byte(`{"kty":"XYZ"}`), err: "not a valid JWK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = writeFile(t, "key", tt.data)
			}
			k, err := LoadClientKey(file, tt.keyID)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tt.err)
				}
				msg := err.Error()
				if failure.ClassOf(err) != failure.Usage || failure.ClassOf(err).ExitCode() != 2 {
					t.Errorf("class %v, want usage (exit 2)", failure.ClassOf(err))
				}
				if !strings.Contains(msg, tt.err) || !strings.Contains(msg, file) || strings.Contains(msg, "\n") {
					t.Errorf("error %q: want one line naming %s and saying %q", msg, file, tt.err)
				}
				assertNoKeyMaterial(t, msg, tt.data)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := k.Algorithms()[0]; got != tt.algs {
				t.Errorf("first algorithm %s, want %s", got, tt.algs)
			}
			if k.KeyID != tt.kid {
				t.Errorf("kid %q, want %q", k.KeyID, tt.kid)
			}
			if k.File != file {
				t.Errorf("file %q, want %q", k.File, file)
			}
		})
	}
}

// assertNoKeyMaterial fails when msg holds any run of 12 characters of the
// key file's content other than the PEM armour.
func assertNoKeyMaterial(t *testing.T, msg string, data []byte) {
	t.Helper()
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "-----") || strings.Contains(line, ":") {
			continue
		}
		for i := 0; i+12 <= len(line); i += 6 {
			if strings.Contains(msg, line[i:i+12]) {
				t.Fatalf("error %q contains key material %q", msg, line[i:i+12])
			}
		}
	}
}

func TestResolveAssertionAlg(t *testing.T) {
	testKeys(t)
	rsaKey := &ClientKey{signer: testRSA, File: "rsa.pem"}
	ecKey := &ClientKey{signer: testEC, File: "ec.pem"}
	tests := []struct {
		name, method string
		key          *ClientKey
		supported    []string
		want, err    string
	}{
		{"rsa, nothing advertised", AuthPrivateKeyJWT, rsaKey, nil, "RS256", ""},
		{"ec, nothing advertised", AuthPrivateKeyJWT, ecKey, nil, "ES256", ""},
		{"rsa, first the key can do", AuthPrivateKeyJWT, rsaKey, []string{"ES256", "PS256", "RS256"}, "PS256", ""},
		{"ec among many", AuthPrivateKeyJWT, ecKey, []string{"RS256", "ES384", "ES256"}, "ES256", ""},
		{"ec, rsa only", AuthPrivateKeyJWT, ecKey, []string{"RS256", "PS256"}, "", "ec.pem: is an EC P-256 key, which signs ES256; the provider accepts RS256, PS256"},
		{"hmac only for private key", AuthPrivateKeyJWT, rsaKey, []string{"HS256", "none"}, "", "no asymmetric algorithm"},
		{"none is never taken", AuthPrivateKeyJWT, rsaKey, []string{"none", "RS512"}, "RS512", ""},
		{"no key", AuthPrivateKeyJWT, nil, nil, "", "needs a private key"},
		{"secret, nothing advertised", AuthClientSecretJWT, nil, nil, "HS256", ""},
		{"secret, HS512 advertised", AuthClientSecretJWT, nil, []string{"RS256", "HS512", "HS256"}, "HS512", ""},
		{"secret, no hmac", AuthClientSecretJWT, nil, []string{"RS256", "none"}, "", "no HMAC algorithm"},
		{"not an assertion method", "client_secret_basic", nil, nil, "", "does not use a client assertion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveAssertionAlg(tt.method, tt.key, tt.supported)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || failure.ClassOf(err) != failure.Usage {
					t.Fatalf("err %v, want a usage error with %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestResolveAuthMethodJWT(t *testing.T) {
	tests := []struct {
		method, secret string
		supported      []string
		want, err      string
	}{
		{"private_key_jwt", "", nil, "private_key_jwt", ""},
		{"private_key_jwt", "", []string{"client_secret_basic", "private_key_jwt"}, "private_key_jwt", ""},
		{"private_key_jwt", "", []string{"client_secret_basic", "client_secret_post"}, "", "does not offer private_key_jwt (its token_endpoint_auth_methods_supported: client_secret_basic, client_secret_post)"},
		{"client_secret_jwt", "s", []string{"client_secret_jwt"}, "client_secret_jwt", ""},
		{"client_secret_jwt", "s", []string{"private_key_jwt"}, "", "does not offer client_secret_jwt"},
		// Without --client-auth nothing changes: never a JWT method.
		{"", "s", []string{"private_key_jwt", "client_secret_jwt", "client_secret_post"}, "client_secret_post", ""},
		{"", "", []string{"private_key_jwt"}, "none", ""},
	}
	for _, tt := range tests {
		got, err := ResolveAuthMethod(tt.method, tt.secret, tt.supported)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %v: err %v, want %q", tt.method, tt.supported, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %v: got %q, %v; want %q", tt.method, tt.supported, got, err, tt.want)
		}
	}
}

// parseAssertion verifies a client assertion with key and returns its
// claims and header.
func parseAssertion(t *testing.T, raw string, alg jose.SignatureAlgorithm, key any) (map[string]any, jose.Header) {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse assertion: %v", err)
	}
	var claims map[string]any
	if err := tok.Claims(key, &claims); err != nil {
		t.Fatalf("assertion signature: %v", err)
	}
	return claims, tok.Headers[0]
}

func TestPrivateKeyJWTAssertion(t *testing.T) {
	testKeys(t)
	te := newTokenEndpoint(t, goodTokens)
	key := &ClientKey{signer: testRSA, KeyID: "k1", File: "key.pem"}
	var hooked []string
	c := Config{
		Issuer: "https://issuer.example", TokenEndpoint: te.URL + "/token", ClientID: "svc",
		AuthMethod: AuthPrivateKeyJWT, ClientKey: key, AssertionAlg: "PS256",
		OnClientAssertion: func(a string) { hooked = append(hooked, a) },
	}
	ctx := context.Background()
	if _, err := Refresh(ctx, c, "rt"); err != nil {
		t.Fatal(err)
	}
	if _, err := Password(ctx, c, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	reqs := te.recorded()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	jtis := map[string]bool{}
	for i, r := range reqs {
		if got := r.form.Get("client_assertion_type"); got != ClientAssertionType {
			t.Errorf("client_assertion_type %q", got)
		}
		if r.form.Get("client_id") != "svc" || r.form.Has("client_secret") || r.header.Get("Authorization") != "" {
			t.Errorf("request %d: client_id %q, client_secret %v, Authorization %q", i, r.form.Get("client_id"), r.form.Has("client_secret"), r.header.Get("Authorization"))
		}
		raw := r.form.Get("client_assertion")
		if i >= len(hooked) || hooked[i] != raw {
			t.Errorf("request %d: OnClientAssertion did not see the assertion sent", i)
		}
		claims, h := parseAssertion(t, raw, jose.PS256, &testRSA.PublicKey)
		if h.KeyID != "k1" || h.Algorithm != "PS256" {
			t.Errorf("header kid %q alg %q", h.KeyID, h.Algorithm)
		}
		if claims["iss"] != "svc" || claims["sub"] != "svc" || claims["aud"] != te.URL+"/token" {
			t.Errorf("iss %v sub %v aud %v", claims["iss"], claims["sub"], claims["aud"])
		}
		iat, _ := claims["iat"].(float64)
		exp, _ := claims["exp"].(float64)
		now := float64(time.Now().Unix())
		if iat < now-5 || iat > now+1 || exp-iat != AssertionLifetime.Seconds() {
			t.Errorf("iat %v exp %v (now %v)", iat, exp, now)
		}
		jti, _ := claims["jti"].(string)
		if len(jti) < 22 || jtis[jti] {
			t.Errorf("jti %q short or repeated", jti)
		}
		jtis[jti] = true
		// Signed with the key, and with no other.
		tok, _ := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.PS256})
		if tok.Claims(&testRSA2.PublicKey, &map[string]any{}) == nil {
			t.Error("assertion verifies with another key")
		}
	}

	// aud = the issuer on request.
	c.AssertionAudience = AssertionAudienceIssuer
	a, err := NewAssertion(c, "")
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := parseAssertion(t, a.JWT, jose.PS256, &testRSA.PublicKey)
	if claims["aud"] != "https://issuer.example" || a.Audience != "https://issuer.example" {
		t.Errorf("aud %v, want the issuer", claims["aud"])
	}
	c.AssertionAudience = "somewhere"
	if _, err := NewAssertion(c, ""); err == nil || failure.ClassOf(err) != failure.Usage {
		t.Errorf("unknown audience: %v", err)
	}
}

// TestClientSecretJWTAssertion: client_secret_jwt against a token endpoint
// that verifies the HS256 assertion with the secret, for the code
// exchange, client_credentials and the device grant's both endpoints, each
// assertion naming the endpoint it is sent to.
func TestClientSecretJWTAssertion(t *testing.T) {
	const secret = "a-client-secret-of-32-bytes-or-more!"
	var mu sync.Mutex
	var problems []string
	verifyForm := func(r *http.Request) bool {
		ok := func() string {
			if r.PostForm.Has("client_secret") || r.Header.Get("Authorization") != "" {
				return "the secret was sent"
			}
			if r.PostForm.Get("client_assertion_type") != ClientAssertionType {
				return "no client_assertion_type"
			}
			tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.HS256})
			if err != nil {
				return "parse: " + err.Error()
			}
			var cl jwt.Claims
			if err := tok.Claims([]byte(secret), &cl); err != nil {
				return "signature: " + err.Error()
			}
			if err := cl.ValidateWithLeeway(jwt.Expected{Issuer: "web", Subject: "web", AnyAudience: jwt.Audience{"http://" + r.Host + r.URL.Path}, Time: time.Now()}, 0); err != nil {
				return "claims: " + err.Error()
			}
			return ""
		}()
		if ok != "" {
			mu.Lock()
			problems = append(problems, r.URL.Path+": "+ok)
			mu.Unlock()
		}
		return ok == ""
	}
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		if !verifyForm(r) {
			jsonReply(401, map[string]any{"error": "invalid_client"})(w, r)
			return
		}
		if r.URL.Path == "/device" {
			jsonReply(200, map[string]any{"device_code": "dc", "user_code": "U", "verification_uri": "http://127.0.0.1/d"})(w, r)
			return
		}
		goodTokens(w, r)
	})
	c := Config{TokenEndpoint: te.URL + "/token", ClientID: "web", ClientSecret: secret, AuthMethod: AuthClientSecretJWT}
	ctx := context.Background()
	req := &Request{CodeVerifier: "v", RedirectURI: "http://127.0.0.1/cb"}
	if _, err := Exchange(ctx, c, req, "code"); err != nil {
		t.Fatal(err)
	}
	if _, err := ClientCredentials(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := DeviceCode(ctx, c, DeviceOptions{Endpoint: te.URL + "/device"}); err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 || len(te.recorded()) != 4 {
		t.Fatalf("%d requests; problems: %v", len(te.recorded()), problems)
	}

	// The provider's refusal comes back as invalid_client, the assertion
	// it might echo scrubbed.
	echo := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		jsonReply(401, map[string]any{"error": "invalid_client", "error_description": "bad assertion " + r.PostForm.Get("client_assertion")})(w, r)
	})
	c.TokenEndpoint = echo.URL + "/token"
	_, err := ClientCredentials(ctx, c)
	var oe *ErrorResponse
	if !errors.As(err, &oe) || oe.Code != "invalid_client" || failure.ClassOf(err) != failure.Flow {
		t.Fatalf("err %v, want a flow error with invalid_client", err)
	}
	sent := echo.recorded()[0].form.Get("client_assertion")
	if strings.Contains(err.Error(), sent) || strings.Contains(err.Error(), sent[:40]) || !strings.Contains(err.Error(), "[redacted client assertion]") {
		t.Errorf("error %q shows the assertion", err)
	}
}

// TestAssertionKeys: an HMAC assertion keyed with another
// secret does not verify, and the public key of an EC client key verifies
// an ES256 assertion.
func TestAssertionKeys(t *testing.T) {
	testKeys(t)
	c := Config{TokenEndpoint: "https://op.example/token", ClientID: "svc", AuthMethod: AuthPrivateKeyJWT, ClientKey: &ClientKey{signer: testEC}}
	a, err := NewAssertion(c, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Alg != "ES256" || a.KeyID != "" {
		t.Errorf("alg %s kid %q", a.Alg, a.KeyID)
	}
	_, h := parseAssertion(t, a.JWT, jose.ES256, c.ClientKey.Public())
	if _, ok := h.ExtraHeaders["kid"]; ok || h.KeyID != "" {
		t.Error("kid sent without one")
	}
	c = Config{TokenEndpoint: "https://op.example/token", ClientID: "svc", AuthMethod: AuthClientSecretJWT, ClientSecret: strings.Repeat("s", 32)}
	a, err = NewAssertion(c, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jwt.ParseSigned(a.JWT, []jose.SignatureAlgorithm{jose.HS256})
	if tok.Claims([]byte(strings.Repeat("t", 32)), &map[string]any{}) == nil {
		t.Error("HS256 assertion verifies with another secret")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAssertionAudienceIsTheEndpointCalled: by default an assertion names
// the URL it is posted to (Okta checks that on /par, /introspect and
// /device/authorize too, and RFC 9126 §2 makes servers accept the PAR
// endpoint); token_endpoint and issuer name one URL everywhere.
func TestAssertionAudienceIsTheEndpointCalled(t *testing.T) {
	testKeys(t)
	const (
		issuer = "https://issuer.example"
		token  = "https://issuer.example/oauth2/v1/token"
		par    = "https://issuer.example/oauth2/v1/par"
		intro  = "https://issuer.example/oauth2/v1/introspect"
	)
	key := &ClientKey{signer: testRSA, KeyID: "k1", File: "key.pem"}
	tests := []struct {
		mode            string
		target, wantAud string
		viaParams       bool
	}{
		{"", token, token, false},
		{"", par + "?x=1", par, false},
		{"", intro, intro, true},
		{AssertionAudienceEndpoint, par, par, false},
		{AssertionAudienceTokenEndpoint, par, token, false},
		{AssertionAudienceTokenEndpoint, intro, token, true},
		{AssertionAudienceIssuer, par, issuer, false},
		{AssertionAudienceIssuer, intro, issuer, true},
	}
	for _, tc := range tests {
		t.Run(tc.mode+" "+tc.target, func(t *testing.T) {
			c := Config{Issuer: issuer, TokenEndpoint: token, ClientID: "svc",
				AuthMethod: AuthPrivateKeyJWT, ClientKey: key, AssertionAlg: "RS256", AssertionAudience: tc.mode}
			var raw string
			if tc.viaParams {
				p, err := ClientAssertionParams(c, tc.target)
				if err != nil {
					t.Fatal(err)
				}
				raw = p.Get("client_assertion")
			} else {
				tr := &assertionTransport{c: c, sc: &scrub.Scrubber{}, next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if err := r.ParseForm(); err != nil {
						t.Fatal(err)
					}
					raw = r.PostForm.Get("client_assertion")
					return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
				})}
				req, _ := http.NewRequest(http.MethodPost, tc.target, strings.NewReader("a=b"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if _, err := tr.RoundTrip(req); err != nil {
					t.Fatal(err)
				}
			}
			claims, _ := parseAssertion(t, raw, jose.RS256, &testRSA.PublicKey)
			if claims["aud"] != tc.wantAud {
				t.Errorf("aud %v, want %s", claims["aud"], tc.wantAud)
			}
		})
	}
}
