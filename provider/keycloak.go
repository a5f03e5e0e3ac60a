package provider

import (
	"fmt"
	"sort"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// keycloak is Keycloak (and Red Hat build of Keycloak / RH-SSO): an issuer
// whose path ends in /realms/{realm} (with /auth before it in versions
// before 17) and whose endpoints are the realm's
// /protocol/openid-connect/auth, /token and /certs.
func keycloak() Provider {
	return Provider{
		Name: Keycloak, Title: "Keycloak",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			iss := strings.TrimSuffix(issuer, "/")
			parts := strings.Split(strings.Trim(pathOf(iss), "/"), "/")
			if len(parts) < 2 || parts[len(parts)-2] != "realms" || parts[len(parts)-1] == "" {
				return "", false
			}
			realm := parts[len(parts)-1]
			base := iss + "/protocol/openid-connect"
			if !endpoints(md, map[string]string{
				"authorization_endpoint": base + "/auth",
				"token_endpoint":         base + "/token",
				"jwks_uri":               base + "/certs",
			}) {
				return "", false
			}
			return fmt.Sprintf("the issuer is realm %q (/realms/%s), with its endpoints under /protocol/openid-connect/ (auth, token, certs)", realm, realm), true
		},
		explain: keycloakExplain,
	}
}

func keycloakExplain(group string, sources []verify.Source, f Facts) string {
	var why []string
	if w := where(sources, "/realm_access/roles", group); w != "" {
		why = append(why, fmt.Sprintf("%q is a realm role in the %s, not a group: Keycloak puts realm roles in realm_access.roles (--groups-claim /realm_access/roles), groups only through a Group Membership mapper", group, w))
	}
	// One sentence per client, naming every token that holds the role
	// there: the same role is usually in all of them.
	in := map[string][]string{}
	for _, s := range sources {
		ra, _ := s.Claims["resource_access"].(map[string]any)
		for c, v := range ra {
			m, _ := v.(map[string]any)
			if holds(m["roles"], group) {
				in[c] = append(in[c], s.Name)
			}
		}
	}
	clients := make([]string, 0, len(in))
	for c := range in {
		clients = append(clients, c)
	}
	sort.Strings(clients)
	for _, c := range clients {
		why = append(why, fmt.Sprintf("%q is a client role of %s in the resource_access of the %s (--groups-claim /resource_access/%s/roles)", group, c, strings.Join(in[c], ", "), escapePointer(c)))
	}
	if len(why) == 0 && noClaim(sources, f.Expect) {
		why = append(why, "Keycloak sends groups only through a Group Membership mapper (on a client scope of the client, or its dedicated scope) whose token claim name is the one looked for, "+
			"with \"Add to ID token\", \"Add to access token\" or \"Add to userinfo\" on for the token it is read from; a mapper that is not added to that token leaves the claim out")
	}
	return join(why)
}

// escapePointer escapes a JSON Pointer reference token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
