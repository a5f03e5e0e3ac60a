package provider

import (
	"net/url"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/verify"
)

// parsed is raw as a URL with a host, or nil.
func parsed(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil
	}
	return u
}

// origin is scheme://host of raw, "" when raw is no URL.
func origin(raw string) string {
	u := parsed(raw)
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// hostOf is the lower-case host name of raw, "" when raw is no URL.
func hostOf(raw string) string {
	u := parsed(raw)
	if u == nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// pathOf is the path of raw, "" when raw is no URL.
func pathOf(raw string) string {
	u := parsed(raw)
	if u == nil {
		return ""
	}
	return u.Path
}

// endpoints says whether each endpoint of md named in want is exactly the
// URL given: authorization_endpoint, token_endpoint, userinfo_endpoint,
// jwks_uri or device_authorization_endpoint.
func endpoints(md verify.Metadata, want map[string]string) bool {
	got := map[string]string{
		"authorization_endpoint":        md.AuthorizationEndpoint,
		"token_endpoint":                md.TokenEndpoint,
		"userinfo_endpoint":             md.UserinfoEndpoint,
		"jwks_uri":                      md.JWKSURI,
		"device_authorization_endpoint": md.DeviceAuthorizationEndpoint,
	}
	for field, url := range want {
		if got[field] != url {
			return false
		}
	}
	return true
}

// claimOf is what the source has under the groups claim the expectations
// name for it, and whether it has it (not null).
func claimOf(s verify.Source, e verify.Expectations) (any, bool) {
	v, has := verify.LookupClaim(s.Claims, e.ClaimFor(s.Name))
	return v, has && v != nil
}

// consulted says whether the expectations look at s for groups.
func consulted(s verify.Source, e verify.Expectations) bool {
	return len(e.GroupsFrom) == 0 || slices.Contains(e.GroupsFrom, s.Name)
}

// noClaim says whether no source consulted has the groups claim.
func noClaim(sources []verify.Source, e verify.Expectations) bool {
	for _, s := range sources {
		if _, has := claimOf(s, e); has && consulted(s, e) {
			return false
		}
	}
	return true
}

// holds says whether v, a claim's value, names group: a string, an array
// with it, or an object with it as a member name.
func holds(v any, group string) bool {
	switch x := v.(type) {
	case string:
		return x == group
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s == group {
				return true
			}
		}
	case map[string]any:
		_, ok := x[group]
		return ok
	}
	return false
}

// where returns the first source whose claim at ref (a name or a JSON
// Pointer) holds group, "" when none does.
func where(sources []verify.Source, ref, group string) string {
	for _, s := range sources {
		if v, _ := verify.LookupClaim(s.Claims, ref); holds(v, group) {
			return s.Name
		}
	}
	return ""
}

// join ends a list of reasons.
func join(why []string) string { return strings.Join(why, "; ") }
