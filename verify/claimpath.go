package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A claim reference names where a value sits in a token's claims: a
// top-level claim name exactly as written — colons, slashes and dots
// included, as in "cognito:groups", "https://claims.example.com/groups" or
// "urn:zitadel:iam:org:project:roles" — or, when it begins with "/", an
// RFC 6901 JSON Pointer into the claims, as in "/realm_access/roles" or
// "/resource_access/my-client/roles" (Keycloak), with "~1" for a "/" and
// "~0" for a "~" inside a member name.

// CheckClaimRef says why ref cannot name a claim, or returns nil: it is
// empty, or a JSON Pointer with a "~" not followed by 0 or 1.
func CheckClaimRef(ref string) error {
	if ref == "" {
		return errors.New("a claim name is empty")
	}
	if !strings.HasPrefix(ref, "/") {
		return nil
	}
	for _, tok := range strings.Split(ref[1:], "/") {
		for i := 0; i < len(tok); i++ {
			if tok[i] == '~' && (i+1 == len(tok) || (tok[i+1] != '0' && tok[i+1] != '1')) {
				return fmt.Errorf("%s: a JSON Pointer (RFC 6901) writes a literal ~ as ~0 and / as ~1", quote(ref))
			}
		}
	}
	return nil
}

// LookupClaim returns the value ref names in claims (see CheckClaimRef for
// the syntax) and whether it is there. A JSON Pointer walks objects by
// member name and arrays by index (digits without a leading zero); "" (the
// whole claims set) is not a claim and "/" names the member "".
func LookupClaim(claims map[string]any, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "/") {
		v, ok := claims[ref]
		return v, ok
	}
	var cur any = claims
	for _, tok := range strings.Split(ref[1:], "/") {
		tok = unescapePointer(tok)
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, ok := arrayIndex(tok)
			if !ok || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// unescapePointer decodes a reference token: ~1 before ~0, as RFC 6901
// section 4 requires (so that "~01" is "~1", not "/").
func unescapePointer(tok string) string {
	if !strings.Contains(tok, "~") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// arrayIndex reads an array index token: "0", or digits not starting with
// 0. "-" (the element after the last) names nothing that exists.
func arrayIndex(tok string) (int, bool) {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(tok)
	return n, err == nil
}

// pointerTo writes the JSON Pointer of the member path.
func pointerTo(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// shapeOf names the JSON type of a claim value for a message.
func shapeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		for _, item := range x {
			switch item.(type) {
			case string, float64:
			default:
				return "an array holding " + shapeOf(item)
			}
		}
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
