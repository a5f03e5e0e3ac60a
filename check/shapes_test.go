package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/verify"
)

// TestGroupsShapes runs the code flow against the demo provider issuing
// each provider's groups shape: with the claim that shape needs, alice
// passes and bob fails on IT; with the default groups claim, the near miss
// (or the provider's reason) is named.
func TestGroupsShapes(t *testing.T) {
	tests := []struct {
		shape string
		// miss is in the failed IT check's detail with --groups-claim
		// left at groups (and the shape's provider named).
		miss string
	}{
		{demo.ShapeGroups, ""},
		{demo.ShapeKeycloak, "realm_access.roles (--groups-claim /realm_access/roles)"},
		{demo.ShapeKeycloakPath, `has "/IT", the full path of "IT": Keycloak's group mapper sends full paths`},
		{demo.ShapeCognito, "has a list of groups under cognito:groups, not groups: use --groups-claim id_token:cognito:groups"},
		{demo.ShapeAuth0, "has a list of groups under " + demo.Auth0GroupsClaim},
		{demo.ShapeZitadel, demo.ZitadelRolesClaim},
		{demo.ShapeEntra, "holds object IDs (GUIDs), not names"},
		{demo.ShapeEntraOverage, "so the id_token names groups in _claim_names, pointing at Microsoft Graph"},
	}
	for _, tt := range tests {
		t.Run(tt.shape, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := demo.Start(ctx, demo.Options{GroupsShape: tt.shape})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			claim := demo.ShapeClaim(tt.shape, demo.PublicClientID)
			want := func(c *Config, claim, group string) {
				c.Expect = verify.Expectations{ExpectGroups: []string{group}, GroupsClaim: claim}
				c.ProviderKind = demo.ShapeProvider(tt.shape)
				if c.ProviderKind == "" {
					c.ProviderKind = "generic"
				}
			}
			// The value alice's IT arrives as: a name, Keycloak's full
			// path, or Entra ID's object ID.
			it := "IT"
			switch tt.shape {
			case demo.ShapeKeycloakPath:
				it = "/IT"
			case demo.ShapeEntra:
				it = demo.GroupObjectID("IT")
			}
			if claim != "" {
				r, err := runAs(ctx, p.Issuer(), "alice", func(c *Config) { want(c, claim, it) })
				if err != nil {
					t.Fatalf("alice with %s: %v %+v", claim, err, r.Checks)
				}
				r, err = runAs(ctx, p.Issuer(), "bob", func(c *Config) { want(c, claim, it) })
				if failure.ClassOf(err) != failure.Expectation {
					t.Fatalf("bob with %s: %v %+v", claim, err, r.Checks)
				}
				if g := findCheck(r, "group "+it); g == nil || g.OK {
					t.Errorf("bob: group check %+v", g)
				}
			}
			if tt.shape == demo.ShapeKeycloak {
				// Client roles, under the requesting client.
				cr := "/resource_access/" + demo.PublicClientID + "/roles"
				if r, err := runAs(ctx, p.Issuer(), "alice", func(c *Config) { want(c, cr, "IT") }); err != nil {
					t.Fatalf("alice with %s: %v %+v", cr, err, r.Checks)
				}
			}
			if tt.miss == "" {
				return
			}
			r, err := runAs(ctx, p.Issuer(), "alice", func(c *Config) { want(c, "groups", "IT") })
			if failure.ClassOf(err) != failure.Expectation {
				t.Fatalf("alice with groups: %v %+v", err, r.Checks)
			}
			g := findCheck(r, "group IT")
			if g != nil {
				t.Logf("%s: %s", tt.shape, g.Detail)
			}
			if g == nil || g.OK || !strings.Contains(g.Detail, tt.miss) {
				t.Errorf("alice with groups: check %+v, want %q", g, tt.miss)
			}
		})
	}
}
