package check

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// sourceTokenShown is the access_token of the claim source src1 in the
// report's claims of kind, when it is there unredacted.
func sourceTokenShown(r *report.Report, kind string) string {
	tok := r.Tokens[kind]
	if tok == nil {
		return ""
	}
	for _, claims := range []map[string]any{tok.Claims, tok.UnverifiedClaims} {
		srcs, _ := claims["_claim_sources"].(map[string]any)
		s1, _ := srcs["src1"].(map[string]any)
		if at, ok := s1["access_token"].(string); ok && !strings.HasPrefix(at, "[redacted") {
			return at
		}
	}
	return ""
}

// findCheck returns the check named name, or nil.
func findCheck(r *report.Report, name string) *verify.Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// runAs runs the code flow for user (password user-demo) against issuer.
func runAs(ctx context.Context, issuer, user string, mod func(*Config)) (*report.Report, error) {
	jar, _ := cookiejar.New(nil)
	c := Config{
		Issuer: issuer, ClientID: demo.PublicClientID,
		RedirectURI: "http://127.0.0.1:0/callback",
		Scopes:      []string{"openid", "groups"},
		Expect:      verify.Expectations{ExpectGroups: []string{"IT"}},
		ClockSkew:   time.Minute, HTTPClient: &http.Client{Timeout: 3 * time.Second},
		Timeout: 20 * time.Second,
		Opener:  &standin.Browser{Client: &http.Client{Jar: jar, Timeout: 10 * time.Second}, Username: user, Password: user + "-demo"},
	}
	if mod != nil {
		mod(&c)
	}
	return Run(ctx, c)
}

// TestClaimSourcesInUserinfo: a userinfo answer may carry _claim_names and
// _claim_sources as an ID token does (OpenID Connect Core 5.6.2); they are
// resolved once its sub matched the ID token's, and the group's check says
// it came from userinfo through the source.
func TestClaimSourcesInUserinfo(t *testing.T) {
	groups := []string{"Everyone", "IT"}
	users := []demo.User{
		{Username: "uma", Password: "uma-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceAggregated, UserinfoOnly: true}},
		{Username: "ned", Password: "ned-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceDistributed, UserinfoOnly: true}},
		{Username: "ora", Password: "ora-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceAggregated, Break: "signature", UserinfoOnly: true}},
		{Username: "pat", Password: "pat-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceAggregated, Break: "expired", UserinfoOnly: true}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tests := []struct {
		user      string
		wantClass failure.Class
		found     string // the group check's detail when it passes
		source    string // a fragment of the source check's detail
	}{
		{"uma", "", "found in userinfo → aggregated src1", "aggregated claims signed by " + p.Issuer()},
		{"ned", "", "found in userinfo → distributed src1", "unsigned JSON from the issuer's own origin"},
		{"ora", failure.Verification, "", "signature"},
		{"pat", failure.Verification, "", "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			r, err := runAs(ctx, p.Issuer(), tt.user, nil)
			if got := failure.ClassOf(err); got != tt.wantClass {
				t.Fatalf("class %q, want %q (err %v; checks %+v)", got, tt.wantClass, err, r.Checks)
			}
			if id := r.Tokens[report.IDToken]; id == nil || id.Claims["_claim_names"] != nil {
				t.Fatalf("the ID token should carry no claim source: %+v", id)
			}
			if at := sourceTokenShown(r, report.UserInfo); at != "" {
				t.Errorf("the source's access token %q is in the report", at)
			}
			if out, _ := json.Marshal(r.Tokens[report.UserInfo]); tt.user == "ned" && !strings.Contains(string(out), "[redacted claim source access token]") {
				t.Errorf("ned's userinfo shows no redacted source token: %s", out)
			}
			src := findCheck(r, "userinfo claim source src1")
			if src == nil || src.OK != (tt.wantClass == "") || src.Source != report.UserInfo || !strings.Contains(src.Detail, tt.source) {
				t.Fatalf("source check %+v, want %q", src, tt.source)
			}
			group := findCheck(r, "group IT")
			if tt.found != "" && (group == nil || !group.OK || group.Detail != tt.found) {
				t.Errorf("group check %+v, want %q", group, tt.found)
			}
			if tt.wantClass != "" && (group == nil || group.OK) {
				t.Errorf("group check %+v, want failed", group)
			}
			if tt.user == "ora" {
				// The forged payload's extra group never counts.
				if out, _ := json.Marshal(r.Checks); strings.Contains(string(out), `"group Admins"`) {
					t.Errorf("forged group checked: %s", out)
				}
			}
		})
	}
}

// TestClaimSourcesInSignedUserinfo: a userinfo answer signed as a JWT
// carries an aggregated source; the source's own JWT is verified against
// the issuer's keys, and a forged or another user's source fails with 4.
func TestClaimSourcesInSignedUserinfo(t *testing.T) {
	groups := []any{"Everyone", "IT"}
	forge := func(jwt string) string {
		parts := strings.Split(jwt, ".")
		parts[1] = parts[1][:len(parts[1])-2] + "AA"
		return strings.Join(parts, ".")
	}
	tests := []struct {
		name      string
		source    func(s *hostile.Server, sub string) string
		wantClass failure.Class
		detail    string
	}{
		{"aggregated", func(s *hostile.Server, sub string) string {
			return s.SignClaims(map[string]any{"sub": sub, "groups": groups})
		}, "", "aggregated claims signed by"},
		{"forged", func(s *hostile.Server, sub string) string {
			return forge(s.SignClaims(map[string]any{"sub": sub, "groups": groups}))
		}, failure.Verification, ""},
		{"another user", func(s *hostile.Server, _ string) string {
			return s.SignClaims(map[string]any{"sub": "user-mallory", "groups": groups})
		}, failure.Verification, "user-mallory"},
		{"another issuer", func(s *hostile.Server, sub string) string {
			return s.SignClaims(map[string]any{"iss": "https://claims.example", "sub": sub, "groups": groups})
		}, failure.Verification, "trusted claims issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *hostile.Server
			s, err := hostile.New(demoIssuerFor(t), hostile.Options{
				SignedUserInfo: true,
				IDToken:        func(tok *hostile.Token) { delete(tok.Claims, "groups") },
				AccessToken:    func(tok *hostile.Token) { delete(tok.Claims, "groups") },
				UserInfo: func(m map[string]any) {
					delete(m, "groups")
					sub, _ := m["sub"].(string)
					m["_claim_names"] = map[string]any{"groups": "src1"}
					m["_claim_sources"] = map[string]any{"src1": map[string]any{"JWT": tt.source(srv, sub)}}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			srv = s
			t.Cleanup(s.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r, err := runAs(ctx, s.Issuer(), "alice", nil)
			if got := failure.ClassOf(err); got != tt.wantClass {
				t.Fatalf("class %q, want %q (err %v; checks %+v)", got, tt.wantClass, err, r.Checks)
			}
			src := findCheck(r, "userinfo claim source src1")
			if src == nil || src.OK != (tt.wantClass == "") || !strings.Contains(src.Detail, tt.detail) {
				t.Fatalf("source check %+v, want %q", src, tt.detail)
			}
			if ui := r.Tokens[report.UserInfo]; ui == nil || !ui.Verified {
				t.Fatalf("userinfo %+v", ui)
			}
			group := findCheck(r, "group IT")
			if tt.wantClass == "" && (group == nil || group.Detail != "found in userinfo → aggregated src1") {
				t.Errorf("group check %+v", group)
			}
		})
	}
}

// demoIssuerFor starts a demo provider with the default users for a
// hostile server to stand in front of.
func demoIssuerFor(t *testing.T) string {
	return startDemo(t).Issuer()
}

// TestVerifyGivenClaimSources: claimcheck verify TOKEN resolves a given
// token's aggregated claims, and calls a distributed endpoint only when
// asked (--claims-source-token run).
func TestVerifyGivenClaimSources(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Users: demo.ClaimSourceUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tokens := func(user string) (id, at string) {
		// erin's run fails on her forged source, after her tokens verified.
		r, _ := runAs(ctx, p.Issuer(), user, func(c *Config) { c.ShowTokens = true; c.Expect = verify.Expectations{} })
		if r.Tokens[report.IDToken] == nil || !r.Tokens[report.IDToken].Verified {
			t.Fatalf("%s: no verified ID token: %+v", user, r.Error)
		}
		return r.Tokens[report.IDToken].Raw, r.Tokens[report.AccessToken].Raw
	}
	carolID, _ := tokens("carol")
	daveID, daveAT := tokens("dave")
	erinID, _ := tokens("erin")
	tests := []struct {
		name      string
		tokens    []string
		token     string
		wantClass failure.Class
		source    string // fragment of the source check's detail
		found     string // the group check's detail when it passes
	}{
		{"aggregated", []string{carolID}, "", "", "aggregated claims signed by", "found in id_token → aggregated src1"},
		{"aggregated forged", []string{erinID}, "", failure.Verification, "signature", ""},
		{"distributed not asked", []string{daveID}, "", failure.Expectation, "not asked: its endpoint " + p.Issuer() + "/claims was not called: claimcheck verify calls a distributed claims endpoint only when asked (--claims-source-token run)", ""},
		{"distributed asked", []string{daveID, daveAT}, ClaimSourcesTokenRun, "", "distributed claims from " + p.Issuer() + "/claims (asked with its own access_token)", "found in id_token → distributed src1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{
				Issuer: p.Issuer(), ClientID: demo.PublicClientID,
				Expect:       verify.Expectations{ExpectGroups: []string{"IT"}},
				ClaimSources: ClaimSources{Token: tt.token},
				ClockSkew:    time.Minute, HTTPClient: &http.Client{Timeout: 3 * time.Second},
			}
			r, err := Verify(ctx, c, "auto", tt.tokens)
			if got := failure.ClassOf(err); got != tt.wantClass {
				t.Fatalf("class %q, want %q (err %v; checks %+v)", got, tt.wantClass, err, r.Checks)
			}
			src := findCheck(r, "id_token claim source src1")
			srcOK := tt.wantClass != failure.Verification
			if src == nil || src.OK != srcOK || !strings.Contains(src.Detail, tt.source) {
				t.Fatalf("source check %+v, want %q", src, tt.source)
			}
			group := findCheck(r, "group IT")
			if tt.found != "" && (group == nil || !group.OK || group.Detail != tt.found) {
				t.Errorf("group check %+v, want %q", group, tt.found)
			}
			if at := sourceTokenShown(r, report.IDToken); at != "" {
				t.Errorf("the source's access token %q is in the report", at)
			}
			out, _ := json.Marshal(r)
			for _, raw := range tt.tokens {
				if strings.Contains(string(out), raw) {
					t.Errorf("a given token is in the report")
				}
			}
		})
	}
}
