package main

import (
	"reflect"
	"testing"
)

// TestGroupsClaims: --groups-claim takes claim names exactly as written,
// colons and slashes included; only id_token:, access_token: and userinfo:
// name a token kind; a leading / is a JSON Pointer (issue 12).
func TestGroupsClaims(t *testing.T) {
	tests := []struct {
		in       string
		def      string
		bySource map[string]string
		wantErr  string
	}{
		{in: "groups", def: "groups"},
		{in: "cognito:groups", def: "cognito:groups"},
		{in: "https://claims.example.com/groups", def: "https://claims.example.com/groups"},
		{in: "urn:zitadel:iam:org:project:roles", def: "urn:zitadel:iam:org:project:roles"},
		{in: "/realm_access/roles", def: "/realm_access/roles"},
		{in: "cookie:x", def: "cookie:x"},
		{in: "access_token:GroupsClaim", bySource: map[string]string{"access_token": "GroupsClaim"}},
		{in: "id_token:cognito:groups, access_token:/resource_access/web/roles", bySource: map[string]string{"id_token": "cognito:groups", "access_token": "/resource_access/web/roles"}},
		{in: "groups,userinfo:https://claims.example.com/groups", def: "groups", bySource: map[string]string{"userinfo": "https://claims.example.com/groups"}},
		{in: "access_token:", wantErr: `--groups-claim: "access_token:": a claim name is empty`},
		{in: "a,b", wantErr: `--groups-claim: "a,b" names two claims for every token`},
		{in: "id_token:a,id_token:b", wantErr: `--groups-claim: "id_token:a,id_token:b" names two claims for id_token`},
		{in: "/a/~x", wantErr: `--groups-claim: "/a/~x": "/a/~x": a JSON Pointer (RFC 6901) writes a literal ~ as ~0 and / as ~1`},
	}
	for _, tt := range tests {
		def, by, err := groupsClaims(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || def != tt.def || !reflect.DeepEqual(by, tt.bySource) {
			t.Errorf("%q: %q %v %v, want %q %v", tt.in, def, by, err, tt.def, tt.bySource)
		}
	}
}
