package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// okScopeProvider is a provider whose token endpoint refuses OpenID scopes
// in a client_credentials request as Okta does, and records each scope
// parameter it was sent.
func okScopeProvider(t *testing.T) (issuer string, scopes func() []string) {
	var mu sync.Mutex
	var seen []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
				"jwks_uri": srv.URL + "/keys", "grant_types_supported": []string{"client_credentials"},
				"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
				"id_token_signing_alg_values_supported": []string{"RS256"},
			})
		case "/keys":
			w.Write([]byte(`{"keys":[]}`))
		case "/token":
			r.ParseForm()
			mu.Lock()
			seen = append(seen, r.PostForm.Get("scope"))
			mu.Unlock()
			if strings.Contains(" "+r.PostForm.Get("scope")+" ", " openid ") {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"invalid_scope","error_description":"Client Credentials requests cannot contain OpenID scopes."}`))
				return
			}
			w.Write([]byte(`{"access_token":"opaque-at","token_type":"Bearer","expires_in":3600}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestClientCredentialsScopes: --grant client_credentials sends no OpenID
// scope unless --scopes asks for one (issue 12), and a provider's
// invalid_scope answer is explained.
func TestClientCredentialsScopes(t *testing.T) {
	env := map[string]string{"CLAIMCHECK_CLIENT_SECRET": "s3cret-value"}
	t.Run("default scopes", func(t *testing.T) {
		issuer, scopes := okScopeProvider(t)
		code, stdout, stderr := runMain(t, env, "--issuer", issuer, "--client-id", "svc", "--grant", "client_credentials", "--expect-groups", "")
		if got := scopes(); len(got) != 1 || got[0] != "" {
			t.Fatalf("scope parameters sent %q, want one request without a scope (exit %d)\n%s%s", got, code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, "invalid_scope") {
			t.Errorf("output mentions invalid_scope:\n%s%s", stdout, stderr)
		}
	})
	t.Run("openid asked for", func(t *testing.T) {
		issuer, scopes := okScopeProvider(t)
		code, stdout, stderr := runMain(t, env, "--issuer", issuer, "--client-id", "svc", "--grant", "client_credentials", "--scopes", "openid,api.read", "--expect-groups", "")
		all := stdout + stderr
		if got := scopes(); len(got) != 1 || got[0] != "openid api.read" {
			t.Errorf("scope parameters sent %q, want [\"openid api.read\"]", got)
		}
		if code != 3 || !strings.Contains(all, "error=invalid_scope") ||
			!strings.Contains(all, "ask for one of the authorization server's own scopes (for example --scopes api.read)") {
			t.Errorf("exit %d, want 3 and the explanation:\n%s", code, all)
		}
		if strings.Contains(all, "s3cret-value") {
			t.Errorf("the client secret is in the output")
		}
	})
}
