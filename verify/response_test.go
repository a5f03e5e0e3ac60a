package verify

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

const testState = "st-9Xk2_pQ7"

// responseClaims are the claims of a valid JARM response JWT of a code
// response for testClientID at t0.
func responseClaims(issuer string) map[string]any {
	return map[string]any{
		"iss":   issuer,
		"aud":   testClientID,
		"exp":   t0.Add(time.Minute).Unix(),
		"iat":   t0.Unix(),
		"state": testState,
		"code":  "SECRET-CODE-1",
	}
}

func responseOpts() ResponseJWTOptions {
	return ResponseJWTOptions{ClientID: testClientID, State: testState, ClockSkew: 2 * time.Minute, Now: func() time.Time { return t0 }}
}

func unsigned(header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func TestVerifyResponseJWT(t *testing.T) {
	rsaKey, other := rsaKeys()[0], rsaKeys()[1]
	pub := jwk(rsaKey, "k1", "RS256", "sig")
	ecPub := jwk(ecKey(), "e1", "ES256", "sig")
	edit := func(f func(c map[string]any)) func(string) map[string]any {
		return func(iss string) map[string]any {
			c := responseClaims(iss)
			f(c)
			return c
		}
	}
	for _, tc := range []struct {
		name string
		// meta is the provider's authorization_signing_alg_values_supported;
		// nil leaves it out of the metadata.
		meta      []string
		claims    func(iss string) map[string]any
		token     func(t *testing.T, claims map[string]any) string
		opts      func(*ResponseJWTOptions)
		wantClass failure.Class
		wantFrag  string
		// wantParams are parameters the verified response must carry.
		wantParams map[string]string
	}{
		{name: "valid code response", meta: []string{"RS256"},
			wantParams: map[string]string{"state": testState, "code": "SECRET-CODE-1"}},
		{name: "aud as an array", meta: []string{"RS256"},
			claims:     edit(func(c map[string]any) { c["aud"] = []string{"other", testClientID} }),
			wantParams: map[string]string{"code": "SECRET-CODE-1"}},
		{name: "iss is a parameter of the response", meta: []string{"RS256"},
			wantParams: map[string]string{"iss": ""}},
		{name: "expires_in as a number", meta: []string{"RS256"},
			claims:     edit(func(c map[string]any) { c["expires_in"] = 3600; c["access_token"] = "AT" }),
			wantParams: map[string]string{"expires_in": "3600", "access_token": "AT"}},
		{name: "expired within the skew", meta: []string{"RS256"},
			claims: edit(func(c map[string]any) { c["exp"] = t0.Add(-time.Minute).Unix() })},
		{name: "no metadata: RS256 is the default", meta: nil},
		{name: "nested error response", meta: []string{"RS256"},
			claims: edit(func(c map[string]any) {
				delete(c, "code")
				c["error"], c["error_description"] = "access_denied", "the user said no"
			}),
			wantParams: map[string]string{"error": "access_denied", "error_description": "the user said no"}},

		{name: "bad signature", meta: []string{"RS256"},
			token: func(t *testing.T, c map[string]any) string {
				raw := sign(t, rsaKey, jose.RS256, "k1", c)
				i := strings.LastIndexByte(raw, '.')
				sig, _ := base64.RawURLEncoding.DecodeString(raw[i+1:])
				sig[10] ^= 1
				return raw[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
			},
			wantClass: failure.Verification, wantFrag: "signature"},
		{name: "signed by a key the issuer does not publish", meta: []string{"RS256"},
			token:     func(t *testing.T, c map[string]any) string { return sign(t, other, jose.RS256, "k1", c) },
			wantClass: failure.Verification, wantFrag: "response JWT"},
		{name: "alg none", meta: []string{"RS256"},
			token:     func(t *testing.T, c map[string]any) string { return unsigned(map[string]any{"alg": "none"}, c) },
			wantClass: failure.Verification, wantFrag: `alg "none" (an unsigned token) is never accepted`},
		{name: "HS256 keyed with anything", meta: []string{"RS256", "HS256"},
			token: func(t *testing.T, c map[string]any) string {
				return sign(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, "", c)
			},
			wantClass: failure.Verification, wantFrag: `alg "HS256" (a MAC keyed with a shared secret) is never accepted`},
		{name: "alg not advertised", meta: []string{"RS256"},
			token:     func(t *testing.T, c map[string]any) string { return sign(t, ecKey(), jose.ES256, "e1", c) },
			wantClass: failure.Verification, wantFrag: `alg "ES256" is not in the provider's authorization_signing_alg_values_supported ["RS256"]`},
		{name: "no metadata: only RS256", meta: nil,
			token:     func(t *testing.T, c map[string]any) string { return sign(t, ecKey(), jose.ES256, "e1", c) },
			wantClass: failure.Verification, wantFrag: "advertises no authorization_signing_alg_values_supported, so only RS256 is"},
		{name: "advertised ES256 is accepted", meta: []string{"ES256"},
			token: func(t *testing.T, c map[string]any) string { return sign(t, ecKey(), jose.ES256, "e1", c) }},
		{name: "wrong iss", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { c["iss"] = "https://evil.example" }),
			wantClass: failure.Verification, wantFrag: `iss "https://evil.example" is not the issuer`},
		{name: "no iss", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { delete(c, "iss") }),
			wantClass: failure.Verification, wantFrag: "iss is missing"},
		{name: "wrong aud", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { c["aud"] = "someone-else" }),
			wantClass: failure.Verification, wantFrag: `aud ["someone-else"] does not include the client "client-1"`},
		{name: "no aud", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { delete(c, "aud") }),
			wantClass: failure.Verification, wantFrag: "aud is missing"},
		{name: "expired", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { c["exp"] = t0.Add(-3 * time.Minute).Unix() }),
			wantClass: failure.Verification, wantFrag: "expired at"},
		{name: "missing exp", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { delete(c, "exp") }),
			wantClass: failure.Verification, wantFrag: "exp is missing"},
		{name: "exp not a number", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { c["exp"] = "tomorrow" }),
			wantClass: failure.Verification, wantFrag: "exp is not a number"},
		{name: "not yet valid", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { c["nbf"] = t0.Add(10 * time.Minute).Unix() }),
			wantClass: failure.Verification, wantFrag: "not valid before"},
		{name: "no state", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { delete(c, "state") }),
			wantClass: failure.Verification, wantFrag: "no state claim"},
		{name: "another state", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { c["state"] = "st-other" }),
			wantClass: failure.Verification, wantFrag: "state does not match"},
		{name: "a claim that is no parameter", meta: []string{"RS256"},
			claims:    edit(func(c map[string]any) { c["code"] = map[string]any{"x": 1} }),
			wantClass: failure.Verification, wantFrag: `claim "code" is not a string or number`},
		{name: "encrypted (JWE)", meta: []string{"RS256"},
			token: func(*testing.T, map[string]any) string {
				return "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"
			},
			wantClass: failure.Verification, wantFrag: "encrypted (a JWE"},
		{name: "JSON serialization", meta: []string{"RS256"},
			token:     func(*testing.T, map[string]any) string { return `{"payload":"x","signature":"y"}` },
			wantClass: failure.Verification, wantFrag: "JSON serialization is not accepted"},
		{name: "no state to compare", meta: []string{"RS256"},
			opts:      func(o *ResponseJWTOptions) { o.State = "" },
			wantClass: failure.Usage, wantFrag: "no state to compare"},
		{name: "no client to compare", meta: []string{"RS256"},
			opts:      func(o *ResponseJWTOptions) { o.ClientID = "" },
			wantClass: failure.Usage, wantFrag: "no client ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti := newIssuer(t, pub, ecPub)
			ti.set(func(ti *testIssuer) {
				if tc.meta != nil {
					ti.meta["authorization_signing_alg_values_supported"] = tc.meta
				}
			})
			p := ti.discover(t)
			claimsOf := tc.claims
			if claimsOf == nil {
				claimsOf = responseClaims
			}
			c := claimsOf(ti.URL)
			raw := ""
			if tc.token != nil {
				raw = tc.token(t, c)
			} else {
				raw = sign(t, rsaKey, jose.RS256, "k1", c)
			}
			o := responseOpts()
			if tc.opts != nil {
				tc.opts(&o)
			}
			got, err := p.VerifyResponseJWT(testCtx(t), raw, o)
			if tc.wantClass != "" {
				wantFailure(t, err, tc.wantClass, tc.wantFrag, raw, "SECRET-CODE-1")
				if got != nil {
					t.Errorf("a refused response JWT came back: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerifyResponseJWT: %v", err)
			}
			for k, v := range tc.wantParams {
				if k == "iss" {
					v = ti.URL
				}
				if got.Params.Get(k) != v {
					t.Errorf("param %s = %q, want %q", k, got.Params.Get(k), v)
				}
			}
			for _, k := range jwtOnlyClaims {
				if got.Params.Has(k) {
					t.Errorf("the JWT's own claim %s is a parameter: %v", k, got.Params)
				}
			}
			if alg, _ := got.Header["alg"].(string); alg == "" {
				t.Errorf("no alg in the verified header %v", got.Header)
			}
		})
	}
}
