package verify

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// decodeObject decodes a JSON object into a map exactly as json.Unmarshal
// into a map[string]any does, but without reflection for the plain case
// that tokens are made of: ASCII strings without escapes, numbers, true,
// false, null, arrays and objects. Anything else — an escape, a byte
// outside ASCII in a string, a syntax error, deep nesting — is left to
// encoding/json, so that its rules and errors apply unchanged.
func decodeObject(b []byte, v *map[string]any) error {
	d := plainDecoder{b: b, s: string(b)}
	if m, ok := d.object(0); ok {
		d.space()
		if d.i == len(d.b) {
			*v = m
			return nil
		}
	}
	return json.Unmarshal(b, v)
}

// decodeClaims decodes a payload like decodeObject (nil when it is not a
// JSON object). When the plain decoder read it, plain is true and folds
// says whether a top-level key differs from one of go-oidc's typed claims
// only in case (all its keys being ASCII).
func decodeClaims(b []byte) (claims map[string]any, plain, folds bool) {
	d := plainDecoder{b: b, s: string(b), checkKeys: true}
	if m, ok := d.object(0); ok {
		d.space()
		if d.i == len(d.b) {
			return m, true, d.folds
		}
	}
	// Its own variable: one whose address reaches json.Unmarshal lives on
	// the heap, and the plain path should not pay for that.
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil, false, false
	}
	return m, false, false
}

// plainDecoder is decodeObject's parser; ok=false means "not plain".
type plainDecoder struct {
	b []byte
	// s is b as one string: the decoded strings are slices of it, which
	// costs one allocation per document instead of one per string.
	s string
	i int
	// checkKeys asks for folds: a top-level key that folds to one of
	// oidcFields without being it.
	checkKeys, folds bool
}

func foldsToOIDCField(k string) bool {
	for _, f := range oidcFields {
		if len(k) == len(f) && k != f && strings.EqualFold(k, f) {
			return true
		}
	}
	return false
}

const maxPlainDepth = 32

func (d *plainDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *plainDecoder) object(depth int) (map[string]any, bool) {
	d.space()
	if depth > maxPlainDepth || d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, false
	}
	d.i++
	var m map[string]any
	if depth == 0 {
		// Claims sets have a dozen or two members: size the map once
		// (each member has a colon, as may a string; cap the guess).
		m = make(map[string]any, min(bytes.Count(d.b[d.i:], []byte{':'}), 64))
	} else {
		m = map[string]any{}
	}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		d.space()
		k, common, ok := d.key()
		if !ok {
			return nil, false
		}
		// A common key is lower-case ASCII, as are oidcFields: it folds
		// to one of them only by being it.
		if depth == 0 && d.checkKeys && !d.folds && !common && foldsToOIDCField(k) {
			d.folds = true
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		val, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = val
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *plainDecoder) array(depth int) ([]any, bool) {
	d.i++ // '['
	// Room for a few elements (groups, aud, amr) in one allocation.
	a := make([]any, 0, 4)
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		val, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, val)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, true
		default:
			return nil, false
		}
	}
}

func (d *plainDecoder) value(depth int) (any, bool) {
	d.space()
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.str()
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		if depth+1 > maxPlainDepth {
			return nil, false
		}
		return d.array(depth + 1)
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	for _, lit := range [...]struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(d.b)-d.i >= len(lit.s) && string(d.b[d.i:d.i+len(lit.s)]) == lit.s {
			d.i += len(lit.s)
			return lit.v, true
		}
	}
	return nil, false
}

// key reads a member name as str does, returning the claim names most
// tokens carry as constants instead of allocating each token's own copy.
// common says which.
func (d *plainDecoder) key() (k string, common, ok bool) {
	start, end, ok := d.span()
	if !ok {
		return "", false, false
	}
	if k, ok := commonKey(d.b[start:end]); ok {
		return k, true, true
	}
	return d.s[start:end], false, true
}

// commonKey returns the constant equal to b when b is one of the claim
// names most tokens carry. (The conversion in the switch does not
// allocate.)
func commonKey(b []byte) (string, bool) {
	switch string(b) {
	case "iss":
		return "iss", true
	case "sub":
		return "sub", true
	case "aud":
		return "aud", true
	case "exp":
		return "exp", true
	case "iat":
		return "iat", true
	case "nbf":
		return "nbf", true
	case "jti":
		return "jti", true
	case "azp":
		return "azp", true
	case "scp":
		return "scp", true
	case "cid":
		return "cid", true
	case "uid":
		return "uid", true
	case "sid":
		return "sid", true
	case "amr":
		return "amr", true
	case "acr":
		return "acr", true
	case "ver":
		return "ver", true
	case "name":
		return "name", true
	case "email":
		return "email", true
	case "nonce":
		return "nonce", true
	case "scope":
		return "scope", true
	case "roles":
		return "roles", true
	case "groups":
		return "groups", true
	case "at_hash":
		return "at_hash", true
	case "c_hash":
		return "c_hash", true
	case "auth_time":
		return "auth_time", true
	case "client_id":
		return "client_id", true
	case "email_verified":
		return "email_verified", true
	case "preferred_username":
		return "preferred_username", true
	}
	return "", false
}

// str reads a string of printable ASCII without escapes.
func (d *plainDecoder) str() (string, bool) {
	start, end, ok := d.span()
	if !ok {
		return "", false
	}
	return d.s[start:end], true
}

// span reads a string of printable ASCII without escapes and returns the
// bounds of its contents in the input.
func (d *plainDecoder) span() (start, end int, ok bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return 0, 0, false
	}
	start = d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return start, j, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// number reads a number of JSON's grammar and converts it as encoding/json
// does (strconv.ParseFloat); one out of range is not plain.
func (d *plainDecoder) number() (any, bool) {
	start, b := d.i, d.b
	j := d.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		return nil, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return nil, false
		}
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return nil, false
		}
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	}
	f, err := strconv.ParseFloat(string(b[start:j]), 64)
	if err != nil {
		return nil, false
	}
	d.i = j
	return f, true
}
