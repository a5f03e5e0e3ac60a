package verify

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeObjectMatchesEncodingJSON holds decodeObject to json.Unmarshal:
// the same map, or an error from both, on plain and not-plain input.
func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":-0}`, `{"a":0.5e-3,"b":1E+2,"c":-12.75}`, `{"a":1e400}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`,
		`{"a":"x","a":"y"}`, `{"a":{"b":1},"a":{"c":2}}`, `{"a":[]}`, `{"a":[1,"x",true,false,null,[],{}]}`,
		`{"a":"\u00e9"}`, `{"a":"é"}`, `{"a":"\"q\""}`, "{\"a\":\"\xff\"}", "{\"a\":\"tab\there\"}",
		`{"a":tru}`, `{"a":nul}`, `{"a":true}x`, `{"a":1,}`, `{,"a":1}`, `{"a" 1}`, `{"a":1 "b":2}`,
		`[1,2]`, `"s"`, `null`, ``, `{`, `{"a":[1,2}`, `{"a":[1 2]}`, "{\"a\":1}\n", "\t{\"a\" : [ 1 , 2 ] }\r\n",
		`{"groups":["Everyone","IT"],"exp":1750000300,"iat":1750000000,"aud":["c1","api"],"iss":"https://x.example/"}`,
		`{"a":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`,
		`{"a":` + strings.Repeat(`{"b":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`,
		`{"big":123456789012345678901234567890,"neg":-9007199254740993}`,
	}
	for _, in := range inputs {
		var want, got map[string]any
		werr := json.Unmarshal([]byte(in), &want)
		gerr := decodeObject([]byte(in), &got)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(want, got) {
			t.Errorf("%q: encoding/json %v (%v), decodeObject %v (%v)", in, want, werr, got, gerr)
		}
	}
}

// TestCommonKeys checks the interned claim names: each is returned for its
// own spelling only, and the decoder's maps with them match encoding/json's
// at the top level and below it.
func TestCommonKeys(t *testing.T) {
	names := []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "scp", "cid", "uid", "sid", "amr", "acr",
		"ver", "name", "email", "nonce", "scope", "roles", "groups", "at_hash", "c_hash", "auth_time", "client_id",
		"email_verified", "preferred_username"}
	for _, n := range names {
		if k, ok := commonKey([]byte(n)); !ok || k != n {
			t.Errorf("commonKey(%q) = %q, %v", n, k, ok)
		}
		// The decoder skips the fold check for these keys: they must be
		// lower-case ASCII, folding to no other go-oidc field.
		if strings.ToLower(n) != n || foldsToOIDCField(n) {
			t.Errorf("common key %q is not lower case or folds to a go-oidc field", n)
		}
		for _, f := range oidcFields {
			in := `{"` + strings.ToUpper(f) + `":1,"` + n + `":2}`
			if _, plain, folds := decodeClaims([]byte(in)); !plain || !folds {
				t.Errorf("%s: plain %v folds %v, want both", in, plain, folds)
			}
		}
		for _, other := range []string{strings.ToUpper(n), n + "x", n[1:], " " + n} {
			if k, ok := commonKey([]byte(other)); ok {
				t.Errorf("commonKey(%q) = %q, want no constant", other, k)
			}
		}
		in := `{"` + n + `":1,"x":{"` + n + `":[2]},"` + strings.ToUpper(n) + `":3}`
		var want, got map[string]any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if err := decodeObject([]byte(in), &got); err != nil || !reflect.DeepEqual(want, got) {
			t.Errorf("%s: encoding/json %v, decodeObject %v (%v)", in, want, got, err)
		}
	}
}
