package okta

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	oktaop "github.com/claimcheck/claimcheck/internal/op/okta"
	"github.com/claimcheck/claimcheck/verify"
)

func TestNewServer(t *testing.T) {
	tests := []struct {
		domain, server         string
		issuer, audience, fail string
	}{
		{domain: "example.okta.com", server: "org", issuer: "https://example.okta.com"},
		{domain: "https://example.okta.com/", server: "default", issuer: "https://example.okta.com/oauth2/default", audience: "api://default"},
		{domain: "example.okta.com", server: "", issuer: "https://example.okta.com/oauth2/default", audience: "api://default"},
		{domain: "example.okta.com", server: "aus1a2b3c4", issuer: "https://example.okta.com/oauth2/aus1a2b3c4"},
		{domain: "127.0.0.1:8080", server: "org", issuer: "http://127.0.0.1:8080"},
		{domain: "http://localhost:8080", server: "default", issuer: "http://localhost:8080/oauth2/default", audience: "api://default"},
		{domain: "http://example.okta.com", server: "org", fail: "plain http is allowed only for a loopback test domain"},
		{domain: "ftp://example.okta.com", server: "org", fail: "scheme must be https"},
		{domain: "example.okta.com/oauth2/default", server: "org", fail: "is not a domain"},
		{domain: "", server: "org", fail: "empty"},
		{domain: "example.okta.com", server: "a/b", fail: "neither org nor an authorization server id"},
	}
	for _, tt := range tests {
		s, err := NewServer(tt.domain, tt.server)
		if tt.fail != "" {
			if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.fail) {
				t.Errorf("%q %q: %v, want usage error %q", tt.domain, tt.server, err, tt.fail)
			}
			continue
		}
		if err != nil || s.Issuer() != tt.issuer || s.Audience() != tt.audience {
			t.Errorf("%q %q: %q %q %v, want %q %q", tt.domain, tt.server, s.Issuer(), s.Audience(), err, tt.issuer, tt.audience)
		}
		if back, ok := ServerOf(s.Issuer()); !ok || back != s {
			t.Errorf("ServerOf(%q) = %v %v", s.Issuer(), back, ok)
		}
	}
	for _, bad := range []string{"https://x.okta.com/oauth2/v1", "https://x.okta.com/a/b/c", "::"} {
		if _, ok := ServerOf(bad); ok {
			t.Errorf("ServerOf(%q) recognised", bad)
		}
	}
	if !Hosted("https://dev-1.okta.com/oauth2/default") || Hosted("https://okta.com.evil.example") {
		t.Error("Hosted")
	}
}

func TestAuthenticate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := oktaop.Start(ctx, oktaop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hc := &http.Client{Timeout: 5 * time.Second}
	tests := []struct {
		user, password string
		class          failure.Class
		status, frag   string
	}{
		{user: "alice", password: "alice-okta"},
		{user: "dave", password: "dave-okta", class: failure.Flow, status: "MFA_REQUIRED", frag: "multifactor authentication"},
		{user: "erin", password: "erin-okta", class: failure.Flow, status: "LOCKED_OUT", frag: "locked out"},
		{user: "frank", password: "frank-okta", class: failure.Flow, status: "PASSWORD_EXPIRED", frag: "password has expired"},
		{user: "alice", password: "wrong-secret", class: failure.Flow, frag: "wrong username or password (E0000004)"},
		{user: "alice", password: "", class: failure.Usage, frag: "a username and a password are needed"},
	}
	for _, tt := range tests {
		tok, err := Authenticate(ctx, hc, p.OrgIssuer(), tt.user, tt.password)
		if tt.class == "" {
			if err != nil || tok == "" {
				t.Errorf("%s: %q %v", tt.user, tok, err)
			}
			continue
		}
		if failure.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.frag) || strings.Contains(err.Error(), "wrong-secret") {
			t.Errorf("%s: %v, want %s %q", tt.user, err, tt.class, tt.frag)
		}
		var se *StatusError
		if tt.status != "" && (!errors.As(err, &se) || se.Status != tt.status) {
			t.Errorf("%s: %v, want status %s", tt.user, err, tt.status)
		}
		if failure.ClassOf(err).ExitCode() != 3 && tt.class == failure.Flow {
			t.Errorf("exit %d", failure.ClassOf(err).ExitCode())
		}
	}
	// Answers that are not the API's.
	for status, body := range map[int]string{500: `{}`, 200: `<html></html>`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		_, err := Authenticate(ctx, hc, srv.URL, "alice", "alice-okta")
		srv.Close()
		if failure.ClassOf(err) != failure.Provider {
			t.Errorf("status %d %s: %v, want a provider error", status, body, err)
		}
	}
}

// Each Okta-specific diagnosis of a missing group.
func TestExplain(t *testing.T) {
	org := Server{Org: "https://x.okta.com", ID: OrgServer}
	def := Server{Org: "https://x.okta.com", ID: DefaultServer}
	src := func(name string, kv ...any) verify.Source {
		c := map[string]any{"sub": "u"}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return verify.Source{Name: name, Claims: c, Verified: true}
	}
	many := make([]any, 120)
	for i := range many {
		many[i] = "g"
	}
	tests := []struct {
		name    string
		f       Facts
		e       verify.Expectations
		sources []verify.Source
		want    []string
		not     []string
	}{
		{
			name:    "groups scope not requested at the org server",
			f:       Facts{Server: org, Scopes: []string{"openid"}, ResponseType: "id_token"},
			sources: []verify.Source{src("id_token")},
			want:    []string{"the groups scope was not requested", "more than 100"},
			not:     []string{"thin"},
		},
		{
			name:    "thin ID token",
			f:       Facts{Server: org, Scopes: []string{"openid", "groups"}, ResponseType: "id_token token"},
			sources: []verify.Source{src("id_token")},
			want:    []string{"the ID token is thin"},
			not:     []string{"scope was not requested"},
		},
		{
			name:    "thin ID token in the code flow",
			f:       Facts{Server: org, Scopes: []string{"openid", "groups"}, ResponseType: "code"},
			sources: []verify.Source{src("id_token")},
			want:    []string{"the ID token is thin"},
		},
		{
			name:    "fat ID token is not thin",
			f:       Facts{Server: org, Scopes: []string{"openid", "groups"}, ResponseType: "id_token"},
			sources: []verify.Source{src("id_token")},
			want:    []string{"more than 100"},
			not:     []string{"thin"},
		},
		{
			name: "groups looked for in an org access token",
			f:    Facts{Server: org, Scopes: []string{"openid", "groups"}, ResponseType: "code"},
			e:    verify.Expectations{GroupsFrom: []string{"access_token"}},
			want: []string{"never in its access tokens"},
		},
		{
			name:    "more than 100 groups per userinfo",
			f:       Facts{Server: org, Scopes: []string{"openid", "groups"}, ResponseType: "code"},
			sources: []verify.Source{src("id_token"), src("userinfo", "groups", many)},
			want:    []string{"the user is in 120 groups (per /userinfo), more than the 100"},
			not:     []string{"thin"},
		},
		{
			name:    "custom server without the claim",
			f:       Facts{Server: def, Scopes: []string{"openid"}, ResponseType: "token"},
			sources: []verify.Source{src("access_token")},
			want:    []string{`custom authorization server "default" issues a groups claim only as defined on its Claims tab`, "more than 100"},
		},
		{
			name:    "claim present: no limit talk",
			f:       Facts{Server: def, Scopes: []string{"openid"}, ResponseType: "token"},
			sources: []verify.Source{src("access_token", "groups", []any{"Everyone"})},
			not:     []string{"100", "Claims tab"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(tt.f, tt.e)("IT", tt.sources)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("%q has %q", got, n)
				}
			}
		})
	}
}
