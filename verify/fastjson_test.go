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
