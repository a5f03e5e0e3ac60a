package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// strictViolation is an oracle for decodeObject's refusals, written against
// encoding/json's token stream: whether JSON that encoding/json decodes has
// a duplicate member name in some object, is not UTF-8, or nests more than
// maxDepth containers.
func strictViolation(data []byte) bool {
	if !utf8.Valid(data) {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object  bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].wantKey = true
				}
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return true
			}
			top.keys[k] = true
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, wantKey: true})
			if len(stack) > maxDepth {
				return true
			}
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			if len(stack) > maxDepth {
				return true
			}
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// TestDecodeObject holds decodeObject to json.Unmarshal on plain and
// malformed input — the same map, or an error from both — and checks each
// of its own refusals, with the words of its message.
func TestDecodeObject(t *testing.T) {
	same := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":-0}`, `{"a":0.5e-3,"b":1E+2,"c":-12.75}`, `{"a":1e400}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`,
		`{"a":[]}`, `{"a":[1,"x",true,false,null,[],{}]}`, `{"A":1,"a":2}`, `{"a":{"b":1},"b":{"b":2}}`,
		`{"a":"\u00e9"}`, `{"a":"é"}`, `{"a":"\"q\""}`, "{\"a\":\"tab\there\"}", `{"a":"\ud800"}`,
		`{"a":tru}`, `{"a":nul}`, `{"a":true}x`, `{"a":1,}`, `{,"a":1}`, `{"a" 1}`, `{"a":1 "b":2}`,
		`[1,2]`, `"s"`, `null`, ``, `{`, `{"a":[1,2}`, `{"a":[1 2]}`, "{\"a\":1}\n", "\t{\"a\" : [ 1 , 2 ] }\r\n",
		`{"groups":["Everyone","IT"],"exp":1750000300,"iat":1750000000,"aud":["c1","api"],"iss":"https://x.example/"}`,
		`{"a":` + strings.Repeat(`[`, 63) + strings.Repeat(`]`, 63) + `}`,
		`{"a":` + strings.Repeat(`{"b":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`,
		`{"big":123456789012345678901234567890,"neg":-9007199254740993}`,
	}
	for _, in := range same {
		var want map[string]any
		werr := json.Unmarshal([]byte(in), &want)
		got, gerr := decodeObject([]byte(in))
		if werr == nil && want == nil {
			// JSON null: encoding/json leaves the map nil.
			werr = errors.New("not an object")
		}
		if (werr == nil) != (gerr == nil) || (werr == nil && !reflect.DeepEqual(want, got)) {
			t.Errorf("%q: encoding/json %v (%v), decodeObject %v (%v)", in, want, werr, got, gerr)
		}
		if gerr != nil && strings.ContainsAny(gerr.Error(), "\r\n") {
			t.Errorf("%q: multi-line error %q", in, gerr)
		}
	}
	refusals := []struct{ in, msg string }{
		{`{"a":"x","a":"y"}`, `has a duplicate member "a"`},
		{`{"alg":"HS256","kid":"k1","alg":"RS256"}`, `has a duplicate member "alg"`},
		{`{"a":1,"\u0061":2}`, `has a duplicate member "a"`},
		{`{"x":[{"b":1,"b":2}]}`, `has a duplicate member "b"`},
		{`{"a":{"b":1},"a":{"c":2}}`, `has a duplicate member "a"`},
		{"{\"a\":\"\xff\"}", "is not valid UTF-8"},
		{"{\"a\xc3\":1}", "is not valid UTF-8"},
		{`{"a":` + strings.Repeat(`[`, 64) + strings.Repeat(`]`, 64) + `}`, "is nested deeper than 64 levels"},
		{`{"a":` + strings.Repeat(`{"b":`, 70) + `1` + strings.Repeat(`}`, 70) + `}`, "is nested deeper than 64 levels"},
	}
	for _, r := range refusals {
		var want map[string]any
		if err := json.Unmarshal([]byte(r.in), &want); err != nil {
			t.Errorf("%q: encoding/json refuses it too (%v): not a case of strictness", r.in, err)
		}
		if !strictViolation([]byte(r.in)) {
			t.Errorf("%q: the oracle sees no violation", r.in)
		}
		_, err := decodeObject([]byte(r.in))
		var strict *strictJSONError
		if !errors.As(err, &strict) || err.Error() != r.msg {
			t.Errorf("%q: error %v (%T), want %q", r.in, err, err, r.msg)
		}
	}
}

// TestCommonKeys checks the interned claim names: each is returned for its
// own spelling only, and maps decoded with them match encoding/json's at
// the top level and below it.
func TestCommonKeys(t *testing.T) {
	names := []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "scp", "cid", "uid", "sid", "amr", "acr",
		"ver", "name", "email", "nonce", "scope", "roles", "groups", "at_hash", "c_hash", "auth_time", "client_id",
		"email_verified", "preferred_username"}
	for _, n := range names {
		if k, ok := commonKey(n); !ok || k != n {
			t.Errorf("commonKey(%q) = %q, %v", n, k, ok)
		}
		for _, other := range []string{strings.ToUpper(n), n + "x", n[1:], " " + n} {
			if k, ok := commonKey(other); ok {
				t.Errorf("commonKey(%q) = %q, want no constant", other, k)
			}
		}
		in := `{"` + n + `":1,"x":{"` + n + `":[2]},"` + strings.ToUpper(n) + `":3}`
		var want map[string]any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		// encoding/json matches keys to struct fields case-insensitively,
		// but into a map it keeps each spelling: so does decodeObject.
		if got, err := decodeObject([]byte(in)); err != nil || !reflect.DeepEqual(want, got) {
			t.Errorf("%s: encoding/json %v, decodeObject %v (%v)", in, want, got, err)
		}
	}
}

// TestSmallInteger holds the integer fast path of number to
// strconv.ParseFloat bit for bit (negative zero included), and checks that
// it leaves every other number to ParseFloat.
func TestSmallInteger(t *testing.T) {
	for _, r := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"-0", true}, {"7", true}, {"-7", true}, {"1796685949", true},
		{"999999999999999", true}, {"-999999999999999", true},
		{"1000000000000000", false}, {"9007199254740993", false}, {"1.5", false}, {"1e3", false}, {"-", false}, {"", false},
	} {
		got, ok := smallInteger(r.in)
		if ok != r.ok {
			t.Errorf("smallInteger(%q) ok = %v, want %v", r.in, ok, r.ok)
			continue
		}
		if !ok {
			continue
		}
		want, err := strconv.ParseFloat(r.in, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("smallInteger(%q) = %v (bits %x), ParseFloat %v (bits %x, %v)", r.in, got, math.Float64bits(got), want, math.Float64bits(want), err)
		}
	}
	// Through the decoder, as a claim.
	m, err := decodeObject([]byte(`{"z":-0,"exp":1796685949,"f":0.5}`))
	if err != nil || math.Float64bits(m["z"].(float64)) != math.Float64bits(math.Copysign(0, -1)) || m["exp"] != 1796685949.0 || m["f"] != 0.5 {
		t.Errorf("decodeObject: %v, %v", m, err)
	}
}
