package verify

import (
	"strings"
	"testing"
)

// Each diagnosis the claims alone allow, as the end of a missing group's
// detail.
func TestDiagnoseMissingGroup(t *testing.T) {
	src := func(name string, verified bool, kv ...any) Source {
		c := map[string]any{"sub": "u1", "aud": []any{"x", "y"}, "amr": []any{"pwd"}}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return Source{Name: name, Claims: c, Verified: verified}
	}
	list := func(g ...any) []any { return g }
	explain := func(string, []Source) string { return "provider says why" }
	tests := []struct {
		name    string
		e       Expectations
		sources []Source
		want    string // the detail ends with this
	}{
		{
			name:    "claim under another name (GroupsClaim), suggest the flag",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceAccessToken, true, "GroupsClaim", list("Everyone", "IT"))},
			want:    "the access_token has a list of groups under GroupsClaim, not groups: use --groups-claim access_token:GroupsClaim; provider says why",
		},
		{
			name:    "another name found by the group in it",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "teams", list("IT"))},
			want:    "the id_token has a list of groups under teams, not groups: use --groups-claim id_token:teams; provider says why",
		},
		{
			name:    "Keycloak's full group path",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("/IT", "/Everyone"))},
			want:    `the id_token has "/IT", the full path of "IT": Keycloak's group mapper sends full paths while its "Full group path" setting is on; expect "/IT", or turn the setting off; provider says why`,
		},
		{
			name:    "a subgroup's full path is a close match",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("/Eng/IT"))},
			want:    `close match "/Eng/IT" (the full path of a subgroup): groups compare exactly; provider says why`,
		},
		{
			name:    "Entra ID's object IDs where a name was expected",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("0b0a2e4c-1d1a-4a5f-9a8e-3c2d1e0f9a8b", "6f9619ff-8b86-d011-b42d-00c04fc964ff"))},
			want:    `the id_token's groups holds object IDs (GUIDs), not names: Microsoft Entra ID sends group object IDs unless the app registration's groups claim is set to emit names (sAMAccountName, or cloud group names with groupMembershipClaims ApplicationGroup); expect the group's object ID instead, or change the token configuration; provider says why`,
		},
		{
			name:    "an object ID expected among object IDs is no near miss",
			e:       Expectations{ExpectGroups: []string{"11111111-2222-3333-4444-555555555555"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("0b0a2e4c-1d1a-4a5f-9a8e-3c2d1e0f9a8b"))},
			want:    "missing everywhere; present: id_token.groups [0b0a2e4c-1d1a-4a5f-9a8e-3c2d1e0f9a8b]; provider says why",
		},
		{
			name:    "Keycloak's realm roles, nested: suggest the pointer",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "realm_access", map[string]any{"roles": list("IT", "offline_access")})},
			want:    "the id_token has a list of groups under /realm_access/roles, not groups: use --groups-claim id_token:/realm_access/roles; provider says why",
		},
		{
			name:    "client roles under a client ID with a slash",
			e:       Expectations{ExpectGroups: []string{"IT"}, GroupsClaim: "/realm_access/roles"},
			sources: []Source{src(SourceAccessToken, true, "realm_access", map[string]any{"roles": list("offline_access")}, "resource_access", map[string]any{"web/app": map[string]any{"roles": list("IT")}})},
			want:    "the access_token has a list of groups under /resource_access/web~1app/roles, not /realm_access/roles: use --groups-claim access_token:/resource_access/web~1app/roles; provider says why",
		},
		{
			name:    "claim configured for the other token kind",
			e:       Expectations{ExpectGroups: []string{"IT"}, GroupsClaimBySource: map[string]string{SourceAccessToken: "GroupsClaim", SourceIDToken: "GroupsClaim"}, GroupsFrom: []string{SourceAccessToken}},
			sources: []Source{src(SourceIDToken, true, "GroupsClaim", list("IT")), src(SourceAccessToken, true)},
			want:    "the GroupsClaim claim is in the id_token, not in the access_token: it is configured for the other kind of token (include it in the access_token, or use --groups-from id_token); provider says why",
		},
		{
			name:    "an unverified token does not count as the other kind",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true), src(SourceAccessToken, false, "groups", list("IT"))},
			want:    "it is only in the unverified access_token, which does not count; provider says why",
		},
		{
			name:    "claims and provider both explain",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("it"))},
			want:    `close match "it" (differs in case): groups compare exactly; provider says why`,
		},
		{
			name:    "at most three close matches",
			e:       Expectations{ExpectGroups: []string{"Team 999"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("Team 099", "Team 199", "Team 909", "Team 990", "Team 998"))},
			want:    `close match "Team 099" (differs by a letter or two), "Team 199" (differs by a letter or two), "Team 909" (differs by a letter or two), …: groups compare exactly; provider says why`,
		},
		{
			name:    "present, case differs",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("Everyone", "it"))},
			want:    "present: id_token.groups [Everyone, it]; close match \"it\" (differs in case): groups compare exactly; provider says why",
		},
		{
			name:    "present, spaces differ",
			e:       Expectations{ExpectGroups: []string{"Midwest Sales"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("Midwest  Sales"))},
			want:    "close match \"Midwest  Sales\" (differs in spaces): groups compare exactly; provider says why",
		},
		{
			name:    "present, a letter off",
			e:       Expectations{ExpectGroups: []string{"Engineering"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("Engineerng", "Everyone"))},
			want:    "close match \"Engineerng\" (differs by a letter or two): groups compare exactly; provider says why",
		},
		{
			name:    "present, nothing close: the provider's explanation",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true, "groups", list("Everyone"))},
			want:    "present: id_token.groups [Everyone]; provider says why",
		},
		{
			name:    "no claim anywhere: the provider's explanation",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{src(SourceIDToken, true)},
			want:    "present: id_token.groups absent; provider says why",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.e.Explain = explain
			checks := tt.e.Evaluate(tt.sources)
			if len(checks) != 1 || checks[0].OK {
				t.Fatalf("checks %+v", checks)
			}
			if !strings.HasSuffix(checks[0].Detail, tt.want) {
				t.Errorf("detail\n%s\nwant it to end with\n%s", checks[0].Detail, tt.want)
			}
		})
	}
}
