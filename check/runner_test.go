package check

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

func startDemo(tb testing.TB) *demo.Provider {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func signIn(user string) *standin.Browser {
	jar, _ := cookiejar.New(nil)
	pw := map[string]string{"alice": "alice-demo", "bob": "bob-demo"}[user]
	return &standin.Browser{Client: &http.Client{Jar: jar, Timeout: 10 * time.Second}, Username: user, Password: pw}
}

func baseConfig(p *demo.Provider, user string) Config {
	return Config{
		Issuer: p.Issuer(), ClientID: demo.PublicClientID,
		RedirectURI: "http://127.0.0.1:0/callback",
		Scopes:      []string{"openid", "groups"},
		Expect:      verify.Expectations{ExpectGroups: []string{"IT", "Everyone"}, GroupsClaim: "groups"},
		ClockSkew:   2 * time.Minute, HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Timeout: 20 * time.Second, Opener: signIn(user),
	}
}

func TestRunAgainstDemoProvider(t *testing.T) {
	p := startDemo(t)
	tests := []struct {
		name      string
		user      string
		mod       func(*Config)
		wantClass failure.Class
		verified  []string
		notes     string
	}{
		{"code public alice", "alice", nil, "", []string{"id_token", "access_token"}, ""},
		{"code public bob", "bob", nil, failure.Expectation, []string{"id_token", "access_token"}, ""},
		{"code confidential basic", "alice", func(c *Config) {
			c.ClientID, c.ClientSecret = demo.ConfidentialClientID, demo.ConfidentialClientSecret
		}, "", []string{"id_token"}, ""},
		{"code confidential post", "alice", func(c *Config) {
			c.ClientID, c.ClientSecret, c.AuthMethod = demo.ConfidentialClientID, demo.ConfidentialClientSecret, "client_secret_post"
		}, "", []string{"id_token"}, ""},
		{"code form_post", "alice", func(c *Config) { c.ResponseMode = "form_post" }, "", []string{"id_token"}, ""},
		{"code fragment", "bob", func(c *Config) { c.ResponseMode = "fragment" }, failure.Expectation, []string{"id_token"}, ""},
		{"implicit id_token", "alice", func(c *Config) { c.Flow = "implicit" }, "", []string{"id_token"}, ""},
		{"implicit id_token token", "alice", func(c *Config) { c.ResponseType = "token id_token" }, "", []string{"id_token", "access_token"}, ""},
		{"implicit form_post bob", "bob", func(c *Config) { c.Flow, c.ResponseMode = "implicit", "form_post" }, failure.Expectation, []string{"id_token"}, ""},
		{"no groups scope: userinfo asked, groups nowhere", "alice", func(c *Config) {
			// Without the groups scope no token carries the claim; the
			// userinfo endpoint does not either, so the check fails and
			// says where it looked.
			c.Scopes = []string{"openid"}
		}, failure.Expectation, []string{"id_token"}, "userinfo"},
		{"groups from access token only", "alice", func(c *Config) {
			c.Expect.GroupsFrom = []string{"access_token"}
		}, "", []string{"access_token"}, ""},
		// The ID token carries groups: the note must give the real reason
		// (Hydra's e2e cell said "no verified token carries" here).
		{"groups from userinfo only", "alice", func(c *Config) {
			c.Expect.GroupsFrom = []string{"userinfo"}
		}, "", []string{"id_token", "userinfo"}, "--groups-from names userinfo, so the userinfo endpoint was asked"},
		// Its words are each listed, so it is sent (with a note), and the
		// demo provider refuses it: the provider's answer decides.
		{"combination not listed, words listed", "alice", func(c *Config) { c.ResponseType = "code id_token" }, failure.Flow, nil, ""},
		{"unknown flow", "alice", func(c *Config) { c.Flow = "magic" }, failure.Usage, nil, ""},
		{"client_secret_post without secret", "alice", func(c *Config) { c.AuthMethod = "client_secret_post" }, failure.Usage, nil, ""},
		{"wrong password", "alice", func(c *Config) {
			c.Opener = &standin.Browser{Client: &http.Client{Timeout: 5 * time.Second}, Username: "alice", Password: "wrong"}
			c.Timeout = 3 * time.Second
		}, failure.Flow, nil, ""},
		{"non-loopback redirect", "alice", func(c *Config) { c.RedirectURI = "http://example.com/callback" }, failure.Usage, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig(p, tt.user)
			if tt.mod != nil {
				tt.mod(&c)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := run(ctx, c)
			if got := r.Class(); got != tt.wantClass {
				t.Fatalf("class %q, want %q; error %+v; checks %+v", got, tt.wantClass, r.Error, r.Checks)
			}
			for _, k := range tt.verified {
				if tok := r.Tokens[k]; tok == nil || !tok.Verified {
					t.Errorf("%s not verified: %+v", k, tok)
				}
			}
			if tt.notes != "" && !strings.Contains(strings.Join(r.Notes, " "), tt.notes) {
				t.Errorf("notes %q lack %q", r.Notes, tt.notes)
			}
			if r.Error != nil && strings.ContainsAny(r.Error.Message, "\n\r") {
				t.Errorf("error is not one line: %q", r.Error.Message)
			}
			for k, tok := range r.Tokens {
				if tok.Raw != "" {
					t.Errorf("%s raw token kept without ShowTokens", k)
				}
			}
		})
	}
}

// aliceTokens runs alice's code flow against a fresh demo provider with the
// raw tokens kept, for tests that verify or tamper with them; the returned
// Config reaches that provider.
func aliceTokens(t *testing.T) (Config, *report.Report) {
	t.Helper()
	c := baseConfig(startDemo(t), "alice")
	c.ShowTokens = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := run(ctx, c)
	if r.Class() != "" {
		t.Fatalf("run failed: %+v", r.Error)
	}
	return c, r
}

func TestVerifyTokensFromDemo(t *testing.T) {
	c, run := aliceTokens(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, at := run.Tokens[report.IDToken].Raw, run.Tokens[report.AccessToken].Raw

	tests := []struct {
		name      string
		kind      string
		tokens    []string
		expect    []string
		wantClass failure.Class
		wantKeys  []string
	}{
		{"both auto", "auto", []string{id, at}, []string{"IT"}, "", []string{"id_token", "access_token"}},
		{"id as id", "id_token", []string{id}, []string{"IT"}, "", []string{"id_token"}},
		{"missing group", "auto", []string{id}, []string{"Admins"}, failure.Expectation, []string{"id_token"}},
		{"two of a kind", "auto", []string{id, id}, nil, "", []string{"id_token", "id_token#2"}},
		{"tampered", "auto", []string{id[:len(id)-4] + "AAAA"}, nil, failure.Verification, []string{"id_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := c
			vc.Expect = verify.Expectations{ExpectGroups: tt.expect, GroupsClaim: "groups"}
			vc.ShowTokens = false
			r := verifyTokens(ctx, vc, tt.kind, tt.tokens)
			if got := r.Class(); got != tt.wantClass {
				t.Fatalf("class %q, want %q: %+v %+v", got, tt.wantClass, r.Error, r.Checks)
			}
			for _, k := range tt.wantKeys {
				if r.Tokens[k] == nil {
					t.Errorf("no %s in %v", k, r.Tokens)
				}
			}
		})
	}
}

// BenchmarkCodeFlow measures one whole code flow in-process: discovery, the
// authorize request, HTTP sign-in on the provider's form, the redirect to the
// loopback listener, the code exchange, verification of both tokens and the
// groups checks.
func BenchmarkCodeFlow(b *testing.B) {
	p := startDemo(b)
	ctx := context.Background()
	for b.Loop() {
		c := baseConfig(p, "alice")
		r := run(ctx, c)
		if !r.OK {
			b.Fatalf("flow failed: %+v %+v", r.Error, r.Checks)
		}
	}
}

// TestBearerGate: the access token goes to userinfo as a bearer token only
// when token_type says Bearer (RFC 6749 §7.1, RFC 6750); a DPoP-bound one is
// not sent, and the report says why.
func TestBearerGate(t *testing.T) {
	tests := []struct {
		tokenType string
		ok        bool
		note      string
	}{
		{"Bearer", true, ""},
		{"bearer", true, ""},
		{"", true, "no token_type"},
		{"DPoP", false, "not Bearer"},
	}
	for _, tt := range tests {
		r := report.New("https://issuer.example", "code")
		v := &tokenVerifier{r: r, rawAT: "at", atType: tt.tokenType}
		if got := v.bearer(); got != tt.ok {
			t.Errorf("%q: bearer() = %v, want %v", tt.tokenType, got, tt.ok)
		}
		notes := strings.Join(r.Notes, " ")
		if (tt.note == "") != (notes == "") || !strings.Contains(notes, tt.note) {
			t.Errorf("%q: notes %q, want %q", tt.tokenType, notes, tt.note)
		}
	}
}
