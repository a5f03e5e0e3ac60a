package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/claimcheck/claimcheck/failure"
)

// FuzzParseCompact fuzzes the decoding of a JWT's header and payload
// (RFC 7519 §7.2, RFC 7515 §7.1): no panic, one-line errors, and a parsed
// token always has an alg.
func FuzzParseCompact(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIn0.c2ln",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.",
		"eyJhbGciOiJSUzI1NiIsImI2NCI6ZmFsc2V9.eyJ9.x",
		`{"protected":"a","payload":"b","signature":"c"}`,
		"a.b", "a.b.c.d", "a.b.c.d.e", "", "bnVsbA.bnVsbA.",
		"eyJhbGciOjF9.e30.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var tok compactJWT
		if err := parseCompactInto(raw, nil, &tok); err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("multi-line error %q", msg)
			}
			return
		}
		if tok.alg == "" || tok.header == nil || tok.claims == nil {
			t.Fatalf("parsed without alg, header or claims: alg %q, header %v, claims %p", tok.alg, tok.header, tok.claims)
		}
	})
}

// FuzzParseJWKS fuzzes key set parsing (RFC 7517 §5): no panic, and no key
// meant for encryption or carrying private material is ever kept.
func FuzzParseJWKS(f *testing.F) {
	for _, s := range []string{
		`{"keys":[]}`,
		`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`,
		`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`,
		`{"keys":null}`, `[]`, `{"keys":[1,"x",null]}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		set, err := parseJWKS(body)
		if err != nil {
			return
		}
		// The oracle: encoding/json's reading of the same keys, of which
		// at most those with use "sig" or none and no private or
		// symmetric member may be kept.
		var doc struct{ Keys []any }
		if json.Unmarshal(body, &doc) != nil {
			t.Fatalf("parsed a set encoding/json refuses: %q", body)
		}
		eligible := map[string]int{}
		for _, v := range doc.Keys {
			k, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if use, _ := k["use"].(string); use != "" && use != "sig" {
				continue
			}
			private := false
			for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "priv"} {
				if _, has := k[m]; has {
					private = true
				}
			}
			if !private {
				kid, _ := k["kid"].(string)
				eligible[kid]++
			}
		}
		for _, k := range set.keys {
			if eligible[k.kid] == 0 {
				t.Fatalf("kept key %q, which is for encryption or holds private material: %q", k.kid, body)
			}
			eligible[k.kid]--
			switch k.pub.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				t.Fatalf("kept a key of type %T", k.pub)
			}
		}
	})
}

type bodyTransport struct {
	status int
	ct     string
	body   []byte
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: b.status, Header: http.Header{"Content-Type": {b.ct}},
		Body: io.NopCloser(bytes.NewReader(b.body)), Request: r,
	}, nil
}

// FuzzDiscovery fuzzes the discovery document (OpenID Discovery §4.3):
// whatever the body, Discover returns a provider whose issuer is exactly
// the one asked for, or a classified one-line error that never quotes the
// body.
func FuzzDiscovery(f *testing.F) {
	const issuer = "https://idp.example"
	for _, s := range []string{
		`{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","jwks_uri":"https://idp.example/k","id_token_signing_alg_values_supported":["RS256"]}`,
		`{"issuer":"https://evil.example"}`,
		`{"issuer":"https://idp.example","jwks_uri":"javascript:alert(1)"}`,
		`{"issuer":"https://idp.example","userinfo_signing_alg_values_supported":"RS256"}`,
		`<html>`, `null`, `{"issuer":1}`, ``,
	} {
		f.Add([]byte(s), 200, "application/json")
	}
	f.Add([]byte("{}"), 404, "text/plain")
	f.Fuzz(func(t *testing.T, body []byte, status int, ct string) {
		if status < 100 || status > 999 {
			return
		}
		client := &http.Client{Transport: bodyTransport{status, ct, body}}
		p, err := Discover(context.Background(), issuer, client)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
				t.Fatalf("message is not one clean line: %q", msg)
			}
			if c := failure.ClassOf(err); c != failure.Provider && c != failure.Verification {
				t.Fatalf("class %s for a bad document: %v", c, err)
			}
			if len(body) > 24 && strings.Contains(msg, string(body)) {
				t.Fatalf("message quotes the body: %q", msg)
			}
			return
		}
		if p.Metadata().Issuer != issuer {
			t.Fatalf("accepted issuer %q", p.Metadata().Issuer)
		}
	})
}

// FuzzDecodeObject holds the token JSON decoder to encoding/json on any
// input: the same map, or an error from both, except where decodeObject
// refuses what encoding/json lets through — a duplicate member, text that
// is not UTF-8, nesting beyond maxDepth — each of which must then be there.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":"x","a":"y"}`, `{"a":[1,"x",true,false,null,[],{}]}`, `{"a":"\u00e9"}`,
		`{"a":1e400}`, `{"a":01}`, `{"a":-0}`, `{"a":1,}`, "{\"a\":\"\xff\"}", `{"a":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`,
		`{"groups":["Everyone","IT"],"exp":1750000300,"aud":["c1","api"],"iss":"https://x.example/"}`,
		`{"Iss":"a","iss":"b"}`, `{"big":123456789012345678901234567890}`, `{"a":1,"\u0061":2}`, `{"x":{"b":1,"b":2}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]any
		werr := json.Unmarshal(data, &want)
		got, gerr := decodeObject(data)
		var strict *strictJSONError
		if errors.As(gerr, &strict) {
			if werr == nil && !strictViolation(data) {
				t.Fatalf("%q: refused (%v), but encoding/json decodes it and it has no duplicate member, invalid UTF-8 or deep nesting", data, gerr)
			}
			return
		}
		if werr == nil && want == nil {
			// JSON null: encoding/json leaves the map nil.
			werr = errors.New("not an object")
		}
		if (werr == nil) != (gerr == nil) || (werr == nil && !reflect.DeepEqual(want, got)) {
			t.Fatalf("%q: encoding/json %v (%v), decodeObject %v (%v)", data, want, werr, got, gerr)
		}
		if gerr == nil && strictViolation(data) {
			t.Fatalf("%q: accepted, but it has a duplicate member, invalid UTF-8 or deep nesting", data)
		}
	})
}

// FuzzClaimRef fuzzes claim references (--groups-claim, a suite's claim):
// a reference CheckClaimRef accepts never makes LookupClaim panic, and the
// pointer pointerTo writes for any member path finds the value at that
// path (RFC 6901's escapes round-trip).
func FuzzClaimRef(f *testing.F) {
	for _, s := range []string{"groups", "cognito:groups", "/realm_access/roles", "/a~1b/~0c", "/", "//", "/x/0", "~", "/~"} {
		f.Add(s, "m/n~")
	}
	f.Fuzz(func(t *testing.T, ref, member string) {
		claims := map[string]any{"realm_access": map[string]any{"roles": []any{"IT"}}, member: map[string]any{member: "v"}}
		if CheckClaimRef(ref) == nil {
			LookupClaim(claims, ref)
		}
		p := pointerTo([]string{member, member})
		if err := CheckClaimRef(p); err != nil {
			t.Fatalf("pointerTo wrote %q, which CheckClaimRef refuses: %v", p, err)
		}
		if v, ok := LookupClaim(claims, p); !ok || v != "v" {
			t.Fatalf("LookupClaim(%q) = %v, %v; want v", p, v, ok)
		}
	})
}
