package verify

import (
	"reflect"
	"testing"
)

// TestLookupClaim: names exactly as written, and RFC 6901 pointers with
// their escapes and array indexes (section 4 and the examples of section 5).
func TestLookupClaim(t *testing.T) {
	claims := map[string]any{
		"groups":                            []any{"IT"},
		"cognito:groups":                    []any{"Admins"},
		"https://claims.example.com/groups": []any{"Eng"},
		"realm_access":                      map[string]any{"roles": []any{"IT", "offline_access"}},
		"resource_access":                   map[string]any{"web/app": map[string]any{"roles": []any{"viewer"}}, "m~n": "tilde"},
		"":                                  "empty name",
		"list":                              []any{"a", map[string]any{"b": "deep"}},
	}
	tests := []struct {
		ref  string
		want any
		ok   bool
	}{
		{"groups", []any{"IT"}, true},
		{"cognito:groups", []any{"Admins"}, true},
		{"https://claims.example.com/groups", []any{"Eng"}, true},
		{"/realm_access/roles", []any{"IT", "offline_access"}, true},
		{"/realm_access/roles/1", "offline_access", true},
		{"/resource_access/web~1app/roles", []any{"viewer"}, true},
		{"/resource_access/m~0n", "tilde", true},
		{"/", "empty name", true},
		{"/list/1/b", "deep", true},
		{"/list/01", nil, false},
		{"/list/-", nil, false},
		{"/list/2", nil, false},
		{"/realm_access/missing", nil, false},
		{"/groups/0/x", nil, false},
		{"realm_access.roles", nil, false},
		{"missing", nil, false},
	}
	for _, tt := range tests {
		got, ok := LookupClaim(claims, tt.ref)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("LookupClaim(%q) = %v, %v; want %v, %v", tt.ref, got, ok, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct{ ref, err string }{
		{"", "a claim name is empty"},
		{"/a/~2", `"/a/~2": a JSON Pointer (RFC 6901) writes a literal ~ as ~0 and / as ~1`},
		{"/a~", `"/a~": a JSON Pointer (RFC 6901) writes a literal ~ as ~0 and / as ~1`},
		{"a~b", ""},
		{"/a/~0~1", ""},
	} {
		err := CheckClaimRef(tt.ref)
		if (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("CheckClaimRef(%q) = %v, want %q", tt.ref, err, tt.err)
		}
	}
	if p := pointerTo([]string{"resource_access", "web/app", "m~n"}); p != "/resource_access/web~1app/m~0n" {
		t.Errorf("pointerTo = %q", p)
	}
}
