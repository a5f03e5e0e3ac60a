package main

import (
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// claimcheck demo --groups-shape: each provider's shape, read with the
// claim it needs, passes for alice and fails on IT for bob; read as
// "groups", the near miss or the provider's reason is named; an unknown
// shape is a usage error with a suggestion.
func TestDemoGroupsShapes(t *testing.T) {
	tests := []struct {
		shape string
		args  []string // what reads the shape
		miss  string   // in the report when read as "groups"
	}{
		{demo.ShapeKeycloak, []string{"--groups-claim", "/realm_access/roles"}, "Keycloak puts realm roles in realm_access.roles"},
		{demo.ShapeKeycloak, []string{"--groups-claim", "/resource_access/claimcheck-public/roles"}, ""},
		{demo.ShapeKeycloakPath, []string{"--expect-groups", "/IT"}, `Keycloak's group mapper sends full paths while its \"Full group path\" setting is on`},
		{demo.ShapeCognito, []string{"--groups-claim", "cognito:groups"}, "Cognito puts user pool groups in cognito:groups"},
		{demo.ShapeAuth0, []string{"--groups-claim", demo.Auth0GroupsClaim}, "must be namespaced"},
		{demo.ShapeZitadel, []string{"--groups-claim", demo.ZitadelRolesClaim}, "an object keyed by role name"},
		{demo.ShapeEntra, []string{"--expect-groups", demo.GroupObjectID("IT")}, "holds object IDs (GUIDs), not names"},
		{demo.ShapeEntraOverage, nil, "group overage"},
	}
	for _, tt := range tests {
		t.Run(tt.shape, func(t *testing.T) {
			base := []string{"demo", "--no-browser", "-o", "json", "--groups-shape", tt.shape}
			reads := tt.args
			if tt.args != nil && tt.args[0] != "--expect-groups" {
				reads = append([]string{"--expect-groups", "IT"}, tt.args...)
			}
			if tt.args != nil {
				code, stdout, stderr := runMain(t, nil, append(base, reads...)...)
				if code != 0 {
					t.Fatalf("alice: exit %d\n%s%s", code, stdout, stderr)
				}
				code, stdout, _ = runMain(t, nil, append(append(base, "--user", "bob"), reads...)...)
				r := decodeReport(t, stdout)
				if code != 1 || r.Error == nil || !strings.Contains(r.Error.Message, "group") {
					t.Fatalf("bob: exit %d error %+v", code, r.Error)
				}
			}
			if tt.miss == "" {
				return
			}
			code, stdout, _ := runMain(t, nil, append(base, "--expect-groups", "IT")...)
			if code != 1 || !strings.Contains(stdout, tt.miss) {
				t.Errorf("read as groups: exit %d, want 1 naming %q\n%s", code, tt.miss, stdout)
			}
			if r := decodeReport(t, stdout); r.Provider == nil || r.Provider.Name != demo.ShapeProvider(tt.shape) {
				t.Errorf("provider %+v, want %s", r.Provider, demo.ShapeProvider(tt.shape))
			}
		})
	}
	code, _, stderr := runMain(t, nil, "demo", "--no-browser", "--groups-shape", "keycloack")
	if code != 2 || !strings.Contains(stderr, `unknown shape "keycloack"`) || !strings.Contains(stderr, "did you mean keycloak") {
		t.Errorf("unknown shape: exit %d %s", code, stderr)
	}
	code, stdout, _ := runMain(t, map[string]string{"CLAIMCHECK_GROUPS_SHAPE": demo.ShapeCognito}, "demo", "--no-browser", "-o", "json", "--groups-claim", "cognito:groups")
	if code != 0 || !strings.Contains(stdout, "cognito:groups") {
		t.Errorf("CLAIMCHECK_GROUPS_SHAPE: exit %d\n%s", code, stdout)
	}
}
