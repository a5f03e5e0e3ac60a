package provider

import (
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// google is Google's OpenID provider: the issuer https://accounts.google.com
// with its authorize endpoint on accounts.google.com under /o/oauth2/.
func google() Provider {
	return Provider{
		Name: Google, Title: "Google",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			if strings.TrimSuffix(issuer, "/") != "https://accounts.google.com" ||
				hostOf(md.AuthorizationEndpoint) != "accounts.google.com" || !strings.HasPrefix(pathOf(md.AuthorizationEndpoint), "/o/oauth2/") {
				return "", false
			}
			return "the issuer is https://accounts.google.com, with the authorize endpoint under /o/oauth2/", true
		},
		explain: func(group string, sources []verify.Source, f Facts) string {
			return "Google's tokens carry no groups claim at all (a Workspace user's ID token has only hd, the domain): read group membership from the Cloud Identity Groups or Admin SDK Directory API, or put a provider that adds groups in front of Google"
		},
	}
}
