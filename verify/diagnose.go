package verify

import (
	"slices"
	"sort"
	"strings"

	"github.com/claimcheck/claimcheck/internal/suggest"
)

// maxClose bounds the close matches named.
const maxClose = 3

// notGroups are claims whose values are lists of strings but never groups.
var notGroups = []string{"aud", "amr", "scp", "scope", "acr", "azp", "iss", "sub", "jti", "cid", "uid", "idp"}

// ClaimFor returns the groups claim name that applies to source (one of
// the Source* names).
func (e Expectations) ClaimFor(source string) string { return e.claimFor(source) }

// diagnose explains, from the claims alone, why group is missing: the claim
// is in another token kind than the one it was looked for in, the groups
// are there under another claim name or deeper in the claims, or the claim
// is there without the group but with a near miss — the group's full path
// (Keycloak), object IDs instead of names (Entra ID), a difference of case
// or a letter. It returns "" when the claims show nothing.
func (e Expectations) diagnose(group string, sources []Source) string {
	// The claim configured for the other token kind.
	for _, s := range sources {
		if len(e.GroupsFrom) > 0 && !slices.Contains(e.GroupsFrom, s.Name) {
			continue
		}
		claim := e.claimFor(s.Name)
		if _, has := LookupClaim(s.Claims, claim); has {
			continue
		}
		for _, o := range sources {
			if o.Name == s.Name || !o.Verified || o.Name == SourceUserinfo || s.Name == SourceUserinfo {
				continue
			}
			v, has := LookupClaim(o.Claims, claim)
			if gs, bad := groupsOf(v); has && v != nil && !bad && slices.Contains(gs, group) {
				return "the " + show(claim) + " claim is in the " + o.Name + ", not in the " + s.Name +
					": it is configured for the other kind of token (include it in the " + s.Name + ", or use --groups-from " + o.Name + ")"
			}
		}
	}
	// The groups under another claim name, at the top or nested.
	for _, s := range sources {
		configured := e.claimFor(s.Name)
		if where := findGroupList(s.Claims, group, configured); where != "" {
			return "the " + s.Name + " has a list of groups under " + show(where) + ", not " + show(configured) +
				": use --groups-claim " + s.Name + ":" + where
		}
	}
	// The claim is there, without the group.
	var close []string
	add := func(s string) {
		if !slices.Contains(close, s) {
			close = append(close, s)
		}
	}
	for _, s := range sources {
		v, _ := LookupClaim(s.Claims, e.claimFor(s.Name))
		gs, bad := groupsOf(v)
		if bad || len(gs) == 0 {
			continue
		}
		if !isObjectID(group) && allObjectIDs(gs) {
			return "the " + s.Name + "'s " + show(e.claimFor(s.Name)) + " holds object IDs (GUIDs), not names: Microsoft Entra ID sends group object IDs" +
				" unless the app registration's groups claim is set to emit names (sAMAccountName, or cloud group names with groupMembershipClaims " +
				"ApplicationGroup); expect the group's object ID instead, or change the token configuration"
		}
		for _, g := range gs {
			if strings.HasPrefix(g, "/") && strings.TrimPrefix(g, "/") != group && lastPathSegment(g) == group {
				add(quote(g) + " (the full path of a subgroup)")
				continue
			}
			if g == "/"+group {
				return "the " + s.Name + " has " + quote(g) + ", the full path of " + quote(group) + ": Keycloak's group mapper sends full paths" +
					" while its \"Full group path\" setting is on; expect " + quote(g) + ", or turn the setting off"
			}
			if why := closeMatch(group, g); why != "" {
				add(quote(g) + " (" + why + ")")
			}
		}
	}
	if len(close) > maxClose {
		close = append(close[:maxClose], "…")
	}
	if len(close) > 0 {
		return "close match " + strings.Join(close, ", ") + ": groups compare exactly"
	}
	return ""
}

// maxSearchDepth bounds how deep findGroupList looks into the claims.
const maxSearchDepth = 4

// findGroupList returns the top-level name, or the JSON Pointer, of a list
// of strings in claims other than the configured claim that holds group
// (case aside) or whose name says it is groups or roles; "" when there is
// none. Top-level claims come first, then nested ones, each in name order.
func findGroupList(claims map[string]any, group, configured string) string {
	var found string
	var walk func(m map[string]any, path []string)
	walk = func(m map[string]any, path []string) {
		for _, name := range sortedKeys(m) {
			if found != "" {
				return
			}
			p := append(path[:len(path):len(path)], name)
			ref := name
			if len(p) > 1 {
				ref = pointerTo(p)
			}
			if ref == configured || (len(p) == 1 && slices.Contains(notGroups, name)) {
				continue
			}
			if sub, ok := m[name].(map[string]any); ok && len(p) < maxSearchDepth {
				defer walk(sub, p)
				continue
			}
			gs, bad := stringList(m[name])
			if bad || len(gs) == 0 {
				continue
			}
			lower := strings.ToLower(name)
			if containsFold(gs, group) || strings.Contains(lower, "group") || (len(p) > 1 && strings.Contains(lower, "role")) {
				found = ref
				return
			}
		}
	}
	walk(claims, nil)
	return found
}

// lastPathSegment is the last segment of a group path such as /Eng/IT.
func lastPathSegment(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}

// isObjectID reports whether s has the form of a GUID, as Entra ID's group
// object IDs do.
func isObjectID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func allObjectIDs(gs []string) bool {
	for _, g := range gs {
		if !isObjectID(g) {
			return false
		}
	}
	return len(gs) > 0
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// stringList reads an array of strings only.
func stringList(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		if ss, ok := v.([]string); ok {
			return ss, false
		}
		return nil, true
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, true
		}
		out = append(out, s)
	}
	return out, false
}

func containsFold(gs []string, g string) bool {
	for _, x := range gs {
		if strings.EqualFold(x, g) {
			return true
		}
	}
	return false
}

// closeMatch says how got nearly is want: a case difference, surrounding
// or doubled spaces, or one or two edits in a name of five or more letters.
func closeMatch(want, got string) string {
	switch {
	case want == got:
		return ""
	case strings.EqualFold(want, got):
		return "differs in case"
	case strings.Join(strings.Fields(want), " ") == strings.Join(strings.Fields(got), " "):
		return "differs in spaces"
	case len([]rune(want)) >= 5 && suggest.Distance(want, got) <= maxEdits(want):
		return "differs by a letter or two"
	}
	return ""
}

// maxEdits allows one edit in a short name, two in a long one.
func maxEdits(s string) int {
	if len([]rune(s)) >= 10 {
		return 2
	}
	return 1
}
