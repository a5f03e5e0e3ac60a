package verify

import (
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

const testAccessToken = "at-secret-0123456789"

func TestUserInfo(t *testing.T) {
	k1, k3 := rsaKeys()[0], rsaKeys()[2]
	// bearer answers like a userinfo endpoint that checks the token.
	bearer := func(body func(iss string) string, ctype string) func(iss string) http.HandlerFunc {
		return func(iss string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer "+testAccessToken {
					w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="secret-description"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Type", ctype)
				w.Write([]byte(body(iss)))
			}
		}
	}
	signed := func(t *testing.T, key any, kid string, claims map[string]any) func(string) string {
		return func(iss string) string {
			if claims["iss"] == "ISSUER" {
				claims["iss"] = iss
			}
			return sign(t, key, jose.RS256, kid, claims)
		}
	}
	static := func(s string) func(string) string { return func(string) string { return s } }

	tests := []struct {
		name      string
		handler   func(iss string) http.HandlerFunc
		noEndpt   bool
		token     string
		subject   string
		wantClass failure.Class // "" means success
		wantFrag  string
	}{
		{
			name:    "JSON",
			handler: bearer(static(`{"sub": "alice", "groups": ["Everyone", "IT"]}`), "application/json"),
			subject: "alice",
		},
		{
			name:    "JSON without an ID token to compare",
			handler: bearer(static(`{"sub": "alice"}`), "application/json; charset=utf-8"),
		},
		{
			name:    "signed JWT",
			handler: bearer(signed(t, k1, "k1", map[string]any{"iss": "ISSUER", "sub": "alice", "aud": testClientID, "groups": []string{"IT"}}), "application/jwt"),
			subject: "alice",
		},
		{
			name:      "sub differing from the ID token's",
			handler:   bearer(static(`{"sub": "bob", "groups": ["Admins"]}`), "application/json"),
			subject:   "alice",
			wantClass: failure.Verification, wantFrag: `userinfo: sub "bob" does not match the ID token's sub "alice"`,
		},
		{
			name:      "sub missing",
			handler:   bearer(static(`{"groups": ["Admins"]}`), "application/json"),
			subject:   "alice",
			wantClass: failure.Verification, wantFrag: "userinfo: sub is missing",
		},
		{
			name:      "signed JWT with a bad signature",
			handler:   bearer(signed(t, k3, "k1", map[string]any{"iss": "ISSUER", "sub": "alice"}), "application/jwt"),
			subject:   "alice",
			wantClass: failure.Verification, wantFrag: `userinfo: signature does not verify with key "k1"`,
		},
		{
			name:      "signed JWT from another issuer",
			handler:   bearer(signed(t, k1, "k1", map[string]any{"iss": "https://other.example", "sub": "alice"}), "application/jwt"),
			subject:   "alice",
			wantClass: failure.Verification, wantFrag: `userinfo: iss "https://other.example" is not the issuer`,
		},
		{
			name:      "signed JWT with alg none",
			handler:   bearer(static("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."), "application/jwt"),
			subject:   "alice",
			wantClass: failure.Verification, wantFrag: `userinfo: the signed response: alg "none" (an unsigned token) is never accepted`,
		},
		{
			name:      "signed JWT with sub differing",
			handler:   bearer(signed(t, k1, "k1", map[string]any{"sub": "bob"}), "application/jwt"),
			subject:   "alice",
			wantClass: failure.Verification, wantFrag: `sub "bob" does not match`,
		},
		{
			name:      "token refused",
			handler:   bearer(static(`{}`), "application/json"),
			token:     "wrong-token-secret",
			wantClass: failure.Flow, wantFrag: "the access token was refused",
		},
		{
			name: "status 500",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "secret-body", http.StatusInternalServerError)
				}
			},
			wantClass: failure.Provider, wantFrag: "/userinfo: status 500",
		},
		{
			name: "status 403 insufficient_scope",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="secret-description"`)
					http.Error(w, "secret-body", http.StatusForbidden)
				}
			},
			wantClass: failure.Flow, wantFrag: "status 403 (insufficient_scope): the access token was refused",
		},
		{
			name:      "HTML",
			handler:   bearer(static("<html>secret-body</html>"), "text/html"),
			wantClass: failure.Provider, wantFrag: "/userinfo: status 200 with an HTML page, not JSON",
		},
		{
			name:      "garbage",
			handler:   bearer(static("secret-body"), "application/json"),
			wantClass: failure.Provider, wantFrag: "/userinfo: status 200 with a body that is not a JSON object",
		},
		{
			name:      "oversized",
			handler:   bearer(static(`{"sub": "alice", "pad": "`+strings.Repeat("secret-body", 100_000)+`"}`), "application/json"),
			wantClass: failure.Provider, wantFrag: "/userinfo: response body is too large",
		},
		{
			name:      "no userinfo endpoint",
			noEndpt:   true,
			wantClass: failure.Provider, wantFrag: "userinfo: the provider advertises no userinfo_endpoint",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := newIssuer(t, jwk(k1, "k1", "", ""))
			ti.set(func(ti *testIssuer) {
				if tt.noEndpt {
					ti.meta["userinfo_endpoint"] = nil
				}
				if tt.handler != nil {
					ti.userinfo = tt.handler(ti.URL)
				}
			})
			p := ti.discover(t)
			token := tt.token
			if token == "" {
				token = testAccessToken
			}
			claims, err := p.UserInfo(testCtx(t), token, tt.subject)
			if tt.wantClass == "" {
				if err != nil {
					t.Fatalf("UserInfo: %v", err)
				}
				if claims["sub"] != "alice" {
					t.Errorf("claims %v", claims)
				}
				return
			}
			t.Logf("%v", err)
			wantFailure(t, err, tt.wantClass, tt.wantFrag, token, "secret-body", "secret-description")
		})
	}
}

func TestUserInfoNamesBearerError(t *testing.T) {
	ti := newIssuer(t)
	ti.set(func(ti *testIssuer) {
		ti.userinfo = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="x", error="invalid_token", error_description="secret-description"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	_, err := ti.discover(t).UserInfo(testCtx(t), testAccessToken, "alice")
	wantFailure(t, err, failure.Flow, "/userinfo: status 401 (invalid_token): the access token was refused", testAccessToken, "secret-description")
}
