package provider

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// ZitadelRolesClaim is the claim of Zitadel's project roles: an object keyed
// by role name.
const ZitadelRolesClaim = "urn:zitadel:iam:org:project:roles"

// zitadel is ZITADEL: endpoints {issuer}/oauth/v2/authorize, /oauth/v2/token,
// /oauth/v2/keys and {issuer}/oidc/v1/userinfo.
func zitadel() Provider {
	return Provider{
		Name: Zitadel, Title: "ZITADEL",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			iss := strings.TrimSuffix(issuer, "/")
			if !endpoints(md, map[string]string{
				"authorization_endpoint": iss + "/oauth/v2/authorize",
				"token_endpoint":         iss + "/oauth/v2/token",
				"jwks_uri":               iss + "/oauth/v2/keys",
				"userinfo_endpoint":      iss + "/oidc/v1/userinfo",
			}) {
				return "", false
			}
			return "the endpoints have ZITADEL's shapes (/oauth/v2/authorize, /oauth/v2/token, /oauth/v2/keys, /oidc/v1/userinfo)", true
		},
		explain: zitadelExplain,
	}
}

// zitadelRoleClaims are the claims of s that hold Zitadel project roles:
// the general one and urn:zitadel:iam:org:project:{id}:roles, sorted.
func zitadelRoleClaims(s verify.Source) []string {
	var out []string
	for name := range s.Claims {
		if name == ZitadelRolesClaim || strings.HasPrefix(name, "urn:zitadel:iam:org:project:") && strings.HasSuffix(name, ":roles") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func zitadelExplain(group string, sources []verify.Source, f Facts) string {
	for _, s := range sources {
		for _, c := range zitadelRoleClaims(s) {
			if holds(s.Claims[c], group) && f.Expect.ClaimFor(s.Name) != c {
				return fmt.Sprintf("%q is a project role in the %s's %s, an object keyed by role name (--groups-claim %s)", group, s.Name, c, c)
			}
		}
	}
	if !noClaim(sources, f.Expect) {
		return ""
	}
	roleScope := slices.ContainsFunc(f.Scopes, func(s string) bool {
		return s == "urn:zitadel:iam:org:projects:roles" || strings.HasPrefix(s, "urn:zitadel:iam:org:project:role:")
	})
	why := "ZITADEL sends project roles (in " + ZitadelRolesClaim + ", an object keyed by role name) only when the project's \"Assert Roles on Authentication\" setting is on or the request asks for them"
	if !roleScope {
		why += " — no roles scope was requested: add urn:zitadel:iam:org:projects:roles (or urn:zitadel:iam:org:project:role:ROLE) to --scopes"
	}
	return why + "; in the ID token only with the application's \"User roles inside ID Token\" setting, and ZITADEL has no groups claim of its own"
}
