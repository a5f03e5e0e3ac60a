package okta

import (
	"fmt"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// Facts are what a run asked of an Okta authorization server.
type Facts struct {
	Server       Server
	Scopes       []string
	ResponseType string
}

// ThinIDToken says whether Okta issues a thin ID token for the request: at
// the org authorization server, an ID token that comes with an access
// token (response_type "id_token token", or the code flow) carries only
// the base claims, no groups and no profile.
func (f Facts) ThinIDToken() bool {
	words := strings.Fields(f.ResponseType)
	has := func(w string) bool { return slices.Contains(words, w) }
	return f.Server.IsOrg() && (has("code") || has("id_token") && has("token"))
}

// ThinNote is the one sentence that says why a thin ID token has no groups.
func ThinNote(claim string) string {
	return fmt.Sprintf("the org authorization server issued a thin ID token (one that comes with an access token carries no %s or profile claims), so the groups were read from /userinfo with the access token", claim)
}

// TooManyGroups says whether a provider's error text is Okta's refusal of
// a groups claim over the limit.
func TooManyGroups(description string) bool {
	return strings.Contains(description, "matched too many groups")
}

// TooManyGroupsNote explains Okta's refusal.
const TooManyGroupsNote = "Okta puts at most 100 groups in a groups claim and refuses the implicit flow when the claim's filter matches more for this user; narrow the filter (a regex or a Groups.startsWith/contains expression with a limit), split the groups over several claims, or use the code flow, where the claim is left out instead"

// AuthorizeRefusedNote explains an error page from Okta's authorize
// endpoint, which Okta shows instead of redirecting when it cannot trust
// the redirect URI.
const AuthorizeRefusedNote = "Okta answers the authorize request with an error page instead of a redirect when the client_id is unknown or the redirect_uri is not one of the app's sign-in redirect URIs exactly (scheme, host, port and path): register --redirect-uri in the app's General settings"

// Explain returns the diagnosis for verify.Expectations.Explain at an Okta
// server: why the group is missing when the claims themselves show no
// cause. Each reason that fits the request and the evidence is given.
func Explain(f Facts, e verify.Expectations) func(group string, sources []verify.Source) string {
	return func(group string, sources []verify.Source) string {
		var why []string
		anyClaim := false
		var userinfoGroups = -1
		idToken := false
		for _, s := range sources {
			claim := e.ClaimFor(s.Name)
			v, has := verify.LookupClaim(s.Claims, claim)
			if has && v != nil && s.Verified {
				anyClaim = true
			}
			if s.Name == verify.SourceUserinfo {
				if list, ok := v.([]any); ok {
					userinfoGroups = len(list)
				}
			}
			if s.Name == verify.SourceIDToken {
				idToken = true
			}
			for name, v := range s.Claims {
				if _, list := v.([]any); list && s.Verified && strings.Contains(strings.ToLower(name), "group") {
					// Under another name: the claims diagnosis says so, and
					// neither the claim's definition nor the limit is in doubt.
					anyClaim = true
				}
			}
		}
		org := f.Server.IsOrg()
		if org && !slices.Contains(f.Scopes, "groups") {
			why = append(why, "the groups scope was not requested: the org authorization server issues the groups claim only with it (add groups to --scopes)")
		}
		if !anyClaim && idToken && f.ThinIDToken() {
			why = append(why, "the ID token is thin: the org authorization server leaves groups out of an ID token that comes with an access token (ask for response_type id_token alone, or let claimcheck read /userinfo)")
		}
		if org && len(e.GroupsFrom) > 0 && !slices.Contains(e.GroupsFrom, verify.SourceIDToken) && !slices.Contains(e.GroupsFrom, verify.SourceUserinfo) {
			why = append(why, "the org authorization server puts groups only in ID tokens and /userinfo, never in its access tokens")
		}
		if !anyClaim && !org {
			why = append(why, fmt.Sprintf("%s issues a groups claim only as defined on its Claims tab, for one token kind (the guide's is GroupsClaim in the access token: --groups-claim access_token:GroupsClaim)", f.Server))
		}
		switch {
		case userinfoGroups > GroupsLimit:
			why = append(why, fmt.Sprintf("the user is in %d groups (per /userinfo), more than the %d Okta puts in a token, so Okta leaves the claim out of tokens", userinfoGroups, GroupsLimit))
		case !anyClaim:
			why = append(why, fmt.Sprintf("if the claim's filter matches more than %d of the user's groups, Okta leaves the claim out (the implicit flow is refused with \"The 'groups' claim matched too many groups\")", GroupsLimit))
		}
		return strings.Join(why, "; ")
	}
}
