package provider

import (
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/verify"
)

func idToken(claims map[string]any) verify.Source {
	return verify.Source{Name: verify.SourceIDToken, Claims: claims, Verified: true}
}

func accessToken(claims map[string]any) verify.Source {
	return verify.Source{Name: verify.SourceAccessToken, Claims: claims, Verified: true}
}

// Each provider's reason for a missing group, for the evidence that calls
// for it; and nothing where the evidence does not.
func TestExplain(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		facts    Facts
		sources  []verify.Source
		want     []string
		not      []string
	}{
		{"entra overage hasgroups", Entra, Facts{}, []verify.Source{idToken(map[string]any{"hasgroups": true})},
			[]string{"group overage", "hasgroups: true", "Groups assigned to the application", "Microsoft Graph"}, []string{"Add groups claim"}},
		{"entra overage distributed", Entra, Facts{}, []verify.Source{idToken(map[string]any{
			"_claim_names": map[string]any{"groups": "src1"}, "_claim_sources": map[string]any{"src1": map[string]any{"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}})},
			[]string{"_claim_names", "200 in a JWT"}, nil},
		{"entra no groups claim", Entra, Facts{}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"groupMembershipClaims", "object IDs (GUIDs)"}, []string{"overage"}},
		{"entra app role", Entra, Facts{}, []verify.Source{idToken(map[string]any{"roles": []any{"IT"}})},
			[]string{`"IT" is in the id_token's roles claim`, "--groups-claim roles"}, nil},
		{"keycloak realm role", Keycloak, Facts{}, []verify.Source{accessToken(map[string]any{"realm_access": map[string]any{"roles": []any{"IT", "offline_access"}}})},
			[]string{"realm role in the access_token", "--groups-claim /realm_access/roles"}, []string{"Group Membership mapper (on"}},
		{"keycloak client role", Keycloak, Facts{}, []verify.Source{accessToken(map[string]any{"resource_access": map[string]any{"web/app": map[string]any{"roles": []any{"IT"}}}})},
			[]string{"client role of web/app", "--groups-claim /resource_access/web~1app/roles"}, nil},
		{"keycloak client role in two tokens, said once", Keycloak, Facts{}, []verify.Source{
			idToken(map[string]any{"resource_access": map[string]any{"web": map[string]any{"roles": []any{"IT"}}}}),
			accessToken(map[string]any{"resource_access": map[string]any{"web": map[string]any{"roles": []any{"IT"}}}})},
			[]string{"client role of web in the resource_access of the id_token, access_token (--groups-claim /resource_access/web/roles)"}, []string{"in the id_token's resource_access"}},
		{"keycloak no mapper", Keycloak, Facts{}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"Group Membership mapper", "Add to ID token"}, nil},
		{"keycloak full path is verify's", Keycloak, Facts{}, []verify.Source{idToken(map[string]any{"groups": []any{"/IT"}})},
			nil, []string{"mapper"}},
		{"auth0 plain groups collides", Auth0, Facts{}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"namespaced", `"groups" collides`, "dropped without an error", "https://example.com/groups"}, nil},
		{"auth0 namespaced but absent", Auth0, Facts{Expect: verify.Expectations{GroupsClaim: "https://example.com/groups"}}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{`no "https://example.com/groups" claim unless a post-login Action sets it`}, []string{"collides"}},
		{"auth0 permissions", Auth0, Facts{Expect: verify.Expectations{GroupsClaim: "https://example.com/groups"}},
			[]verify.Source{accessToken(map[string]any{"permissions": []any{"IT"}, "https://example.com/groups": []any{"Eng"}})},
			[]string{"among the access_token's permissions"}, []string{"post-login"}},
		{"cognito wrong claim", Cognito, Facts{}, []verify.Source{idToken(map[string]any{"cognito:groups": []any{"IT"}})},
			[]string{"cognito:groups, not \"groups\"", "--groups-claim cognito:groups"}, nil},
		{"cognito no groups and token_use", Cognito, Facts{Expect: verify.Expectations{GroupsClaim: "cognito:groups"}},
			[]verify.Source{accessToken(map[string]any{"token_use": "access", "client_id": "abc"})},
			[]string{"at least one user pool group", "client_id, not aud", "token_use"}, nil},
		{"google", Google, Facts{}, []verify.Source{idToken(map[string]any{"hd": "example.com"})},
			[]string{"no groups claim at all"}, nil},
		{"zitadel roles claim", Zitadel, Facts{}, []verify.Source{idToken(map[string]any{ZitadelRolesClaim: map[string]any{"IT": map[string]any{"123": "acme.zitadel.cloud"}}})},
			[]string{"project role", "object keyed by role name", "--groups-claim " + ZitadelRolesClaim}, nil},
		{"zitadel project id roles claim", Zitadel, Facts{}, []verify.Source{idToken(map[string]any{"urn:zitadel:iam:org:project:2864:roles": map[string]any{"IT": map[string]any{}}})},
			[]string{"--groups-claim urn:zitadel:iam:org:project:2864:roles"}, nil},
		{"zitadel no roles scope", Zitadel, Facts{Scopes: []string{"openid"}}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"Assert Roles on Authentication", "no roles scope was requested", "User roles inside ID Token"}, nil},
		{"zitadel roles scope asked", Zitadel, Facts{Scopes: []string{"openid", "urn:zitadel:iam:org:projects:roles"}}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"Assert Roles on Authentication"}, []string{"no roles scope"}},
		{"dex groups scope", Dex, Facts{Scopes: []string{"openid"}}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"only with the groups scope"}, nil},
		{"dex connector", Dex, Facts{Scopes: []string{"openid", "groups"}}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"staticPasswords"}, nil},
		{"dex claim there", Dex, Facts{Scopes: []string{"openid", "groups"}}, []verify.Source{idToken(map[string]any{"groups": []any{"Eng"}})},
			nil, []string{"staticPasswords", "scope"}},
		{"authentik profile scope", Authentik, Facts{Scopes: []string{"openid"}}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"with the profile scope", "add profile to --scopes"}, nil},
		{"authentik mapping", Authentik, Facts{Scopes: []string{"openid", "profile"}}, []verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"scope mapping"}, nil},
		{"okta custom domain", Okta, Facts{Issuer: "https://login.example.com", Scopes: []string{"openid"}, ResponseType: "code"},
			[]verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{"the groups scope was not requested", "the ID token is thin"}, nil},
		{"okta custom server", Okta, Facts{Issuer: "https://login.example.com/oauth2/default", Scopes: []string{"openid"}, ResponseType: "code"},
			[]verify.Source{idToken(map[string]any{"sub": "x"})},
			[]string{`the custom authorization server "default" issues a groups claim only as defined on its Claims tab`}, []string{"groups scope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Lookup(tt.provider)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Explain(tt.facts)("IT", tt.sources)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("has %q:\n%s", n, got)
				}
			}
			if len(tt.want) == 0 && tt.not == nil && got != "" {
				t.Errorf("explained %q", got)
			}
		})
	}
}
