package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	oktaop "github.com/claimcheck/claimcheck/internal/op/okta"
)

// discoveryOnly serves a discovery document whose issuer is the server's
// URL plus suffix, and nothing else.
func discoveryOnly(t *testing.T, suffix string) string {
	t.Helper()
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                   issuer,
			"authorization_endpoint":   issuer + "authorize",
			"token_endpoint":           issuer + "token",
			"jwks_uri":                 issuer + "jwks",
			"response_types_supported": []string{"code"},
		})
	}))
	t.Cleanup(srv.Close)
	issuer = srv.URL + suffix
	return issuer
}

// TestIssuerKeptAsGiven: an issuer that ends in a slash (Auth0's do) is
// used exactly as given; only the discovery URL is built without it.
func TestIssuerKeptAsGiven(t *testing.T) {
	issuer := discoveryOnly(t, "/")
	tests := []struct {
		name   string
		issuer string
		want   int
	}{
		{"with the trailing slash", issuer, 0},
		{"without it", strings.TrimSuffix(issuer, "/"), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, "url", "--issuer", tt.issuer, "--client-id", "c")
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.want, stdout, stderr)
			}
		})
	}
}

// TestNothingVerifiedFails: exit 0 means "tokens verified". At Okta's org
// server an implicit "token" flow yields only an access token that cannot
// be verified locally; without introspection nothing was verified.
func TestNothingVerifiedFails(t *testing.T) {
	e := newOktaEnv(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  []string
	}{
		{"org token flow, public client", []string{"--client-id", oktaop.PublicClientID, "--expect-groups", ""}, 4,
			[]string{"no token was verified", "client secret"}},
		{"org token flow, introspected", []string{"--client-id", oktaop.WebClientID, "--client-secret", oktaop.WebClientSecret, "--expect-groups", ""}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--authorization-server", "org", "--response-type", "token", "--scopes", "openid"}, tt.args...)
			code, r, stderr := e.run(t, "alice", args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s %+v", code, tt.wantCode, stderr, r.Error)
			}
			for _, m := range tt.wantMsg {
				if r.Error == nil || r.Error.Class != "verification" || !strings.Contains(r.Error.Message, m) {
					t.Errorf("error %+v lacks %q", r.Error, m)
				}
			}
		})
	}
}

// TestURLJSON: url -o json prints flow.Request, which carries what a script
// needs to finish the flow itself.
func TestURLJSON(t *testing.T) {
	issuer := discoveryOnly(t, "/")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"code", nil, []string{"url", "state", "nonce", "code_verifier", "code_challenge", "redirect_uri", "response_type", "response_mode", "issuer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"url", "--issuer", issuer, "--client-id", "c", "-o", "json"}, tt.args...)
			code, stdout, stderr := runMain(t, nil, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(stdout), &m); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			for _, k := range tt.want {
				if v, _ := m[k].(string); v == "" {
					t.Errorf("%s missing or empty in %s", k, stdout)
				}
			}
			if !strings.HasPrefix(m["url"].(string), issuer+"authorize?") {
				t.Errorf("url %v", m["url"])
			}
		})
	}
}

// TestUserinfoVerifiedOnlyWithSubCompared: userinfo counts only when its
// sub was compared with a verified ID token's (OpenID Core 5.3.4).
func TestUserinfoVerifiedOnlyWithSubCompared(t *testing.T) {
	e := newOktaEnv(t)
	tests := []struct {
		name         string
		responseType string
		wantVerified bool
		wantCode     int
	}{
		{"code flow: sub compared", "code", true, 0},
		{"token only: no ID token to compare with", "token", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The org server: groups come from userinfo; its access token
			// is introspected, so that the run has a verified token.
			code, r, stderr := e.run(t, "alice", "--authorization-server", "org", "--response-type", tt.responseType,
				"--client-id", oktaop.WebClientID, "--client-secret", oktaop.WebClientSecret,
				"--scopes", "openid,groups", "--groups-from", "userinfo", "--expect-groups", "IT")
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s %+v %s", code, tt.wantCode, stderr, r.Error, failedDetails(r))
			}
			ui := r.Tokens["userinfo"]
			if ui == nil || ui.Verified != tt.wantVerified {
				t.Fatalf("userinfo %+v", ui)
			}
			if !tt.wantVerified {
				if ui.Claims != nil || ui.UnverifiedClaims["groups"] == nil || !strings.Contains(ui.Note, "sub not compared") {
					t.Errorf("unverified userinfo %+v", ui)
				}
				if d := failedDetails(r); !strings.Contains(d, "unverified userinfo") {
					t.Errorf("failed checks %s", d)
				}
			}
		})
	}
}

// TestUsageErrorFoundDuringRun: a usage error found only once the
// provider's metadata is read is, in text, the same one claimcheck: line
// on stderr as any other, and nothing on stdout.
func TestUsageErrorFoundDuringRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"response mode not offered", []string{"--response-mode", "web_message"}, "web_message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, append([]string{"demo", "--no-browser"}, tt.args...)...)
			if code != 2 || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.HasPrefix(l, "claimcheck: ") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("stderr %q, want one claimcheck: line with %q", stderr, tt.want)
			}
		})
	}
}

// TestVerifyIntrospects: claimcheck verify --kind access_token takes an
// access token its keys cannot verify (an Okta org server's, or an opaque
// one) and, given the client secret, asks the provider about it.
func TestVerifyIntrospects(t *testing.T) {
	e := newOktaEnv(t)
	code, r, stderr := e.run(t, "alice", "--authorization-server", "org", "--client-id", oktaop.WebClientID,
		"--client-secret", oktaop.WebClientSecret, "--scopes", "openid,groups", "--expect-groups", "", "--show-tokens")
	if code != 0 {
		t.Fatalf("exit %d: %s %+v", code, stderr, r.Error)
	}
	orgAT := r.Tokens["access_token"].Raw
	tests := []struct {
		name     string
		env      map[string]string
		token    string
		wantCode int
		want     string // in the error message, or the introspection note
	}{
		{"org access token with the secret", map[string]string{"CLAIMCHECK_CLIENT_SECRET": oktaop.WebClientSecret}, orgAT, 0, "RFC 7662"},
		{"org access token without the secret", nil, orgAT, 4, "CLAIMCHECK_CLIENT_SECRET"},
		{"opaque unknown token with the secret", map[string]string{"CLAIMCHECK_CLIENT_SECRET": oktaop.WebClientSecret}, "opaque-unknown_token~1", 4, "not active"},
		{"wrong secret", map[string]string{"CLAIMCHECK_CLIENT_SECRET": "wrong"}, orgAT, 3, "the client was refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.env, "verify", "--okta-domain", e.p.Domain(), "--authorization-server", "org",
				"--client-id", oktaop.WebClientID, "--kind", "access_token", "-o", "json", tt.token)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.wantCode, stdout, stderr)
			}
			r := decodeReport(t, stdout)
			got := ""
			if r.Error != nil {
				got = r.Error.Message
			} else if in := r.Tokens["introspection"]; in != nil && in.Verified {
				got = in.Note
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q; report %+v", got, tt.want, r)
			}
			if strings.Contains(stdout+stderr, oktaop.WebClientSecret) {
				t.Error("the client secret was printed")
			}
		})
	}
}

// TestDemoIgnoresProviderEnvironment: the variables meant for a real
// provider do not change the demo; its own and the presentation ones do.
func TestDemoIgnoresProviderEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
	}{
		{"a real provider's expectations and scopes", map[string]string{
			"CLAIMCHECK_EXPECT_GROUPS": "Admins", "CLAIMCHECK_SCOPES": "openid", "CLAIMCHECK_REDIRECT_URI": "http://127.0.0.1:1/cb",
			"CLAIMCHECK_FLOW": "implicit", "CLAIMCHECK_RESPONSE_TYPE": "code", "CLAIMCHECK_OUTPUT": "json"}, nil, 0},
		{"the demo's own user", map[string]string{"CLAIMCHECK_USER": "bob", "CLAIMCHECK_OUTPUT": "json"}, nil, 1},
		{"--profile", map[string]string{"CLAIMCHECK_OUTPUT": "json"}, []string{"--profile", "x"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.env, append([]string{"demo", "--no-browser"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode != 2 {
				decodeReport(t, stdout)
			}
		})
	}
}
