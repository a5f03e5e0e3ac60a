package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// auth0 is Auth0: an issuer https://{host}/ (with the slash) whose
// endpoints are {host}/authorize, /oauth/token, /userinfo and whose keys
// are at /.well-known/jwks.json — on a tenant domain (*.auth0.com) or a
// custom domain alike.
func auth0() Provider {
	return Provider{
		Name: Auth0, Title: "Auth0",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			o := origin(issuer)
			if o == "" || issuer != o+"/" {
				return "", false
			}
			if !endpoints(md, map[string]string{
				"authorization_endpoint": o + "/authorize",
				"token_endpoint":         o + "/oauth/token",
				"userinfo_endpoint":      o + "/userinfo",
				"jwks_uri":               o + "/.well-known/jwks.json",
			}) {
				return "", false
			}
			where := "a custom domain"
			if strings.HasSuffix(hostOf(issuer), ".auth0.com") {
				where = "an Auth0 tenant domain"
			}
			return fmt.Sprintf("the issuer is %s with Auth0's endpoints (/authorize, /oauth/token, /userinfo, /.well-known/jwks.json)", where), true
		},
		explain: auth0Explain,
	}
}

// auth0Reserved are claim names Auth0 drops when an Action sets them as
// custom claims.
var auth0Reserved = []string{"groups", "roles", "permissions"}

func auth0Explain(group string, sources []verify.Source, f Facts) string {
	var why []string
	claim := f.Expect.ClaimFor(verify.SourceIDToken)
	if noClaim(sources, f.Expect) {
		if !strings.Contains(claim, "://") {
			note := ""
			if slices.Contains(auth0Reserved, strings.ToLower(claim)) {
				note = fmt.Sprintf(" — %q collides with a name Auth0 keeps for itself (groups, roles, permissions), so the claim is dropped without an error", claim)
			}
			why = append(why, "Auth0 adds groups only as a custom claim set by an Action (api.idToken.setCustomClaim, api.accessToken.setCustomClaim), which must be namespaced"+note+
				": name it like https://example.com/groups and pass that to --groups-claim")
		} else {
			why = append(why, fmt.Sprintf("Auth0 has no %q claim unless a post-login Action sets it (api.idToken.setCustomClaim, or api.accessToken.setCustomClaim for the access token) for this application", claim))
		}
	}
	if w := where(sources, "permissions", group); w != "" {
		why = append(why, fmt.Sprintf("%q is among the %s's permissions: Auth0's RBAC puts an API's permissions there, not the user's groups or roles", group, w))
	}
	return join(why)
}
