package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// TestURLNeedsFixedPort: url cannot print an authorize URL for a redirect
// URI with port 0 (only a listener picks a port); the message says why in
// the user's terms, as a usage error.
func TestURLNeedsFixedPort(t *testing.T) {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	code, stdout, stderr := runMain(t, nil, "url", "--issuer", p.Issuer(), "--client-id", demo.PublicClientID,
		"--redirect-uri", "http://127.0.0.1:0/cb")
	if code != 2 || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing on stdout", code, stdout)
	}
	for _, want := range []string{"needs a fixed port", "exact redirect URI"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("stderr is not one line: %q", stderr)
	}
}

// parIssuer is a discovery document with a pushed authorization request
// endpoint that records each push, on 127.0.0.1.
func parIssuer(t *testing.T, status int) (issuer string, pushes func() []url.Values) {
	t.Helper()
	var mu sync.Mutex
	var got []url.Values
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "pushed_authorization_request_endpoint": srv.URL + "/par",
		})
	})
	mux.HandleFunc("POST /par", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusCreated {
			json.NewEncoder(w).Encode(map[string]any{"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 90})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"error": "invalid_request", "error_description": "no"})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, func() []url.Values {
		mu.Lock()
		defer mu.Unlock()
		return append([]url.Values(nil), got...)
	}
}

// url --par pushes the request and prints an authorize URL with client_id
// and request_uri alone; -o json shows the request_uri and what was pushed.
func TestURLPushed(t *testing.T) {
	issuer, pushes := parIssuer(t, http.StatusCreated)
	code, stdout, stderr := runMain(t, nil, "url", "--issuer", issuer, "--client-id", "web", "--par",
		"--resource", "https://api.example/", "--authorization-details", `[{"type":"t"}]`, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var req struct {
		URL        string          `json:"url"`
		State      string          `json:"state"`
		RequestURI string          `json:"request_uri"`
		Resources  []string        `json:"resource"`
		Details    json.RawMessage `json:"authorization_details"`
	}
	if err := json.Unmarshal([]byte(stdout), &req); err != nil {
		t.Fatal(err)
	}
	if req.URL != issuer+"/authorize?client_id=web&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc" || req.RequestURI == "" {
		t.Errorf("request %+v", req)
	}
	p := pushes()
	if len(p) != 1 || p[0].Get("state") != req.State || p[0].Get("resource") != "https://api.example/" || p[0].Get("authorization_details") != `[{"type":"t"}]` || p[0].Get("client_id") != "web" {
		t.Errorf("pushed %v", p)
	}
	var details bytes.Buffer
	if err := json.Compact(&details, req.Details); err != nil || len(req.Resources) != 1 || details.String() != `[{"type":"t"}]` {
		t.Errorf("request %+v", req)
	}
}

// A push the provider refuses is exit 3 with its error, and no URL.
func TestURLPushRefused(t *testing.T) {
	issuer, _ := parIssuer(t, http.StatusBadRequest)
	code, stdout, stderr := runMain(t, nil, "url", "--issuer", issuer, "--client-id", "web", "--par")
	if code != 3 || stdout != "" || !strings.Contains(stderr, "pushed authorization request") || !strings.Contains(stderr, "error=invalid_request") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
