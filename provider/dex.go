package provider

import (
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// dex is Dex: endpoints {issuer}/auth, /token, /keys, /userinfo and the
// device endpoint {issuer}/device/code. The first four alone are shared by
// other small providers, so they do not suffice.
func dex() Provider {
	return Provider{
		Name: Dex, Title: "Dex",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			iss := strings.TrimSuffix(issuer, "/")
			if !endpoints(md, map[string]string{
				"authorization_endpoint":        iss + "/auth",
				"token_endpoint":                iss + "/token",
				"jwks_uri":                      iss + "/keys",
				"userinfo_endpoint":             iss + "/userinfo",
				"device_authorization_endpoint": iss + "/device/code",
			}) {
				return "", false
			}
			return "the endpoints have Dex's shapes (/auth, /token, /keys, /userinfo, /device/code)", true
		},
		explain: func(group string, sources []verify.Source, f Facts) string {
			if !slices.Contains(f.Scopes, "groups") {
				return "Dex adds the groups claim only with the groups scope (add groups to --scopes)"
			}
			if noClaim(sources, f.Expect) {
				return "Dex's groups come from the connector the user signed in through: the local password database (staticPasswords) has none, LDAP needs a groupSearch, GitHub sends org:team names only for the orgs configured"
			}
			return ""
		},
	}
}
