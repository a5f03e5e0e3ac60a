package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// entraLoginHosts are Microsoft Entra ID's sign-in hosts: the public cloud,
// US Government, and the two names of the cloud operated in China.
var entraLoginHosts = []string{"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn"}

// entraHost says whether h is an Entra ID sign-in host (or an External ID
// tenant's ciamlogin.com host).
func entraHost(h string) bool {
	return slices.Contains(entraLoginHosts, h) || strings.HasSuffix(h, ".ciamlogin.com")
}

// entra is Microsoft Entra ID (Azure AD): an issuer
// https://login.microsoftonline.com/{tenant}/v2.0 (or the v1
// https://sts.windows.net/{tenant}/) whose authorize endpoint is
// /{tenant}/oauth2/v2.0/authorize (or /oauth2/authorize) on a Microsoft
// sign-in host and whose keys are under /discovery/.
func entra() Provider {
	return Provider{
		Name: Entra, Title: "Microsoft Entra ID",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			ih := hostOf(issuer)
			parts := strings.Split(strings.Trim(pathOf(issuer), "/"), "/")
			var tenant string
			switch {
			case entraHost(ih) && len(parts) == 2 && parts[1] == "v2.0":
				tenant = parts[0]
			case ih == "sts.windows.net" && len(parts) == 1 && parts[0] != "":
				tenant = parts[0]
			default:
				return "", false
			}
			ap := strings.Split(strings.Trim(pathOf(md.AuthorizationEndpoint), "/"), "/")
			authorize := entraHost(hostOf(md.AuthorizationEndpoint)) && len(ap) >= 3 && ap[0] == tenant && ap[1] == "oauth2" && ap[len(ap)-1] == "authorize"
			keys := entraHost(hostOf(md.JWKSURI)) && strings.Contains(pathOf(md.JWKSURI), "/discovery/")
			if !authorize || !keys {
				return "", false
			}
			return fmt.Sprintf("the issuer is tenant %s at %s, with the authorize endpoint /%s/oauth2/… and the keys under /discovery/ on Microsoft's sign-in host", tenant, ih, tenant), true
		},
		explain: entraExplain,
	}
}

func entraExplain(group string, sources []verify.Source, f Facts) string {
	var why []string
	overage := ""
	// The first source that shows it is named: the ID token's rather than
	// the userinfo answer that repeats it.
	for _, s := range sources {
		if overage != "" {
			break
		}
		if b, _ := s.Claims["hasgroups"].(bool); b {
			overage = s.Name + " has hasgroups: true"
		}
		if names, ok := s.Claims["_claim_names"].(map[string]any); ok {
			if _, ok := names["groups"]; ok {
				overage = s.Name + " names groups in _claim_names, pointing at Microsoft Graph"
			}
		}
	}
	if overage != "" {
		why = append(why, "group overage: the user is in more groups than Entra ID puts in a token (200 in a JWT, 6 in an ID token of the implicit flow), so the "+
			overage+" instead of the list; set the groups claim to \"Groups assigned to the application\" (groupMembershipClaims ApplicationGroup) and assign the groups to the enterprise application, or read them from Microsoft Graph (claimcheck does not send your token there)")
	} else if noClaim(sources, f.Expect) {
		why = append(why, "Entra ID sends a groups claim only when the app registration asks for one (Token configuration → Add groups claim, groupMembershipClaims in the manifest: SecurityGroup, All, DirectoryRole or ApplicationGroup), and then as group object IDs (GUIDs) unless names are chosen (sAMAccountName for synced groups, cloud group names only with ApplicationGroup)")
	}
	if w := where(sources, "roles", group); w != "" && f.Expect.ClaimFor(w) != "roles" {
		why = append(why, fmt.Sprintf("%q is in the %s's roles claim: app roles assigned to the user (or a group) come in roles, not groups (--groups-claim roles)", group, w))
	}
	return join(why)
}
