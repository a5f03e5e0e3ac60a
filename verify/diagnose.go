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
// are there under another claim name, or the claim is there without the
// group but with a close match. It returns "" when the claims show nothing.
func (e Expectations) diagnose(group string, sources []Source) string {
	// The claim configured for the other token kind.
	for _, s := range sources {
		if len(e.GroupsFrom) > 0 && !slices.Contains(e.GroupsFrom, s.Name) {
			continue
		}
		claim := e.claimFor(s.Name)
		if _, has := s.Claims[claim]; has {
			continue
		}
		for _, o := range sources {
			if o.Name == s.Name || !o.Verified || o.Name == SourceUserinfo || s.Name == SourceUserinfo {
				continue
			}
			if gs, bad := groupsOf(o.Claims[claim]); o.Claims[claim] != nil && !bad && slices.Contains(gs, group) {
				return "the " + show(claim) + " claim is in the " + o.Name + ", not in the " + s.Name +
					": it is configured for the other kind of token (include it in the " + s.Name + ", or use --groups-from " + o.Name + ")"
			}
		}
	}
	// The groups under another claim name.
	for _, s := range sources {
		configured := e.claimFor(s.Name)
		for _, name := range sortedKeys(s.Claims) {
			if name == configured || slices.Contains(notGroups, name) {
				continue
			}
			gs, bad := stringList(s.Claims[name])
			if bad || len(gs) == 0 {
				continue
			}
			if containsFold(gs, group) || strings.Contains(strings.ToLower(name), "group") {
				return "the " + s.Name + " has a list of groups under " + show(name) + ", not " + show(configured) +
					": use --groups-claim " + s.Name + ":" + name
			}
		}
	}
	// The claim is there, without the group.
	var close []string
	for _, s := range sources {
		gs, bad := groupsOf(s.Claims[e.claimFor(s.Name)])
		if bad {
			continue
		}
		for _, g := range gs {
			if why := closeMatch(group, g); why != "" && !slices.Contains(close, quote(g)+" ("+why+")") {
				close = append(close, quote(g)+" ("+why+")")
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
