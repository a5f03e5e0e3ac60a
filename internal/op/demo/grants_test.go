package demo_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// tokenAnswer posts form to the token endpoint and returns the status and
// the decoded JSON body.
func (e *env) tokenAnswer(form url.Values, basicUser, basicPass string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.claims.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	resp, body := e.do(req)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		e.t.Fatalf("status %d, body not JSON: %q", resp.StatusCode, body)
	}
	return resp.StatusCode, m
}

func TestPasswordAndClientCredentialsGrants(t *testing.T) {
	e := newEnv(t)
	pw := func(user, pass string) url.Values {
		return url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}, "scope": {"openid groups"}}
	}
	with := func(v url.Values, kv ...string) url.Values {
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name        string
		form        url.Values
		user, pass  string
		wantStatus  int
		wantError   string
		wantIDToken bool
		wantAccess  bool
	}{
		{"password public", with(pw("alice", "alice-demo"), "client_id", demo.PublicClientID), "", "", 200, "", true, true},
		{"password confidential basic", pw("bob", "bob-demo"), demo.ConfidentialClientID, demo.ConfidentialClientSecret, 200, "", true, true},
		{"password confidential post", with(pw("bob", "bob-demo"), "client_id", demo.ConfidentialClientID, "client_secret", demo.ConfidentialClientSecret), "", "", 200, "", true, true},
		{"password without openid", with(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-demo"}, "scope": {"groups"}}, "client_id", demo.PublicClientID), "", "", 200, "", false, true},
		{"password wrong", with(pw("alice", "bob-demo"), "client_id", demo.PublicClientID), "", "", 400, "invalid_grant", false, false},
		{"password unknown user", with(pw("mallory", "x"), "client_id", demo.PublicClientID), "", "", 400, "invalid_grant", false, false},
		{"password wrong client secret", pw("alice", "alice-demo"), demo.ConfidentialClientID, "nope", 401, "invalid_client", false, false},
		{"password public client with a secret", with(pw("alice", "alice-demo"), "client_id", demo.PublicClientID, "client_secret", "x"), "", "", 401, "invalid_client", false, false},
		{"password unknown client", with(pw("alice", "alice-demo"), "client_id", "nobody"), "", "", 401, "invalid_client", false, false},
		{"client credentials", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, demo.ConfidentialClientID, demo.ConfidentialClientSecret, 200, "", false, true},
		{"client credentials wrong secret", url.Values{"grant_type": {"client_credentials"}}, demo.ConfidentialClientID, "nope", 401, "invalid_client", false, false},
		{"client credentials public client", url.Values{"grant_type": {"client_credentials"}, "client_id": {demo.PublicClientID}}, "", "", 401, "invalid_client", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := e.tokenAnswer(tt.form, tt.user, tt.pass)
			if status != tt.wantStatus || (tt.wantError != "" && m["error"] != tt.wantError) {
				t.Fatalf("status %d %v, want %d %s", status, m, tt.wantStatus, tt.wantError)
			}
			_, hasID := m["id_token"].(string)
			_, hasAT := m["access_token"].(string)
			if hasID != tt.wantIDToken || hasAT != tt.wantAccess {
				t.Errorf("id_token %v access_token %v, want %v %v", hasID, hasAT, tt.wantIDToken, tt.wantAccess)
			}
		})
	}
}

func TestDeviceVerificationPage(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		DeviceEndpoint string `json:"device_authorization_endpoint"`
	}
	if err := e.oidc.Claims(&doc); err != nil || doc.DeviceEndpoint == "" {
		t.Fatalf("no device_authorization_endpoint: %v", err)
	}
	authorize := func() (uri, userCode, deviceCode string) {
		resp, body := e.postForm(doc.DeviceEndpoint, url.Values{"client_id": {demo.PublicClientID}, "scope": {"openid groups"}})
		var m struct {
			DeviceCode      string `json:"device_code"`
			UserCode        string `json:"user_code"`
			VerificationURI string `json:"verification_uri"`
			Interval        int    `json:"interval"`
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != 200 || m.Interval != 1 {
			t.Fatalf("device authorization: %d %s", resp.StatusCode, body)
		}
		return m.VerificationURI, m.UserCode, m.DeviceCode
	}
	poll := func(dc string) (int, map[string]any) {
		return e.tokenAnswer(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc}, "client_id": {demo.PublicClientID}}, "", "")
	}
	uri, code, dc := authorize()
	if resp, body := e.get(uri + "?user_code=" + url.QueryEscape(code)); resp.StatusCode != 200 || !strings.Contains(body, code) {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	if _, m := poll(dc); m["error"] != "authorization_pending" {
		t.Fatalf("before approval: %v", m)
	}
	form := func(code, user, pass, action string) (int, string) {
		resp, body := e.postForm(uri, url.Values{"user_code": {code}, "username": {user}, "password": {pass}, "action": {action}})
		return resp.StatusCode, body
	}
	if s, _ := form(code, "alice", "wrong", "approve"); s != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", s)
	}
	if s, _ := form("XXXX-XXXX", "alice", "alice-demo", "approve"); s != http.StatusBadRequest {
		t.Errorf("unknown code: %d", s)
	}
	// Typed in lower case without the dash, as a person might.
	if s, body := form(strings.ToLower(strings.ReplaceAll(code, "-", "")), "alice", "alice-demo", "approve"); s != 200 || !strings.Contains(body, "connected") {
		t.Fatalf("approve: %d %s", s, body)
	}
	if s, _ := form(code, "alice", "alice-demo", "approve"); s != http.StatusBadRequest {
		t.Errorf("second answer: %d", s)
	}
	if s, m := poll(dc); s != 200 || m["id_token"] == nil {
		t.Fatalf("after approval: %d %v", s, m)
	}
	if _, m := poll(dc); m["error"] == nil {
		t.Errorf("device code used twice: %v", m)
	}

	_, code, dc = authorize()
	if s, _ := form(code, "bob", "bob-demo", "deny"); s != 200 {
		t.Fatalf("deny: %d", s)
	}
	if _, m := poll(dc); m["error"] != "access_denied" {
		t.Errorf("after denial: %v", m)
	}
}

// TestAccessTokenScopeClaim: a JWT access token's scope claim lists every
// scope granted, those whose claims go to userinfo (profile, email) too
// (RFC 9068 §2.2.3); op itself hands the storage the list without them.
func TestAccessTokenScopeClaim(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ scope, want string }{
		{"openid profile email groups", "openid profile email groups"},
		{"openid groups", "openid groups"},
		{"openid email", "openid email"},
		{"openid nonsense email", "openid email"},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-demo"}, "scope": {tt.scope}, "client_id": {demo.PublicClientID}}
			status, m := e.tokenAnswer(form, "", "")
			at, _ := m["access_token"].(string)
			if status != 200 || at == "" {
				t.Fatalf("status %d %v", status, m)
			}
			_, claims := e.verifyJWT(at, demo.PublicClientID)
			if claims["scope"] != tt.want || m["scope"] != tt.want {
				t.Errorf("scope claim %q, response scope %q; want %q in both", claims["scope"], m["scope"], tt.want)
			}
		})
	}
}
