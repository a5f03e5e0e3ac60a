package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeObject decodes a JOSE header or a JWT claims set: a JSON object, as
// json.Unmarshal into a map[string]any decodes it (numbers as float64,
// strings unescaped as encoding/json unescapes them), but stricter where a
// token's meaning would otherwise be ambiguous:
//
//   - a duplicate member name, at any depth, is an error: RFC 7519 section 4
//     lets a parser either refuse duplicates or keep the last, and two
//     readers of one token must not see two different claims sets;
//   - the text must be UTF-8 (RFC 7519 section 7.2 step 10; encoding/json
//     would replace invalid bytes with U+FFFD, so that two different
//     tokens could decode to one claim value);
//   - nesting deeper than maxDepth is an error (a claims set that deep is
//     an attack on the parser, not a claims set).
//
// Everything else — the grammar, the numbers, the escapes — is JSON's
// (RFC 8259), and the result equals encoding/json's; FuzzDecodeObject holds
// it to that.
func decodeObject(b []byte) (map[string]any, error) {
	d := decoder{s: string(b)}
	d.space()
	if d.i >= len(b) || b[d.i] != '{' {
		return nil, errors.New("is not a JSON object")
	}
	m, err := d.object(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(b) {
		return nil, d.syntax()
	}
	return m, nil
}

// maxDepth bounds the nesting of objects and arrays in a token.
const maxDepth = 64

// strictJSONError is JSON that encoding/json would decode but that a
// token must not hold: a duplicate member, text that is not UTF-8, nesting
// beyond maxDepth.
type strictJSONError struct{ msg string }

func (e *strictJSONError) Error() string { return e.msg }

// decoder is decodeObject's parser over one document.
type decoder struct {
	// s is the document: decoded strings without escapes are slices of
	// it, which costs no allocation per string.
	s string
	i int
	// lazy validates without building: value returns nil for strings,
	// numbers and arrays (objects are still built, as a map is how their
	// duplicate members are found). decodeClaims sets it for the values
	// of top-level members, which a claimSet decodes again when read.
	lazy bool
}

func (d *decoder) syntax() error {
	if d.i >= len(d.s) {
		return errors.New("is not valid JSON (unexpected end)")
	}
	return fmt.Errorf("is not valid JSON (unexpected %s at offset %d)", strconv.QuoteRune(rune(d.s[d.i])), d.i)
}

func (d *decoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object reads an object; d.s[d.i] is '{'.
func (d *decoder) object(depth int) (map[string]any, error) {
	if depth >= maxDepth {
		return nil, &strictJSONError{fmt.Sprintf("is nested deeper than %d levels", maxDepth)}
	}
	d.i++
	var m map[string]any
	if depth == 0 {
		// Claims sets have a dozen or two members: size the map once
		// (each member has a colon, as may a string; cap the guess).
		m = make(map[string]any, min(strings.Count(d.s[d.i:], ":"), 64))
	} else {
		m = map[string]any{}
	}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, d.syntax()
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.syntax()
		}
		d.i++
		val, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		// A duplicate leaves the map's size unchanged: no second lookup.
		n := len(m)
		m[k] = val
		if len(m) == n {
			return nil, &strictJSONError{"has a duplicate member " + quote(k)}
		}
		d.space()
		if d.i >= len(d.s) {
			return nil, d.syntax()
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, nil
		default:
			return nil, d.syntax()
		}
	}
}

// array reads an array; d.s[d.i] is '['.
func (d *decoder) array(depth int) ([]any, error) {
	if depth >= maxDepth {
		return nil, &strictJSONError{fmt.Sprintf("is nested deeper than %d levels", maxDepth)}
	}
	d.i++
	// Room for a few elements (groups, aud, amr) in one allocation.
	var a []any
	if !d.lazy {
		a = make([]any, 0, 4)
	}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		val, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		if !d.lazy {
			a = append(a, val)
		}
		d.space()
		if d.i >= len(d.s) {
			return nil, d.syntax()
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, nil
		default:
			return nil, d.syntax()
		}
	}
}

// value reads a value inside a container at depth.
func (d *decoder) value(depth int) (any, error) {
	d.space()
	if d.i >= len(d.s) {
		return nil, d.syntax()
	}
	switch c := d.s[d.i]; {
	case c == '"':
		s, err := d.str()
		if err != nil || d.lazy {
			return nil, err
		}
		return s, nil
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		a, err := d.array(depth + 1)
		if err != nil || d.lazy {
			return nil, err
		}
		return a, nil
	case c == '-' || c >= '0' && c <= '9':
		f, err := d.number()
		if err != nil || d.lazy {
			return nil, err
		}
		return f, nil
	}
	for _, lit := range [...]struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(d.s)-d.i >= len(lit.s) && d.s[d.i:d.i+len(lit.s)] == lit.s {
			d.i += len(lit.s)
			return lit.v, nil
		}
	}
	return nil, d.syntax()
}

// key reads a member name as str does, returning the claim names most
// tokens carry as constants instead of allocating each token's own copy.
func (d *decoder) key() (string, error) {
	start, end, escaped, err := d.span()
	if err != nil {
		return "", err
	}
	if escaped {
		return d.unescape(start, end)
	}
	if k, ok := commonKey(d.s[start:end]); ok {
		return k, nil
	}
	return d.s[start:end], nil
}

// commonKey returns the constant equal to s when s is one of the claim
// names most tokens carry, so that a map built of the claims does not keep
// the whole payload for its keys.
func commonKey(s string) (string, bool) {
	switch s {
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

// str reads a string; d.s[d.i] is '"'.
func (d *decoder) str() (string, error) {
	start, end, escaped, err := d.span()
	if err != nil {
		return "", err
	}
	if escaped {
		return d.unescape(start, end)
	}
	return d.s[start:end], nil
}

// span reads a string and returns the bounds of its contents in the input
// and whether it holds escapes. Bytes outside ASCII must form UTF-8.
func (d *decoder) span() (start, end int, escaped bool, err error) {
	start = d.i + 1
	ascii := true
	for j := start; j < len(d.s); j++ {
		// Most bytes of a token's strings are plain: one load to pass
		// them rather than four comparisons.
		if plainStringTable[d.s[j]] == '1' {
			continue
		}
		switch c := d.s[j]; {
		case c == '"':
			if !ascii && !utf8.ValidString(d.s[start:j]) {
				return 0, 0, false, &strictJSONError{"is not valid UTF-8"}
			}
			d.i = j + 1
			return start, j, escaped, nil
		case c == '\\':
			escaped = true
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			d.i = j
			return 0, 0, false, d.syntax()
		case c >= 0x80:
			ascii = false
		}
	}
	d.i = len(d.s)
	return 0, 0, false, d.syntax()
}

// plainStringTable marks with '1', by value, the bytes that a JSON string
// holds as they are and that need no check: printable ASCII other than
// the quote and the backslash.
const plainStringTable = "0000000000000000000000000000000011011111111111111111111111111111" +
	"1111111111111111111111111111011111111111111111111111111111111111" +
	"0000000000000000000000000000000000000000000000000000000000000000" +
	"0000000000000000000000000000000000000000000000000000000000000000"

// unescape decodes a string with escapes through encoding/json, so that
// its rules (\u surrogate pairs, and U+FFFD for a lone surrogate) apply
// unchanged; such strings are rare in tokens.
func (d *decoder) unescape(start, end int) (string, error) {
	var s string
	if err := json.Unmarshal([]byte(d.s[start-1:end+1]), &s); err != nil {
		d.i = start
		return "", errors.New("is not valid JSON (a bad escape in a string)")
	}
	return s, nil
}

// number reads a number of JSON's grammar and converts it as encoding/json
// does (strconv.ParseFloat); one out of float64's range is an error there
// too.
func (d *decoder) number() (float64, error) {
	start, b := d.i, d.s
	j := d.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	digits := func() bool {
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return false
		}
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return true
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case !digits():
		d.i = j
		return 0, d.syntax()
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			d.i = j
			return 0, d.syntax()
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			d.i = j
			return 0, d.syntax()
		}
	}
	if f, ok := smallInteger(b[start:j]); ok {
		d.i = j
		return f, nil
	}
	f, err := strconv.ParseFloat(d.s[start:j], 64)
	if err != nil {
		return 0, fmt.Errorf("holds the number %s, out of range", d.s[start:min(j, start+40)])
	}
	d.i = j
	return f, nil
}

// smallInteger converts a number of JSON's grammar that is an integer of
// at most 15 digits, as the dates of a token are: every such integer is a
// float64 exactly, so the result is strconv.ParseFloat's without its
// general algorithm. ok is false for any other number.
func smallInteger(b string) (f float64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		// -0 is negative zero, as ParseFloat has it.
		return -float64(n), true
	}
	return float64(n), true
}
