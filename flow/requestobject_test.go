package flow

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// jarProvider is a provider on 127.0.0.1 whose authorization endpoint
// takes a request object (RFC 9101), by value or pushed (RFC 9126): it
// verifies the object's signature with pub and redirects with a code and
// the object's state.
type jarProvider struct {
	*httptest.Server
	pub crypto.PublicKey

	mu      sync.Mutex
	queries []url.Values      // what each authorize request carried
	objects []map[string]any  // the verified request objects' claims
	headers []jose.Header     // and their headers
	pushes  []url.Values      // the pushed bodies
	pushed  map[string]string // request_uri → request object
	tokens  []url.Values      // token requests
	errs    []error           // what the authorization endpoint refused
}

func newJARProvider(t *testing.T, pub crypto.PublicKey) *jarProvider {
	p := &jarProvider{pub: pub, pushed: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /par", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		p.pushes = append(p.pushes, r.PostForm)
		uri := fmt.Sprintf("urn:ietf:params:oauth:request_uri:req-%d", len(p.pushes))
		p.pushed[uri] = r.PostForm.Get("request")
		p.mu.Unlock()
		jsonReply(http.StatusCreated, map[string]any{"request_uri": uri, "expires_in": 60})(w, r)
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p.mu.Lock()
		p.queries = append(p.queries, q)
		raw := q.Get("request")
		if u := q.Get("request_uri"); u != "" {
			raw = p.pushed[u]
		}
		p.mu.Unlock()
		claims, h, err := p.verify(raw)
		if err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, err)
			p.mu.Unlock()
			http.Error(w, "bad request object", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.objects = append(p.objects, claims)
		p.headers = append(p.headers, h)
		p.mu.Unlock()
		redirect, _ := claims["redirect_uri"].(string)
		state, _ := claims["state"].(string)
		http.Redirect(w, r, redirect+"?"+url.Values{"code": {"c-1"}, "state": {state}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		p.tokens = append(p.tokens, r.PostForm)
		p.mu.Unlock()
		goodTokens(w, r)
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *jarProvider) verify(raw string) (map[string]any, jose.Header, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA})
	if err != nil {
		return nil, jose.Header{}, err
	}
	payload, err := jws.Verify(p.pub)
	if err != nil {
		return nil, jose.Header{}, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, jose.Header{}, err
	}
	return claims, jws.Signatures[0].Header, nil
}

// Open follows the authorize URL as a browser would, to the listener.
func (p *jarProvider) Open(ctx context.Context, authorizeURL string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", authorizeURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

func TestRunRequestObject(t *testing.T) {
	testKeys(t)
	rsaKey, err := ParseClientKey(pemOf("PRIVATE KEY", mustPKCS8(t, testRSA), nil), "rsa.pem", "k-rsa")
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ParseClientKey(pemOf("PRIVATE KEY", mustPKCS8(t, testEC), nil), "ec.pem", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		key       *ClientKey
		alg       string // RequestObjectAlg
		wantAlg   string
		push      bool
		secret    string
		method    string
		resources []string
	}{
		{name: "RS256 by value, public client", key: rsaKey, method: "none", wantAlg: "RS256", resources: []string{"https://api.example/a"}},
		{name: "PS256 pushed, private_key_jwt", key: rsaKey, alg: "PS256", wantAlg: "PS256", push: true, method: AuthPrivateKeyJWT, resources: []string{"https://api.example/a", "https://api.example/b"}},
		{name: "ES256 pushed, client_secret_basic", key: ecKey, wantAlg: "ES256", push: true, method: "client_secret_basic", secret: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newJARProvider(t, tt.key.Public())
			c := baseConfig()
			c.Issuer = p.URL
			c.AuthorizationEndpoint = p.URL + "/authorize"
			c.TokenEndpoint = p.URL + "/token"
			c.RedirectURI = "http://127.0.0.1:0/callback"
			c.AuthMethod, c.ClientSecret, c.ClientKey = tt.method, tt.secret, tt.key
			c.RequestObject, c.RequestObjectAlg = true, tt.alg
			c.ResponseMode = "query"
			c.ExtraParams = url.Values{"prompt": {"login"}, "max_age": {"300"}}
			c.Resources = tt.resources
			c.AuthorizationDetails = `[{"type":"payment_initiation"}]`
			if tt.push {
				c.PushedAuthorizationRequestEndpoint = p.URL + "/par"
				c.PushAuthorizationRequest = true
			}
			before := time.Now().Unix()
			res, err := Run(testContext(t), c, RunOptions{Opener: p, Timeout: time.Minute})
			if err != nil {
				t.Fatalf("%v (provider refused: %v)", err, p.errs)
			}
			req := res.Request
			if len(p.objects) != 1 || len(p.tokens) != 1 {
				t.Fatalf("request objects %d, token requests %d", len(p.objects), len(p.tokens))
			}
			if req.RequestObjectAlg != tt.wantAlg || req.RequestObjectKeyID != tt.key.KeyID {
				t.Errorf("Request says alg %q kid %q", req.RequestObjectAlg, req.RequestObjectKeyID)
			}
			h := p.headers[0]
			if h.Algorithm != tt.wantAlg || h.KeyID != tt.key.KeyID || h.ExtraHeaders["typ"] != RequestObjectType {
				t.Errorf("header alg %q kid %q typ %v", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"])
			}
			q := p.queries[0]
			if tt.push {
				want := url.Values{"client_id": {"client-1"}, "request_uri": {"urn:ietf:params:oauth:request_uri:req-1"}}
				if fmt.Sprint(q) != fmt.Sprint(want) {
					t.Errorf("authorize query %v", q)
				}
				f := p.pushes[0]
				f.Del("client_assertion")
				f.Del("client_assertion_type")
				if len(f) != 2 || f.Get("client_id") != "client-1" || f.Get("request") == "" {
					t.Errorf("pushed body has %v, want client_id and request alone", keys(f))
				}
			} else {
				if len(q) != 4 || q.Get("client_id") != "client-1" || q.Get("response_type") != "code" || q.Get("scope") != "openid groups" || q.Get("request") == "" {
					t.Errorf("authorize query has %v", keys(q))
				}
			}
			o := p.objects[0]
			want := map[string]any{
				"iss": "client-1", "aud": p.URL, "client_id": "client-1",
				"response_type": "code", "response_mode": "query", "redirect_uri": req.RedirectURI,
				"scope": "openid groups", "state": req.State, "nonce": req.Nonce,
				"code_challenge": req.CodeChallenge, "code_challenge_method": "S256",
				"prompt": "login", "max_age": float64(300),
			}
			for k, v := range want {
				if o[k] != v {
					t.Errorf("claim %s = %#v, want %#v", k, o[k], v)
				}
			}
			if ad, _ := json.Marshal(o["authorization_details"]); string(ad) != `[{"type":"payment_initiation"}]` {
				t.Errorf("authorization_details %s", ad)
			}
			switch len(tt.resources) {
			case 1:
				if o["resource"] != tt.resources[0] {
					t.Errorf("resource %#v", o["resource"])
				}
			case 2:
				if r, _ := json.Marshal(o["resource"]); string(r) != `["https://api.example/a","https://api.example/b"]` {
					t.Errorf("resource %s", r)
				}
			}
			iat, _ := o["iat"].(float64)
			nbf, _ := o["nbf"].(float64)
			exp, _ := o["exp"].(float64)
			if int64(iat) < before || int64(iat) > time.Now().Unix() || nbf != iat || exp != iat+RequestObjectLifetime.Seconds() {
				t.Errorf("iat %v nbf %v exp %v", iat, nbf, exp)
			}
			if jti, _ := o["jti"].(string); len(jti) < 22 {
				t.Errorf("jti %q", jti)
			}
			if p.tokens[0].Get("code_verifier") != req.CodeVerifier {
				t.Errorf("code_verifier not sent")
			}
		})
	}
}

func keys(v url.Values) []string {
	var k []string
	for n := range v {
		k = append(k, n)
	}
	return k
}

func TestRequestObjectSignedAnew(t *testing.T) {
	testKeys(t)
	key, err := ParseClientKey(jwkJSON(t, testRSA, "jwk-kid"), "key.json", "")
	if err != nil {
		t.Fatal(err)
	}
	c := baseConfig()
	c.ClientKey, c.RequestObject = key, true
	c.AuthMethod = "none"
	a, err := NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	ua, _ := url.Parse(a.URL)
	ub, _ := url.Parse(b.URL)
	if ua.Query().Get("request") == ub.Query().Get("request") {
		t.Error("two requests share a request object")
	}
	if a.RequestObjectKeyID != "jwk-kid" {
		t.Errorf("kid %q", a.RequestObjectKeyID)
	}
}

func TestRequestObjectUsage(t *testing.T) {
	testKeys(t)
	key, err := ParseClientKey(pemOf("PRIVATE KEY", mustPKCS8(t, testEC), nil), "ec.pem", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no key", func(c *Config) { c.ClientKey = nil }, "--client-key"},
		{"alg the key cannot sign", func(c *Config) { c.RequestObjectAlg = "RS256" }, "request_object_signing_alg_values_supported"},
		{"none", func(c *Config) { c.RequestObjectAlg = "none" }, "request_object_signing_alg_values_supported"},
		{"HMAC", func(c *Config) { c.RequestObjectAlg = "HS256" }, "request_object_signing_alg_values_supported"},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "audience"},
		{"key without request object", func(c *Config) { c.RequestObject = false }, "private_key_jwt or a request object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig()
			c.AuthMethod, c.ClientKey, c.RequestObject = "none", key, true
			tt.edit(&c)
			err := c.Validate()
			if failure.ClassOf(err) != failure.Usage || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("got %v, want a usage error saying %q", err, tt.want)
			}
			if _, err := NewRequest(c); failure.ClassOf(err) != failure.Usage {
				t.Errorf("NewRequest: %v", err)
			}
		})
	}
}

func TestResolveRequestObjectAlg(t *testing.T) {
	testKeys(t)
	rsaKey, _ := ParseClientKey(pemOf("PRIVATE KEY", mustPKCS8(t, testRSA), nil), "rsa.pem", "")
	ecKey, _ := ParseClientKey(pemOf("PRIVATE KEY", mustPKCS8(t, testEC), nil), "ec.pem", "")
	tests := []struct {
		key       *ClientKey
		supported []string
		want      string
	}{
		{rsaKey, nil, "RS256"},
		{ecKey, nil, "ES256"},
		{rsaKey, []string{"none", "HS256", "PS384", "RS256"}, "PS384"},
		{ecKey, []string{"RS256", "ES256"}, "ES256"},
		{ecKey, []string{"RS256", "none"}, ""},
	}
	for _, tt := range tests {
		got, err := ResolveRequestObjectAlg(tt.key, tt.supported)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("%s %v: %q, %v", tt.key.File, tt.supported, got, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "ec.pem") || !strings.Contains(err.Error(), "request_object_signing_alg_values_supported")) {
			t.Errorf("error does not name the file and the metadata: %v", err)
		}
	}
}
