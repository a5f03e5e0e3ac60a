package demo

import (
	"crypto/sha256"
	"fmt"
	"slices"
)

// Groups shapes: how a provider issues a user's groups, for
// Options.GroupsShape. Each names the claim claimcheck's --groups-claim
// reads it with (ShapeClaim).
const (
	// ShapeGroups is a flat "groups" array of names (Okta, Dex, authentik).
	ShapeGroups = "groups"
	// ShapeKeycloak issues the groups as Keycloak roles: realm roles in
	// realm_access.roles and client roles in resource_access.<client>.roles,
	// and no "groups" claim.
	ShapeKeycloak = "keycloak"
	// ShapeKeycloakPath is Keycloak's Group Membership mapper with "Full
	// group path" on: "groups" holds "/IT".
	ShapeKeycloakPath = "keycloak-path"
	// ShapeCognito is AWS Cognito's "cognito:groups".
	ShapeCognito = "cognito"
	// ShapeAuth0 is an Auth0 Action's namespaced claim (Auth0 drops custom
	// claims that are not namespaced).
	ShapeAuth0 = "auth0"
	// ShapeZitadel is ZITADEL's project roles claim, an object keyed by
	// role whose values map the granting organisation's ID to its domain.
	ShapeZitadel = "zitadel"
	// ShapeEntra is Microsoft Entra ID's default: "groups" holds the
	// groups' object IDs (GUIDs), not their names.
	ShapeEntra = "entra"
	// ShapeEntraOverage is Entra ID for a user in more groups than fit in
	// a token: no "groups", but _claim_names and _claim_sources pointing
	// at Microsoft Graph (which claimcheck does not call unless asked).
	ShapeEntraOverage = "entra-overage"
)

// Auth0GroupsClaim is the namespaced claim of ShapeAuth0, and
// ZitadelRolesClaim the claim of ShapeZitadel.
const (
	Auth0GroupsClaim  = "https://claimcheck.example/groups"
	ZitadelRolesClaim = "urn:zitadel:iam:org:project:roles"
)

// zitadelOrg is the organisation (ID and primary domain) that grants the
// ZITADEL roles.
var zitadelOrg = map[string]any{"278455224339644161": "demo.zitadel.example"}

// Shapes returns the groups shapes Options.GroupsShape takes, in a fixed
// order.
func Shapes() []string {
	return []string{ShapeGroups, ShapeKeycloak, ShapeKeycloakPath, ShapeCognito, ShapeAuth0, ShapeZitadel, ShapeEntra, ShapeEntraOverage}
}

// ShapeClaim is the --groups-claim that reads shape's groups for a token
// requested by clientID ("" for ShapeEntraOverage, whose groups are not
// in the tokens).
func ShapeClaim(shape, clientID string) string {
	switch shape {
	case ShapeKeycloak:
		return "/realm_access/roles"
	case ShapeCognito:
		return "cognito:groups"
	case ShapeAuth0:
		return Auth0GroupsClaim
	case ShapeZitadel:
		return ZitadelRolesClaim
	case ShapeEntraOverage:
		return ""
	}
	return "groups"
}

// ShapeProvider is the provider (as provider.Kind names it) whose groups
// shape is shape, "" for ShapeGroups.
func ShapeProvider(shape string) string {
	switch shape {
	case ShapeKeycloak, ShapeKeycloakPath:
		return "keycloak"
	case ShapeEntra, ShapeEntraOverage:
		return "entra"
	case ShapeGroups:
		return ""
	}
	return shape
}

// GroupObjectID is the object ID (a GUID) ShapeEntra issues for a group:
// derived from the name, so that a test can expect it.
func GroupObjectID(group string) string {
	h := sha256.Sum256([]byte("claimcheck demo group " + group))
	h[6] = h[6]&0x0f | 0x50 // a name-based UUID, as RFC 9562 §5.5 lays out
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func knownShape(shape string) bool {
	return shape == "" || slices.Contains(Shapes(), shape)
}

// groupClaims are the claims that carry u's groups in the provider's
// shape, for a token requested by clientID.
func (s *storage) groupClaims(u *userRecord, clientID string) map[string]any {
	groups := groupsClaim(u)
	switch s.shape {
	case ShapeKeycloak:
		// A client role per group too, so that resource_access has the
		// requesting client's roles as Keycloak issues them.
		ra := map[string]any{}
		if clientID != "" {
			ra[clientID] = map[string]any{"roles": groups}
		}
		return map[string]any{
			"realm_access":    map[string]any{"roles": slices.Concat(groups, []string{"offline_access", "uma_authorization"})},
			"resource_access": ra,
		}
	case ShapeKeycloakPath:
		paths := make([]string, len(groups))
		for i, g := range groups {
			paths[i] = "/" + g
		}
		return map[string]any{claimGroups: paths}
	case ShapeCognito:
		return map[string]any{"cognito:groups": groups}
	case ShapeAuth0:
		return map[string]any{Auth0GroupsClaim: groups}
	case ShapeZitadel:
		roles := map[string]any{}
		for _, g := range groups {
			roles[g] = zitadelOrg
		}
		return map[string]any{ZitadelRolesClaim: roles}
	case ShapeEntra:
		ids := make([]string, len(groups))
		for i, g := range groups {
			ids[i] = GroupObjectID(g)
		}
		return map[string]any{claimGroups: ids}
	case ShapeEntraOverage:
		// As Entra ID writes it (its "groups claim overage"): the Graph
		// endpoint of the user's member objects, no access_token.
		return map[string]any{
			"_claim_names": map[string]any{claimGroups: "src1"},
			"_claim_sources": map[string]any{"src1": map[string]any{
				"endpoint": "https://graph.microsoft.com/v1.0/users/" + u.Subject + "/getMemberObjects",
			}},
		}
	}
	return map[string]any{claimGroups: groups}
}
