package verify

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Names of the sources of claims, as used in Source.Name,
// Expectations.GroupsFrom, GroupsClaimBySource and Check.Source.
const (
	SourceIDToken     = "id_token"
	SourceAccessToken = "access_token"
	SourceUserinfo    = "userinfo"
)

// DefaultGroupsClaim is the claim that holds groups when
// Expectations.GroupsClaim is empty.
const DefaultGroupsClaim = "groups"

// Source is one place claims came from in a run.
type Source struct {
	// Name is SourceIDToken, SourceAccessToken or SourceUserinfo; for
	// claims resolved from a distributed or aggregated source, the name of
	// the token that refers to it, which GroupsFrom and
	// GroupsClaimBySource match.
	Name string
	// Via, when not empty, names the claim source the claims were resolved
	// from ("distributed src1", "aggregated src1"; see ClaimResolver); the
	// checks' details then say "id_token → distributed src1".
	Via    string
	Claims map[string]any
	// Verified is true only for claims whose integrity was established: a
	// verified token, or userinfo fetched with a token of this run and
	// whose sub was compared with, and matched, the run's verified ID
	// token. Userinfo read without an ID token to compare with is not
	// verified. Unverified sources never satisfy an expectation (nor prove
	// a group absent).
	Verified bool
	// set, for a Source made by Token.Source, holds the claims in place
	// of Claims until something needs them as a map.
	set *claimSet
}

// lookup is LookupClaim on the source's claims.
func (s Source) lookup(ref string) (any, bool) {
	if s.Claims == nil && s.set != nil {
		return s.set.lookup(ref)
	}
	return LookupClaim(s.Claims, ref)
}

// groups reads the groups claim ref: whether it is there (and not null),
// the groups, and when it holds no list of groups, what it holds. An array
// of strings in a token's claims, as every token of a stream carries, is
// left where it is: array is that member, and the groups are read from it
// when asked (groupView.contains, groupView.list).
func (s Source) groups(ref string) (has bool, groups []string, malformed bool, shape string, array *member) {
	if s.Claims == nil && s.set != nil && !strings.HasPrefix(ref, "/") {
		if m, ok := s.set.get(ref); ok && m.kind == 'a' && s.set.stringArray(m) {
			return true, nil, false, "", m
		}
	}
	raw, has := s.lookup(ref)
	if !has || raw == nil {
		return false, nil, false, "", nil
	}
	groups, malformed = groupsOf(raw)
	if malformed {
		shape = shapeOf(raw)
	}
	return true, groups, malformed, shape, nil
}

// uniqInPlace is uniq in g's own array, nil when g is empty (as groupsOf
// reads an empty array).
func uniqInPlace(g []string) []string {
	if len(g) == 0 {
		return nil
	}
	out := g[:0]
	for _, x := range g {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// withClaims returns a copy of sources with Claims filled in for those
// made by Token.Source, for the code that reads Claims (diagnoses,
// Explain). A copy always: what Explain is given may be kept, and the
// caller's slice then need not escape (one evaluation per token of a
// stream).
func withClaims(sources []Source) []Source {
	out := slices.Clone(sources)
	for i := range out {
		if out[i].Claims == nil && out[i].set != nil {
			out[i].Claims = out[i].set.Map()
		}
	}
	return out
}

// Expectations are what a run asserts about the groups it got.
type Expectations struct {
	// ExpectGroups must each be present in a consulted source.
	ExpectGroups []string
	// ForbidGroups must each be absent from every consulted source.
	ForbidGroups []string
	// ExactGroups forbids any group beyond ExpectGroups.
	ExactGroups bool
	// GroupsClaim names the claim, a top-level name or a JSON Pointer (see
	// LookupClaim); empty means DefaultGroupsClaim.
	GroupsClaim string
	// GroupsClaimBySource overrides GroupsClaim per source name, for a
	// custom authorization server whose access-token claim is named
	// differently from the ID token's.
	GroupsClaimBySource map[string]string
	// GroupsFrom restricts the sources consulted; empty means every
	// verified source.
	GroupsFrom []string
	// Explain, when set, is asked why an expected group is missing from
	// every consulted source, after what the claims themselves show; a
	// provider-specific diagnosis (see package okta) goes here. Its answer,
	// when not empty, ends the check's detail.
	Explain func(group string, sources []Source) string
}

// Check is one verdict for the report.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Source lists, comma separated, the sources the verdict rests on:
	// where an expected group was found, where a forbidden or unexpected
	// one was present.
	Source string `json:"source"`
	Detail string `json:"detail"`
}

// groupView is a source as the evaluation sees it.
type groupView struct {
	// name is the Source's Name; label what details call it (with Via).
	name, label, claim string
	// has: the claim is present; malformed: present but not a string, an
	// array of strings and numbers, or an object keyed by group, and then
	// shape says what it is.
	has, malformed bool
	shape          string
	groups         []string
	// array, when set, is the claim in set (the source's claims), an
	// array of strings: the groups, read when asked instead of into
	// groups.
	array *member
	set   *claimSet
}

// contains reports whether the view holds group g.
func (v *groupView) contains(g string) bool {
	if v.array != nil {
		return v.set.arrayHas(v.array, g)
	}
	return slices.Contains(v.groups, g)
}

// list returns the view's groups, each once.
func (v *groupView) list() []string {
	if v.array != nil {
		g, _ := v.set.strings(v.array, nil)
		return uniqInPlace(g)
	}
	return v.groups
}

func (e Expectations) claimFor(source string) string {
	if c := e.GroupsClaimBySource[source]; c != "" {
		return c
	}
	if e.GroupsClaim != "" {
		return e.GroupsClaim
	}
	return DefaultGroupsClaim
}

// views splits the sources GroupsFrom allows into the verified ones, which
// are consulted, and the others, which are only mentioned, appending them
// to consulted and unverified.
func (e Expectations) views(sources []Source, consulted, unverified []groupView) ([]groupView, []groupView) {
	for _, s := range sources {
		if len(e.GroupsFrom) > 0 && !slices.Contains(e.GroupsFrom, s.Name) {
			continue
		}
		v := groupView{name: s.Name, label: s.Name, claim: e.claimFor(s.Name)}
		if s.Via != "" {
			v.label += " → " + s.Via
		}
		v.has, v.groups, v.malformed, v.shape, v.array = s.groups(v.claim)
		v.set = s.set
		if s.Verified {
			consulted = append(consulted, v)
		} else {
			unverified = append(unverified, v)
		}
	}
	return consulted, unverified
}

// groupsOf reads a groups claim: an array (of strings, or of numbers as some
// providers use numeric group IDs), a single string naming one group, or an
// object whose member names are the groups (Zitadel's roles claim, whose
// values say in which organization each role was granted).
func groupsOf(v any) (groups []string, malformed bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, false
	case map[string]any:
		if len(x) == 0 {
			return nil, false
		}
		return sortedKeys(x), false
	case []string:
		return uniq(x), false
	case []any:
		// uniq's result, built in one allocation.
		groups = make([]string, 0, len(x))
		for _, item := range x {
			var name string
			switch g := item.(type) {
			case string:
				name = g
			case float64:
				name = strconv.FormatFloat(g, 'f', -1, 64)
			default:
				return nil, true
			}
			if !slices.Contains(groups, name) {
				groups = append(groups, name)
			}
		}
		if len(groups) == 0 {
			return nil, false
		}
		return groups, false
	}
	return nil, true
}

// Evaluate returns one check per expected group, one per forbidden group
// and, with ExactGroups, one for the exact set. Groups compare exactly,
// case included, as providers treat them. A forbid or exact check fails
// when no consulted source carries the groups claim (as a string or an
// array): a missing claim does not show that a group is absent.
func (e Expectations) Evaluate(sources []Source) []Check {
	checks := e.Evaluator().AppendChecks(nil, sources)
	if len(checks) == 0 {
		return nil
	}
	return checks
}

// Evaluator is Expectations prepared once for the claims of many tokens
// (claimcheck verify -): the groups cleaned and the checks' names built
// once, not per token. It is safe for concurrent use.
type Evaluator struct {
	e                Expectations
	expected, forbid []string
	expectN, forbidN []string // the checks' names
}

// Evaluator prepares e for AppendChecks.
func (e Expectations) Evaluator() *Evaluator {
	v := &Evaluator{e: e, expected: clean(e.ExpectGroups), forbid: clean(e.ForbidGroups)}
	v.expectN = make([]string, len(v.expected))
	for i, g := range v.expected {
		v.expectN[i] = "group " + g
	}
	v.forbidN = make([]string, len(v.forbid))
	for i, g := range v.forbid {
		v.forbidN[i] = "forbidden group " + g
	}
	return v
}

// Checks is the number of checks AppendChecks appends.
func (v *Evaluator) Checks() int {
	n := len(v.expected) + len(v.forbid)
	if v.e.ExactGroups {
		n++
	}
	return n
}

// AppendChecks appends Evaluate's checks of sources to dst.
func (v *Evaluator) AppendChecks(dst []Check, sources []Source) []Check {
	e := v.e
	// Room for the usual sources (ID token, access token, userinfo), on
	// the stack: one evaluation per token of a stream.
	var consultedBuf, unverifiedBuf [3]groupView
	consulted, unverified := e.views(sources, consultedBuf[:0], unverifiedBuf[:0])
	// The summary of what the sources hold goes only into the details of
	// failed and negative checks: built once, when first needed.
	summ, summarized := "", false
	summary := func() string {
		if !summarized {
			summ, summarized = present(consulted), true
		}
		return summ
	}
	// Absence is proved only by a consulted source that carries the claim:
	// a source without it may simply not have been given the groups.
	carried := slices.ContainsFunc(consulted, func(v groupView) bool { return v.has && !v.malformed })
	expected := v.expected
	dst = slices.Grow(dst, v.Checks())

	// Room for the usual sources (ID token, access token, userinfo).
	var nameBuf, labelBuf [3]string
	for i, g := range expected {
		in, labels := withGroup(consulted, g, nameBuf[:0], labelBuf[:0])
		c := Check{Name: v.expectN[i], OK: len(in) > 0, Source: strings.Join(in, ",")}
		if c.OK {
			c.Detail = foundIn(labels)
		} else {
			c.Detail = "missing everywhere; " + summary()
			if _, u := withGroup(unverified, g, nil, nil); len(u) > 0 {
				c.Detail += "; it is only in the unverified " + strings.Join(u, ", ") + ", which does not count"
			}
			full := withClaims(sources)
			if why := e.diagnose(g, full); why != "" {
				c.Detail += "; " + why
			}
			if e.Explain != nil {
				if why := e.Explain(g, full); why != "" {
					c.Detail += "; " + why
				}
			}
		}
		dst = append(dst, c)
	}

	for i, g := range v.forbid {
		in, labels := withGroup(consulted, g, nameBuf[:0], labelBuf[:0])
		c := Check{Name: v.forbidN[i], OK: len(in) == 0 && carried, Source: strings.Join(in, ",")}
		switch {
		case !carried:
			c.Detail = noProof + summary()
		case c.OK:
			c.Detail = "absent; " + summary()
		default:
			c.Detail = "present in " + strings.Join(labels, ", ")
		}
		dst = append(dst, c)
	}

	if e.ExactGroups {
		c := exactCheck(consulted, expected, summary())
		if !carried {
			c.OK, c.Detail = false, noProof+summary()
		}
		dst = append(dst, c)
	}
	return dst
}

// foundIn is the detail of a met expectation, without building it for a
// group found in one of the usual sources alone.
func foundIn(labels []string) string {
	if len(labels) == 1 {
		switch labels[0] {
		case SourceIDToken:
			return "found in " + SourceIDToken
		case SourceAccessToken:
			return "found in " + SourceAccessToken
		case SourceUserinfo:
			return "found in " + SourceUserinfo
		}
	}
	return "found in " + strings.Join(labels, ", ")
}

// noProof begins the detail of a forbid or exact check that cannot pass
// because no consulted source carries the groups claim.
const noProof = "the groups claim is absent everywhere; cannot prove absence; "

// exactCheck fails on any group beyond the expected ones. Missing expected
// groups have their own checks.
func exactCheck(consulted []groupView, expected []string, summary string) Check {
	var extras []string
	where := map[string][]string{}
	var sources []string
	for _, v := range consulted {
		for _, g := range v.list() {
			if slices.Contains(expected, g) {
				continue
			}
			if where[g] == nil {
				extras = append(extras, g)
			}
			where[g] = append(where[g], v.label)
			if !slices.Contains(sources, v.name) {
				sources = append(sources, v.name)
			}
		}
	}
	c := Check{Name: "exact groups", OK: len(extras) == 0, Source: strings.Join(sources, ",")}
	if c.OK {
		c.Detail = "nothing beyond " + showList(expected) + "; " + summary
		return c
	}
	parts := make([]string, len(extras))
	for i, g := range extras {
		parts[i] = show(g) + " (" + strings.Join(where[g], ", ") + ")"
	}
	c.Detail = "unexpected: " + strings.Join(parts, ", ")
	return c
}

// WantsUserinfo reports whether the userinfo endpoint should be read for
// groups: there is a group expectation (expected, forbidden or exact) and
// GroupsFrom names userinfo, or (GroupsFrom empty) no verified source
// carries the groups claim. It is false once sources hold a userinfo
// source.
func (e Expectations) WantsUserinfo(sources []Source) bool {
	if len(clean(e.ExpectGroups)) == 0 && len(clean(e.ForbidGroups)) == 0 && !e.ExactGroups {
		return false
	}
	for _, s := range sources {
		if s.Name == SourceUserinfo {
			return false
		}
	}
	if len(e.GroupsFrom) > 0 {
		return slices.Contains(e.GroupsFrom, SourceUserinfo)
	}
	consulted, _ := e.views(sources, nil, nil)
	for _, v := range consulted {
		if v.has {
			return false
		}
	}
	return true
}

// withGroup returns the names of the views that hold g, each once, for
// Check.Source, and their labels, for details, appended to names and
// labels: a caller that joins them at once passes arrays of its own stack,
// as every token of a stream is evaluated.
func withGroup(views []groupView, g string, names, labels []string) ([]string, []string) {
	for i := range views {
		v := &views[i]
		if v.contains(g) {
			if !slices.Contains(names, v.name) {
				names = append(names, v.name)
			}
			labels = append(labels, v.label)
		}
	}
	return names, labels
}

// present lists what each consulted source holds, so that a failing check
// shows the groups that were there instead.
func present(consulted []groupView) string {
	if len(consulted) == 0 {
		return "no verified source to look in"
	}
	parts := make([]string, len(consulted))
	for i, v := range consulted {
		label := v.label + "." + show(v.claim)
		switch {
		case !v.has:
			parts[i] = label + " absent"
		case v.malformed:
			parts[i] = label + " is " + v.shape + ", not a list of groups (a string, an array of strings, or an object keyed by group)"
		default:
			parts[i] = label + " " + showList(v.list())
		}
	}
	return "present: " + strings.Join(parts, "; ")
}

// clean trims the configured group names and drops empty and repeated ones,
// as "IT, Everyone," on a command line means two groups.
func clean(groups []string) []string {
	if len(groups) == 0 {
		return nil
	}
	if isClean(groups) {
		// The usual case, and every token of a stream asks: no copy.
		return groups
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// isClean reports whether clean would return groups unchanged.
func isClean(groups []string) bool {
	for i, g := range groups {
		if g == "" || strings.TrimSpace(g) != g || slices.Contains(groups[:i], g) {
			return false
		}
	}
	return true
}

func uniq(groups []string) []string {
	var out []string
	for _, g := range groups {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func showList(groups []string) string {
	shown := make([]string, len(groups))
	for i, g := range groups {
		shown[i] = show(g)
	}
	return "[" + strings.Join(shown, ", ") + "]"
}

// show prints a group or claim name plainly unless it could break the
// one-line report (control characters, separators, length).
func show(s string) string {
	if s == "" || len(s) > 100 || strings.ContainsAny(s, ",;[]\"") || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return quote(s)
	}
	return s
}
