package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// authentik is authentik: an issuer https://{host}/application/o/{slug}/
// whose authorize and token endpoints are /application/o/authorize/ and
// /application/o/token/.
func authentik() Provider {
	return Provider{
		Name: Authentik, Title: "authentik",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			o := origin(issuer)
			parts := strings.Split(strings.Trim(pathOf(issuer), "/"), "/")
			if o == "" || len(parts) != 3 || parts[0] != "application" || parts[1] != "o" || parts[2] == "" {
				return "", false
			}
			if !endpoints(md, map[string]string{
				"authorization_endpoint": o + "/application/o/authorize/",
				"token_endpoint":         o + "/application/o/token/",
			}) {
				return "", false
			}
			return fmt.Sprintf("the issuer is application %q (/application/o/%s/), with authentik's /application/o/authorize/ and /token/ endpoints", parts[2], parts[2]), true
		},
		explain: func(group string, sources []verify.Source, f Facts) string {
			if !slices.Contains(f.Scopes, "profile") {
				return "authentik sends groups with the profile scope (its \"OpenID 'profile'\" scope mapping): add profile to --scopes"
			}
			if noClaim(sources, f.Expect) {
				return "authentik's groups claim comes from the provider's \"authentik default OAuth Mapping: OpenID 'profile'\" scope mapping: check that the provider still selects it"
			}
			return ""
		},
	}
}
