package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// jarIssuer is a discovery document on 127.0.0.1 that lists algs as its
// request_object_signing_alg_values_supported, with a pushed authorization
// request endpoint that records each push; requests counts every request.
func jarIssuer(t *testing.T, algs []string) (issuer string, pushes func() []url.Values, requests func() int) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []url.Values
		n   int
		srv *httptest.Server
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "pushed_authorization_request_endpoint": srv.URL + "/par",
			"request_object_signing_alg_values_supported": algs, "request_parameter_supported": true,
		})
	})
	mux.HandleFunc("POST /par", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 90})
	})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []url.Values {
			mu.Lock()
			defer mu.Unlock()
			return append([]url.Values(nil), got...)
		}, func() int {
			mu.Lock()
			defer mu.Unlock()
			return n
		}
}

// url --request-object --par pushes client_id and a request object signed
// with --client-key, in the provider's alg, and -o json says alg and kid.
func TestURLRequestObjectPushed(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, _ := writeKey(t, k)
	issuer, pushes, _ := jarIssuer(t, []string{"ES256", "PS256"})
	code, stdout, stderr := runMain(t, nil, "url", "--issuer", issuer, "--client-id", "web", "--client-auth", "none",
		"--request-object", "--client-key", keyPath, "--client-key-id", "k1", "--par", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var req struct {
		URL   string `json:"url"`
		State string `json:"state"`
		Alg   string `json:"request_object_alg"`
		KeyID string `json:"request_object_kid"`
	}
	if err := json.Unmarshal([]byte(stdout), &req); err != nil {
		t.Fatal(err)
	}
	if req.Alg != "PS256" || req.KeyID != "k1" || req.URL != issuer+"/authorize?client_id=web&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc" {
		t.Errorf("request %+v", req)
	}
	p := pushes()
	if len(p) != 1 || len(p[0]) != 2 || p[0].Get("client_id") != "web" {
		t.Fatalf("pushed %v, want client_id and request alone", p)
	}
	jws, err := jose.ParseSignedCompact(p[0].Get("request"), []jose.SignatureAlgorithm{jose.PS256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	if claims["state"] != req.State || claims["iss"] != "web" || claims["aud"] != issuer || jws.Signatures[0].Header.ExtraHeaders["typ"] != "oauth-authz-req+jwt" {
		t.Errorf("claims %v", claims)
	}
}

// --request-object without --client-key is exit 2 before anything is
// sent; a key the provider's algorithms do not fit is exit 2 naming
// request_object_signing_alg_values_supported.
func TestRequestObjectUsage(t *testing.T) {
	issuer, pushes, requests := jarIssuer(t, []string{"ES256"})
	code, stdout, stderr := runMain(t, nil, "url", "--issuer", issuer, "--client-id", "web", "--request-object")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "--client-key") || requests() != 0 {
		t.Errorf("without a key: exit %d, stdout %q, stderr %q, %d requests", code, stdout, stderr, requests())
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, _ := writeKey(t, k)
	code, stdout, stderr = runMain(t, nil, "url", "--issuer", issuer, "--client-id", "web", "--client-auth", "none",
		"--request-object", "--client-key", keyPath)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "request_object_signing_alg_values_supported") || !strings.Contains(stderr, "ES256") {
		t.Errorf("no common alg: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runMain(t, nil, "run", "--issuer", issuer, "--client-id", "web", "--client-auth", "none",
		"--request-object", "--client-key", keyPath, "--no-browser")
	if code != 2 || !strings.Contains(stderr, "request_object_signing_alg_values_supported") {
		t.Errorf("run, no common alg: exit %d, stderr %q", code, stderr)
	}
	if len(pushes()) != 0 {
		t.Errorf("pushed %v", pushes())
	}
}
