package check

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/internal/testsupport/demotokens"
	"github.com/claimcheck/claimcheck/report"
)

func exchangeConfig(issuer string, x flow.TokenExchange, expect ...string) Config {
	c := grantConfig(issuer, Grant{Type: flow.GrantTokenExchange, Exchange: x}, true, expect...)
	c.Scopes = nil
	return c
}

func TestTokenExchange(t *testing.T) {
	p := startDemo(t)
	alice := demotokens.Get(t, p.Issuer(), "alice", "alice-demo", "openid", "groups")
	bob := demotokens.Get(t, p.Issuer(), "bob", "bob-demo", "openid", "groups")
	service := demotokens.Get(t, p.Issuer(), "", "")
	at := func(tok *flow.Tokens) flow.TokenExchange {
		return flow.TokenExchange{SubjectToken: tok.AccessToken, SubjectTokenType: flow.TokenTypeAccessToken, Audiences: []string{demo.PublicClientID}}
	}
	tests := []struct {
		name      string
		x         flow.TokenExchange
		edit      func(*Config)
		expect    []string
		wantCode  int
		wantKind  string // the token kind verified
		wantIssue string // issued_token_type
		wantMsg   string
		check     func(*testing.T, *report.Report)
	}{
		{name: "alice access token for an access token", x: at(alice), expect: []string{"IT"}, wantKind: report.AccessToken, wantIssue: flow.TokenTypeAccessToken,
			check: func(t *testing.T, r *report.Report) {
				if aud := r.Tokens[report.AccessToken].Claims["aud"]; !strings.Contains(strings.Join(anyStrings(aud), " "), demo.PublicClientID) {
					t.Errorf("aud %v", aud)
				}
			}},
		{name: "bob lacks IT", x: at(bob), expect: []string{"IT"}, wantCode: 1, wantKind: report.AccessToken, wantIssue: flow.TokenTypeAccessToken},
		{name: "alice ID token", x: func() flow.TokenExchange {
			x := at(alice)
			x.RequestedTokenType = flow.TokenTypeIDToken
			return x
		}(), expect: []string{"IT"}, wantKind: report.IDToken, wantIssue: flow.TokenTypeIDToken},
		{name: "alice ID token as subject", x: flow.TokenExchange{SubjectToken: alice.IDToken, SubjectTokenType: flow.TokenTypeIDToken},
			expect: []string{"IT"}, wantKind: report.AccessToken, wantIssue: flow.TokenTypeAccessToken},
		{name: "actor named in act", x: func() flow.TokenExchange {
			x := at(alice)
			x.ActorToken, x.ActorTokenType = service.AccessToken, flow.TokenTypeAccessToken
			return x
		}(), expect: []string{"IT"}, wantKind: report.AccessToken, wantIssue: flow.TokenTypeAccessToken,
			check: func(t *testing.T, r *report.Report) {
				act, _ := r.Request.TokenExchange.Act.(map[string]any)
				if act["sub"] != demo.ConfidentialClientID {
					t.Errorf("act %v, want sub %s", r.Request.TokenExchange.Act, demo.ConfidentialClientID)
				}
			}},
		{name: "no audience: the client's own", x: flow.TokenExchange{SubjectToken: alice.AccessToken, SubjectTokenType: flow.TokenTypeAccessToken},
			wantKind: report.AccessToken, wantIssue: flow.TokenTypeAccessToken},
		{name: "unknown audience", x: func() flow.TokenExchange {
			x := at(alice)
			x.Audiences = []string{"no-such-service"}
			return x
		}(), wantCode: 3, wantMsg: "invalid_target"},
		{name: "subject token not one of the provider's", x: flow.TokenExchange{SubjectToken: "not-a-token", SubjectTokenType: flow.TokenTypeAccessToken},
			wantCode: 3, wantMsg: "subject token it does not accept"},
		{name: "unknown subject token type", x: flow.TokenExchange{SubjectToken: alice.AccessToken, SubjectTokenType: "urn:example:token-type:unknown"},
			wantCode: 3, wantMsg: "invalid_request"},
		{name: "requested type the provider does not issue", x: func() flow.TokenExchange {
			x := at(alice)
			x.RequestedTokenType = flow.TokenTypeJWT
			return x
		}(), wantCode: 3, wantMsg: "requested_token_type"},
		{name: "scope beyond the subject token's", x: at(alice), edit: func(c *Config) { c.Scopes = []string{"openid", "email"} },
			wantCode: 3, wantMsg: "invalid_scope"},
		{name: "public client may not exchange", x: at(alice), edit: func(c *Config) { c.ClientID, c.ClientSecret = demo.PublicClientID, "" },
			wantCode: 3, wantMsg: "needs a confidential client"},
		{name: "wrong client secret", x: at(alice), edit: func(c *Config) { c.ClientSecret = "wrong-secret" },
			wantCode: 3, wantMsg: "invalid_client"},
		{name: "no subject token", x: flow.TokenExchange{SubjectTokenType: flow.TokenTypeAccessToken}, wantCode: 2, wantMsg: "subject token"},
		{name: "no subject token type", x: flow.TokenExchange{SubjectToken: alice.AccessToken}, wantCode: 2, wantMsg: "--subject-token-type"},
		{name: "actor token without its type", x: func() flow.TokenExchange {
			x := at(alice)
			x.ActorToken = service.AccessToken
			return x
		}(), wantCode: 2, wantMsg: "--actor-token-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := exchangeConfig(p.Issuer(), tt.x, tt.expect...)
			if tt.edit != nil {
				tt.edit(&c)
			}
			r := run(context.Background(), c)
			if r.ExitCode != tt.wantCode {
				t.Fatalf("exit %d, want %d; error %+v checks %+v", r.ExitCode, tt.wantCode, r.Error, r.Checks)
			}
			if tt.wantKind != "" {
				if tok := r.Tokens[tt.wantKind]; tok == nil || !tok.Verified {
					t.Errorf("%s not verified: %+v", tt.wantKind, tok)
				}
			}
			if tt.wantIssue != "" && r.Request.TokenExchange.IssuedTokenType != tt.wantIssue {
				t.Errorf("issued_token_type %q, want %q", r.Request.TokenExchange.IssuedTokenType, tt.wantIssue)
			}
			if tt.wantMsg != "" && (r.Error == nil || !strings.Contains(r.Error.Message, tt.wantMsg)) {
				t.Errorf("error %+v, want it to mention %q", r.Error, tt.wantMsg)
			}
			if r.Error != nil && strings.Contains(r.Error.Message, "\n") {
				t.Errorf("message of more than one line: %q", r.Error.Message)
			}
			if r.Request != nil && r.Request.Grant != flow.GrantTokenExchange {
				t.Errorf("request.grant %q", r.Request.Grant)
			}
			noSubjectToken(t, r, tt.x.SubjectToken, tt.x.ActorToken)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// noSubjectToken fails when the report, as JSON, holds either token.
func noSubjectToken(t *testing.T, r *report.Report, tokens ...string) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		if len(tok) > 8 && strings.Contains(string(b), tok[:len(tok)/2]) {
			t.Errorf("the report shows a token it sent: %s", b)
		}
	}
}

func anyStrings(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var s []string
		for _, e := range a {
			if str, ok := e.(string); ok {
				s = append(s, str)
			}
		}
		return s
	}
	return nil
}

// TestTokenExchangeHostile: the provider's answer to a good exchange is
// spoiled on the way, and each defect is a verification failure.
func TestTokenExchangeHostile(t *testing.T) {
	p := startDemo(t)
	alice := demotokens.Get(t, p.Issuer(), "alice", "alice-demo", "openid", "groups")
	x := flow.TokenExchange{SubjectToken: alice.AccessToken, SubjectTokenType: flow.TokenTypeAccessToken, Audiences: []string{demo.PublicClientID}}
	idx := x
	idx.RequestedTokenType = flow.TokenTypeIDToken
	tests := []struct {
		name    string
		x       flow.TokenExchange
		opts    hostile.Options
		wantMsg string
	}{
		{"no issued_token_type", x, hostile.Options{TokenResponse: func(m map[string]any) { delete(m, "issued_token_type") }}, "no issued_token_type"},
		{"issued_token_type not a string", x, hostile.Options{TokenResponse: func(m map[string]any) { m["issued_token_type"] = 7 }}, "no issued_token_type"},
		{"bad signature", x, hostile.Options{TokenResponse: func(m map[string]any) {
			raw := m["access_token"].(string)
			i := strings.LastIndexByte(raw, '.')
			sig, _ := base64.RawURLEncoding.DecodeString(raw[i+1:])
			sig[len(sig)/2] ^= 0x01
			m["access_token"] = raw[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
		}}, "signature"},
		{"N_A for an access token", x, hostile.Options{TokenResponse: func(m map[string]any) { m["token_type"] = "N_A" }}, "n_a"},
		{"no token_type", x, hostile.Options{TokenResponse: func(m map[string]any) { delete(m, "token_type") }}, "no token_type"},
		{"Bearer for an ID token", idx, hostile.Options{TokenResponse: func(m map[string]any) { m["token_type"] = "Bearer" }}, "n_a"},
		{"aud without the audience asked for", x, hostile.Options{AccessToken: func(t *hostile.Token) { t.Claims["aud"] = []string{"someone-else"} }}, "lacks the audience"},
		{"subject token echoed as issued_token_type", x, hostile.Options{TokenResponse: func(m map[string]any) { m["issued_token_type"] = alice.AccessToken }}, "cannot be verified locally"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := hostile.New(p.Issuer(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := exchangeConfig(s.Issuer(), tt.x, "IT")
			c.HTTPClient = s.Client()
			r := run(context.Background(), c)
			if r.ExitCode != 4 {
				t.Fatalf("exit %d, want 4; error %+v checks %+v", r.ExitCode, r.Error, r.Checks)
			}
			if r.Error == nil || !strings.Contains(strings.ToLower(r.Error.Message), tt.wantMsg) {
				t.Errorf("error %+v, want it to mention %q", r.Error, tt.wantMsg)
			}
			noSubjectToken(t, r, tt.x.SubjectToken)
		})
	}
}
