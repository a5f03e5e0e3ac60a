package check

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

func grantConfig(issuer string, g Grant, confidential bool, expect ...string) Config {
	c := Config{
		Issuer: issuer, ClientID: demo.PublicClientID,
		Scopes:    []string{"openid", "groups"},
		Expect:    verify.Expectations{ExpectGroups: expect},
		ClockSkew: time.Minute, HTTPClient: &http.Client{Timeout: 10 * time.Second}, Timeout: 20 * time.Second,
		Grant: g,
	}
	if confidential {
		c.ClientID, c.ClientSecret = demo.ConfidentialClientID, demo.ConfidentialClientSecret
	}
	return c
}

func approve(user, password string, deny bool) func(context.Context, *flow.DeviceAuthorization) error {
	return func(ctx context.Context, da *flow.DeviceAuthorization) error {
		return demo.ApproveDevice(ctx, http.DefaultClient, da.VerificationURI, da.UserCode, user, password, deny)
	}
}

func TestGrants(t *testing.T) {
	p := startDemo(t)
	tests := []struct {
		name         string
		g            Grant
		confidential bool
		scopes       []string
		expect       []string
		wantCode     int
		wantTokens   []string
		wantInError  string
	}{
		{"password alice", Grant{Type: flow.GrantPassword, Username: "alice", Password: "alice-demo"}, false, nil, []string{"IT", "Everyone"}, 0, []string{"id_token", "access_token"}, ""},
		{"password bob lacks IT", Grant{Type: flow.GrantPassword, Username: "bob", Password: "bob-demo"}, true, nil, []string{"IT"}, 1, []string{"id_token", "access_token"}, ""},
		{"password wrong", Grant{Type: flow.GrantPassword, Username: "alice", Password: "nope"}, false, nil, nil, 3, nil, "invalid_grant"},
		{"client credentials", Grant{Type: flow.GrantClientCredentials}, true, []string{"openid"}, nil, 0, []string{"access_token"}, ""},
		{"client credentials expects groups", Grant{Type: flow.GrantClientCredentials}, true, []string{"openid"}, []string{"IT"}, 1, []string{"access_token"}, ""},
		{"client credentials public client", Grant{Type: flow.GrantClientCredentials}, false, nil, nil, 2, nil, "client secret"},
		{"device alice", Grant{Type: flow.GrantDeviceCode, DeviceShow: approve("alice", "alice-demo", false)}, false, nil, []string{"IT"}, 0, []string{"id_token", "access_token"}, ""},
		{"device denied", Grant{Type: flow.GrantDeviceCode, DeviceShow: approve("alice", "alice-demo", true)}, false, nil, nil, 3, nil, "denied"},
		{"refresh unknown", Grant{Type: flow.GrantRefreshToken, RefreshToken: "not-a-refresh-token"}, false, nil, nil, 3, nil, "invalid_grant"},
		{"unknown grant", Grant{Type: "implicit"}, false, nil, nil, 2, nil, "unknown grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := grantConfig(p.Issuer(), tt.g, tt.confidential, tt.expect...)
			if tt.scopes != nil {
				c.Scopes = tt.scopes
			}
			r := run(context.Background(), c)
			if r.ExitCode != tt.wantCode {
				t.Fatalf("exit %d, want %d; error %+v checks %+v", r.ExitCode, tt.wantCode, r.Error, r.Checks)
			}
			for _, k := range tt.wantTokens {
				if tok := r.Tokens[k]; tok == nil || !tok.Verified {
					t.Errorf("%s not verified: %+v", k, tok)
				}
			}
			if tt.wantInError != "" && (r.Error == nil || !strings.Contains(r.Error.Message, tt.wantInError)) {
				t.Errorf("error %+v, want it to mention %q", r.Error, tt.wantInError)
			}
			for _, tok := range r.Tokens {
				if tok.Raw != "" {
					t.Errorf("raw token in the report without ShowTokens")
				}
			}
		})
	}
}

// TestRefreshGrant gets a refresh token through the device grant with
// offline_access, redeems it, and checks that the spent one is refused.
func TestRefreshGrant(t *testing.T) {
	p := startDemo(t)
	var rt string
	c := grantConfig(p.Issuer(), Grant{Type: flow.GrantDeviceCode, DeviceShow: approve("alice", "alice-demo", false)}, false, "IT")
	c.Scopes = []string{"openid", "groups", "offline_access"}
	c.OnRefreshToken = func(s string) { rt = s }
	if r := run(context.Background(), c); r.ExitCode != 0 || rt == "" {
		t.Fatalf("device grant: exit %d, refresh token %t, error %+v", r.ExitCode, rt != "", r.Error)
	}

	var next string
	c = grantConfig(p.Issuer(), Grant{Type: flow.GrantRefreshToken, RefreshToken: rt}, false, "IT", "Everyone")
	c.OnRefreshToken = func(s string) { next = s }
	r := run(context.Background(), c)
	if r.ExitCode != 0 {
		t.Fatalf("refresh: exit %d, error %+v, checks %+v", r.ExitCode, r.Error, r.Checks)
	}
	if r.Tokens[report.IDToken] == nil || !r.Tokens[report.IDToken].Verified {
		t.Errorf("refresh: no verified ID token")
	}
	if next == "" || next == rt {
		t.Errorf("refresh token not rotated")
	}
	// The demo provider rotates refresh tokens: the spent one is refused.
	r = run(context.Background(), grantConfig(p.Issuer(), Grant{Type: flow.GrantRefreshToken, RefreshToken: rt}, false))
	if r.ExitCode != failure.Flow.ExitCode() {
		t.Errorf("spent refresh token: exit %d, want %d", r.ExitCode, failure.Flow.ExitCode())
	}
}

// TestGrantSharedProvider runs a grant with a Provider discovered once.
func TestGrantSharedProvider(t *testing.T) {
	p := startDemo(t)
	c := grantConfig(p.Issuer(), Grant{Type: flow.GrantPassword, Username: "alice", Password: "alice-demo"}, false, "IT")
	vp, err := verify.Discover(context.Background(), p.Issuer(), c.HTTPClient)
	if err != nil {
		t.Fatal(err)
	}
	c.Provider = vp
	c.Issuer = "http://127.0.0.1:1" // never asked: the shared provider is used
	if r := run(context.Background(), c); r.ExitCode != 0 {
		t.Fatalf("exit %d, error %+v", r.ExitCode, r.Error)
	}
}

// TestCodeFlowRefreshToken: an interactive run with offline_access hands
// its refresh token to OnRefreshToken (--print-refresh-token), and the
// refresh grant accepts it.
func TestCodeFlowRefreshToken(t *testing.T) {
	p := startDemo(t)
	var rt string
	c := Config{
		Issuer: p.Issuer(), ClientID: demo.PublicClientID, RedirectURI: "http://127.0.0.1:0/callback",
		Scopes: []string{"openid", "groups", "offline_access"}, Expect: verify.Expectations{ExpectGroups: []string{"IT"}},
		ClockSkew: time.Minute, HTTPClient: &http.Client{Timeout: 10 * time.Second}, Timeout: 20 * time.Second,
		Opener:         &standin.Browser{Username: "alice", Password: "alice-demo"},
		OnRefreshToken: func(s string) { rt = s },
	}
	if r := run(context.Background(), c); r.ExitCode != 0 || rt == "" {
		t.Fatalf("code flow: exit %d, refresh token %t, error %+v", r.ExitCode, rt != "", r.Error)
	}
	r := run(context.Background(), grantConfig(p.Issuer(), Grant{Type: flow.GrantRefreshToken, RefreshToken: rt}, false, "IT", "Everyone"))
	if r.ExitCode != 0 {
		t.Fatalf("refresh: exit %d, error %+v", r.ExitCode, r.Error)
	}
}
