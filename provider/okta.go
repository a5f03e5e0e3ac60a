package provider

import (
	"fmt"

	oktapkg "github.com/claimcheck/claimcheck/okta"
	"github.com/claimcheck/claimcheck/verify"
)

// okta is Okta, org and custom authorization servers, on Okta's own
// domains or a custom URL domain: recognised by the issuer being an org URL
// or {org}/oauth2/{id} and the endpoints having Okta's /oauth2/v1/… or
// /oauth2/{id}/v1/… shapes. Its diagnosis is package okta's.
func okta() Provider {
	return Provider{
		Name: Okta, Title: "Okta",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			s, ok := oktapkg.ServerOf(issuer)
			if !ok {
				return "", false
			}
			base, shape := s.Org+"/oauth2/v1", "/oauth2/v1/…"
			if !s.IsOrg() {
				base, shape = s.Issuer()+"/v1", "/oauth2/"+s.ID+"/v1/…"
			}
			if !endpoints(md, map[string]string{
				"authorization_endpoint": base + "/authorize",
				"token_endpoint":         base + "/token",
				"jwks_uri":               base + "/keys",
			}) {
				return "", false
			}
			where := "on a custom URL domain"
			if oktapkg.Hosted(issuer) {
				where = "on Okta's domain"
			}
			return fmt.Sprintf("the issuer is %s %s, with Okta's %s endpoints (authorize, token, keys)", s, where, shape), true
		},
		explain: func(group string, sources []verify.Source, f Facts) string {
			s, ok := oktapkg.ServerOf(f.Issuer)
			if !ok {
				return ""
			}
			facts := oktapkg.Facts{Server: s, Scopes: f.Scopes, ResponseType: f.ResponseType}
			return oktapkg.Explain(facts, f.Expect)(group, sources)
		},
	}
}
