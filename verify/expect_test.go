package verify

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	id := func(claims map[string]any) Source { return Source{Name: SourceIDToken, Claims: claims, Verified: true} }
	at := func(claims map[string]any, verified bool) Source {
		return Source{Name: SourceAccessToken, Claims: claims, Verified: verified}
	}
	ui := func(claims map[string]any) Source {
		return Source{Name: SourceUserinfo, Claims: claims, Verified: true}
	}
	groups := func(g ...any) map[string]any { return map[string]any{"groups": g} }

	tests := []struct {
		name    string
		e       Expectations
		sources []Source
		want    []Check
	}{
		{
			name:    "array claim in two sources",
			e:       Expectations{ExpectGroups: []string{"IT", "Everyone"}},
			sources: []Source{id(groups("Everyone", "IT")), at(groups("Everyone"), true)},
			want: []Check{
				{Name: "group IT", OK: true, Source: "id_token", Detail: "found in id_token"},
				{Name: "group Everyone", OK: true, Source: "id_token,access_token", Detail: "found in id_token, access_token"},
			},
		},
		{
			name:    "string claim",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{id(map[string]any{"groups": "IT"})},
			want:    []Check{{Name: "group IT", OK: true, Source: "id_token", Detail: "found in id_token"}},
		},
		{
			name:    "missing everywhere lists what is present",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{id(groups("Everyone")), at(map[string]any{"scp": []any{"openid"}}, true)},
			want: []Check{{Name: "group IT", OK: false,
				Detail: "missing everywhere; present: id_token.groups [Everyone]; access_token.groups absent"}},
		},
		{
			name:    "no verified source",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: nil,
			want:    []Check{{Name: "group IT", OK: false, Detail: "missing everywhere; no verified source to look in"}},
		},
		{
			name:    "unverified source never satisfies",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{id(map[string]any{"sub": "alice"}), at(groups("IT"), false)},
			want: []Check{{Name: "group IT", OK: false,
				Detail: "missing everywhere; present: id_token.groups absent; it is only in the unverified access_token, which does not count"}},
		},
		{
			name: "per-source claim names",
			e: Expectations{
				ExpectGroups:        []string{"IT"},
				GroupsClaimBySource: map[string]string{SourceAccessToken: "GroupsClaim"},
			},
			sources: []Source{
				id(map[string]any{"GroupsClaim": []any{"IT"}}),
				at(map[string]any{"groups": []any{"IT"}, "GroupsClaim": []any{"IT"}}, true),
			},
			want: []Check{{Name: "group IT", OK: true, Source: "access_token", Detail: "found in access_token"}},
		},
		{
			name:    "custom claim name for every source",
			e:       Expectations{ExpectGroups: []string{"IT"}, GroupsClaim: "roles"},
			sources: []Source{id(map[string]any{"groups": []any{"IT"}})},
			want: []Check{{Name: "group IT", OK: false,
				Detail: "missing everywhere; present: id_token.roles absent; the id_token has a list of groups under groups, not roles: use --groups-claim id_token:groups"}},
		},
		{
			name:    "GroupsFrom restricts the sources",
			e:       Expectations{ExpectGroups: []string{"IT"}, GroupsFrom: []string{SourceUserinfo}},
			sources: []Source{id(groups("IT")), ui(groups("Everyone"))},
			want: []Check{{Name: "group IT", OK: false,
				Detail: "missing everywhere; present: userinfo.groups [Everyone]"}},
		},
		{
			name:    "forbid",
			e:       Expectations{ForbidGroups: []string{"Admins", "Contractors"}},
			sources: []Source{id(groups("Everyone", "Admins")), ui(groups("Admins"))},
			want: []Check{
				{Name: "forbidden group Admins", OK: false, Source: "id_token,userinfo", Detail: "present in id_token, userinfo"},
				{Name: "forbidden group Contractors", OK: true,
					Detail: "absent; present: id_token.groups [Everyone, Admins]; userinfo.groups [Admins]"},
			},
		},
		{
			name:    "forbidden group only in an unverified source",
			e:       Expectations{ForbidGroups: []string{"Admins"}},
			sources: []Source{id(groups("Everyone")), at(groups("Admins"), false)},
			want: []Check{{Name: "forbidden group Admins", OK: true,
				Detail: "absent; present: id_token.groups [Everyone]"}},
		},
		{
			name:    "exact holds",
			e:       Expectations{ExpectGroups: []string{"IT", "Everyone"}, ExactGroups: true},
			sources: []Source{id(groups("Everyone", "IT"))},
			want: []Check{
				{Name: "group IT", OK: true, Source: "id_token", Detail: "found in id_token"},
				{Name: "group Everyone", OK: true, Source: "id_token", Detail: "found in id_token"},
				{Name: "exact groups", OK: true, Detail: "nothing beyond [IT, Everyone]; present: id_token.groups [Everyone, IT]"},
			},
		},
		{
			name:    "exact fails on extras",
			e:       Expectations{ExpectGroups: []string{"Everyone"}, ExactGroups: true},
			sources: []Source{id(groups("Everyone", "IT")), at(groups("IT", "Admins"), true)},
			want: []Check{
				{Name: "group Everyone", OK: true, Source: "id_token", Detail: "found in id_token"},
				{Name: "exact groups", OK: false, Source: "id_token,access_token",
					Detail: "unexpected: IT (id_token, access_token), Admins (access_token)"},
			},
		},
		{
			name:    "exact with nothing expected and no groups claim cannot pass",
			e:       Expectations{ExactGroups: true},
			sources: []Source{id(map[string]any{"sub": "alice"})},
			want: []Check{{Name: "exact groups", OK: false,
				Detail: "the groups claim is absent everywhere; cannot prove absence; present: id_token.groups absent"}},
		},
		{
			name:    "exact with an empty groups claim",
			e:       Expectations{ExactGroups: true},
			sources: []Source{id(groups())},
			want: []Check{{Name: "exact groups", OK: true,
				Detail: "nothing beyond []; present: id_token.groups []"}},
		},
		{
			name:    "forbid without the groups claim anywhere cannot pass",
			e:       Expectations{ForbidGroups: []string{"Admins"}},
			sources: []Source{id(map[string]any{"sub": "alice"}), ui(map[string]any{"sub": "alice"})},
			want: []Check{{Name: "forbidden group Admins", OK: false,
				Detail: "the groups claim is absent everywhere; cannot prove absence; present: id_token.groups absent; userinfo.groups absent"}},
		},
		{
			name:    "forbid with no verified source cannot pass",
			e:       Expectations{ForbidGroups: []string{"Admins"}},
			sources: []Source{at(groups("Everyone"), false)},
			want: []Check{{Name: "forbidden group Admins", OK: false,
				Detail: "the groups claim is absent everywhere; cannot prove absence; no verified source to look in"}},
		},
		{
			name:    "forbid with a malformed claim cannot pass",
			e:       Expectations{ForbidGroups: []string{"Admins"}},
			sources: []Source{id(map[string]any{"groups": true})},
			want: []Check{{Name: "forbidden group Admins", OK: false,
				Detail: "the groups claim is absent everywhere; cannot prove absence; present: id_token.groups is a boolean, not a list of groups (a string, an array of strings, or an object keyed by group)"}},
		},
		{
			name:    "forbid with the claim in one source of two",
			e:       Expectations{ForbidGroups: []string{"Admins"}},
			sources: []Source{id(map[string]any{"sub": "alice"}), at(groups("Everyone"), true)},
			want: []Check{{Name: "forbidden group Admins", OK: true,
				Detail: "absent; present: id_token.groups absent; access_token.groups [Everyone]"}},
		},
		{
			name:    "numeric group IDs and duplicates",
			e:       Expectations{ExpectGroups: []string{"42", " IT ", "", "IT"}},
			sources: []Source{id(groups(float64(42), "IT", "IT"))},
			want: []Check{
				{Name: "group 42", OK: true, Source: "id_token", Detail: "found in id_token"},
				{Name: "group IT", OK: true, Source: "id_token", Detail: "found in id_token"},
			},
		},
		{
			name:    "malformed claim",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{id(map[string]any{"groups": []any{"IT", map[string]any{"name": "Admins"}}})},
			want: []Check{{Name: "group IT", OK: false,
				Detail: "missing everywhere; present: id_token.groups is an array holding an object, not a list of groups (a string, an array of strings, or an object keyed by group)"}},
		},
		{
			name:    "an object keyed by group (Zitadel's roles claim)",
			e:       Expectations{ExpectGroups: []string{"IT"}, ForbidGroups: []string{"Admins"}, GroupsClaim: "urn:zitadel:iam:org:project:roles"},
			sources: []Source{id(map[string]any{"urn:zitadel:iam:org:project:roles": map[string]any{"IT": map[string]any{"2874": "acme.zitadel.cloud"}, "Everyone": map[string]any{}}})},
			want: []Check{
				{Name: "group IT", OK: true, Source: "id_token", Detail: "found in id_token"},
				{Name: "forbidden group Admins", OK: true, Detail: "absent; present: id_token.urn:zitadel:iam:org:project:roles [Everyone, IT]"},
			},
		},
		{
			name:    "a JSON Pointer into nested claims (Keycloak's realm roles)",
			e:       Expectations{ExpectGroups: []string{"IT"}, GroupsClaim: "/realm_access/roles"},
			sources: []Source{id(map[string]any{"realm_access": map[string]any{"roles": []any{"IT", "offline_access"}}})},
			want:    []Check{{Name: "group IT", OK: true, Source: "id_token", Detail: "found in id_token"}},
		},
		{
			name:    "a JSON Pointer with escapes, per token kind",
			e:       Expectations{ExpectGroups: []string{"IT"}, GroupsClaimBySource: map[string]string{"access_token": "/resource_access/web~1app/roles"}},
			sources: []Source{at(map[string]any{"resource_access": map[string]any{"web/app": map[string]any{"roles": []any{"IT"}}}}, true)},
			want:    []Check{{Name: "group IT", OK: true, Source: "access_token", Detail: "found in access_token"}},
		},
		{
			name:    "a colon-named claim (Cognito)",
			e:       Expectations{ExpectGroups: []string{"IT"}, GroupsClaim: "cognito:groups"},
			sources: []Source{at(map[string]any{"cognito:groups": []any{"IT"}}, true)},
			want:    []Check{{Name: "group IT", OK: true, Source: "access_token", Detail: "found in access_token"}},
		},
		{
			name:    "case matters",
			e:       Expectations{ExpectGroups: []string{"it"}},
			sources: []Source{id(groups("IT"))},
			want: []Check{{Name: "group it", OK: false,
				Detail: "missing everywhere; present: id_token.groups [IT]; close match \"IT\" (differs in case): groups compare exactly"}},
		},
		{
			name:    "hostile group names stay on one line",
			e:       Expectations{ExpectGroups: []string{"IT"}},
			sources: []Source{id(groups("a\nb", "x, y"))},
			want: []Check{{Name: "group IT", OK: false,
				Detail: `missing everywhere; present: id_token.groups ["a\nb", "x, y"]`}},
		},
		{
			name:    "no expectations, no checks",
			e:       Expectations{},
			sources: []Source{id(groups("IT"))},
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.e.Evaluate(tt.sources)
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(tt.want, "", "  ")
				t.Errorf("Evaluate =\n%s\nwant\n%s", g, w)
			}
			for _, c := range got {
				if strings.ContainsAny(c.Detail, "\r\n") {
					t.Errorf("detail is not one line: %q", c.Detail)
				}
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	b, err := json.Marshal(Check{Name: "group IT", OK: true, Source: "id_token", Detail: "found in id_token"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"group IT","ok":true,"source":"id_token","detail":"found in id_token"}`; string(b) != want {
		t.Errorf("%s, want %s", b, want)
	}
}

func TestWantsUserinfo(t *testing.T) {
	withGroups := Source{Name: SourceIDToken, Claims: map[string]any{"groups": []any{"IT"}}, Verified: true}
	thin := Source{Name: SourceIDToken, Claims: map[string]any{"sub": "alice"}, Verified: true}
	unverifiedAT := Source{Name: SourceAccessToken, Claims: map[string]any{"groups": []any{"IT"}}, Verified: false}
	userinfo := Source{Name: SourceUserinfo, Claims: map[string]any{"sub": "alice"}, Verified: true}
	it := []string{"IT"}
	tests := []struct {
		name    string
		e       Expectations
		sources []Source
		want    bool
	}{
		{"a verified token carries the claim", Expectations{ExpectGroups: it}, []Source{withGroups}, false},
		{"thin ID token", Expectations{ExpectGroups: it}, []Source{thin}, true},
		{"thin ID token, only forbidden groups", Expectations{ForbidGroups: it}, []Source{thin}, true},
		{"thin ID token, nothing expected", Expectations{}, []Source{thin}, false},
		{"GroupsFrom names userinfo, nothing expected", Expectations{GroupsFrom: []string{SourceUserinfo}}, []Source{thin}, false},
		{"only an unverified token carries it", Expectations{ExpectGroups: it}, []Source{thin, unverifiedAT}, true},
		{"claim under another name", Expectations{ExpectGroups: it, GroupsClaim: "roles"}, []Source{withGroups}, true},
		{"GroupsFrom names userinfo", Expectations{ExpectGroups: it, GroupsFrom: []string{SourceIDToken, SourceUserinfo}}, []Source{withGroups}, true},
		{"GroupsFrom excludes userinfo", Expectations{ExpectGroups: it, GroupsFrom: []string{SourceIDToken}}, []Source{thin}, false},
		{"userinfo already read", Expectations{ExpectGroups: it}, []Source{thin, userinfo}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.WantsUserinfo(tt.sources); got != tt.want {
				t.Errorf("WantsUserinfo = %v, want %v", got, tt.want)
			}
		})
	}
}
