package verify

import (
	"errors"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

func accessClaims(issuer string) map[string]any {
	return map[string]any{
		"iss":    issuer,
		"sub":    "alice",
		"aud":    "api://default",
		"exp":    t0.Add(time.Hour).Unix(),
		"iat":    t0.Unix(),
		"groups": []string{"Everyone", "IT"},
	}
}

func accessOpts(aud string) AccessTokenOptions {
	return AccessTokenOptions{Audience: aud, ClockSkew: 2 * time.Minute, Now: func() time.Time { return t0 }}
}

func TestVerifyAccessToken(t *testing.T) {
	k1, k3 := rsaKeys()[0], rsaKeys()[2]
	ec := ecKey()
	tests := []struct {
		name  string
		setup func(ti *testIssuer)
		token func(t *testing.T, iss string) string
		opts  AccessTokenOptions
		// want: "ok", "not verifiable", or a failure class.
		want         string
		wantFrag     string
		wantJWKSHits int32
	}{
		{
			name:  "JWT with the expected audience",
			token: func(t *testing.T, iss string) string { return sign(t, k1, jose.RS256, "k1", accessClaims(iss)) },
			opts:  accessOpts("api://default"),
			want:  "ok", wantJWKSHits: 1,
		},
		{
			name:  "JWT without an expected audience",
			token: func(t *testing.T, iss string) string { return sign(t, k1, jose.RS256, "k1", accessClaims(iss)) },
			opts:  accessOpts(""),
			want:  "ok",
		},
		{
			name: "ES256 key published though ID tokens are RS256",
			setup: func(ti *testIssuer) {
				ti.keys = func(int) []jose.JSONWebKey {
					return []jose.JSONWebKey{jwk(k1, "k1", "", ""), jwk(ec, "ec1", "ES256", "sig")}
				}
			},
			token: func(t *testing.T, iss string) string { return sign(t, ec, jose.ES256, "ec1", accessClaims(iss)) },
			opts:  accessOpts("api://default"),
			want:  "ok",
		},
		{
			name:  "wrong audience",
			token: func(t *testing.T, iss string) string { return sign(t, k1, jose.RS256, "k1", accessClaims(iss)) },
			opts:  accessOpts("api://other"),
			want:  string(failure.Verification), wantFrag: `access token: aud ["api://default"] does not include the expected audience "api://other"`,
		},
		{
			name: "expired",
			token: func(t *testing.T, iss string) string {
				c := accessClaims(iss)
				c["exp"] = t0.Add(-time.Hour).Unix()
				return sign(t, k1, jose.RS256, "k1", c)
			},
			opts: accessOpts("api://default"),
			want: string(failure.Verification), wantFrag: "access token: expired at",
		},
		{
			name: "iat missing",
			token: func(t *testing.T, iss string) string {
				c := accessClaims(iss)
				delete(c, "iat")
				return sign(t, k1, jose.RS256, "k1", c)
			},
			opts: accessOpts(""),
			want: string(failure.Verification), wantFrag: "access token: iat is missing",
		},
		{
			name: "wrong issuer, signed with the issuer's key",
			token: func(t *testing.T, iss string) string {
				c := accessClaims(iss)
				c["iss"] = "https://other.example"
				return sign(t, k1, jose.RS256, "k1", c)
			},
			opts: accessOpts(""),
			want: string(failure.Verification), wantFrag: `iss "https://other.example" is not the issuer`,
		},
		{
			name:  "bad signature with a published kid",
			token: func(t *testing.T, iss string) string { return sign(t, k3, jose.RS256, "k1", accessClaims(iss)) },
			opts:  accessOpts(""),
			want:  string(failure.Verification), wantFrag: `signature does not verify with key "k1"`,
			wantJWKSHits: 1,
		},
		{
			name:  "opaque",
			token: func(t *testing.T, iss string) string { return "2YotnFZFEjr1zCsicMWpAA" },
			opts:  accessOpts("api://default"),
			want:  "not verifiable", wantFrag: "access token: not verifiable locally: opaque (not a JWT)",
			wantJWKSHits: -1,
		},
		{
			name:  "JWE",
			token: func(t *testing.T, iss string) string { return "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d" },
			opts:  accessOpts(""),
			want:  "not verifiable", wantFrag: "not verifiable locally: not a JWT: 5 segments: an encrypted token (JWE)",
			wantJWKSHits: -1,
		},
		{
			name:  "kid the JWKS lacks even after a refetch",
			token: func(t *testing.T, iss string) string { return sign(t, k3, jose.RS256, "org-as-key", accessClaims(iss)) },
			opts:  accessOpts("api://default"),
			want:  "not verifiable", wantFrag: `not verifiable locally: signed with a key the issuer does not publish: key "org-as-key" is not in the JWKS`,
			wantJWKSHits: 2,
		},
		{
			name: "HS256",
			token: func(t *testing.T, iss string) string {
				return sign(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, "", accessClaims(iss))
			},
			opts: accessOpts(""),
			want: "not verifiable", wantFrag: `signed with alg "HS256", not with a public key`,
			wantJWKSHits: -1,
		},
		{
			name: "JWKS down",
			setup: func(ti *testIssuer) {
				ti.jwks = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }
			},
			token: func(t *testing.T, iss string) string { return sign(t, k1, jose.RS256, "k1", accessClaims(iss)) },
			opts:  accessOpts(""),
			want:  string(failure.Provider), wantFrag: "access token: JWKS at http://127.0.0.1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := newIssuer(t, jwk(k1, "k1", "", ""))
			if tt.setup != nil {
				ti.set(tt.setup)
			}
			p := ti.discover(t)
			raw := tt.token(t, ti.URL)
			tok, err := p.VerifyAccessToken(testCtx(t), raw, tt.opts)
			switch tt.want {
			case "ok":
				if err != nil {
					t.Fatalf("VerifyAccessToken: %v", err)
				}
				if tok.Claims()["sub"] != "alice" {
					t.Errorf("claims %v", tok.Claims())
				}
			case "not verifiable":
				t.Logf("%v", err)
				if !isNotVerifiable(err) {
					t.Fatalf("error %v is not a *NotVerifiableError", err)
				}
				wantFailure(t, err, failure.Verification, tt.wantFrag, raw)
				if tok != nil {
					t.Errorf("a token that cannot be verified came back as %+v", tok)
				}
			default:
				t.Logf("%v", err)
				if isNotVerifiable(err) {
					t.Errorf("error %v is a NotVerifiableError; want a %s failure", err, tt.want)
				}
				wantFailure(t, err, failure.Class(tt.want), tt.wantFrag, raw)
			}
			switch hits := ti.jwksHits.Load(); {
			case tt.wantJWKSHits == -1 && hits != 0:
				t.Errorf("JWKS fetched %d times, want none", hits)
			case tt.wantJWKSHits > 0 && hits != tt.wantJWKSHits:
				t.Errorf("JWKS fetched %d times, want %d", hits, tt.wantJWKSHits)
			}
		})
	}
}

func TestNotVerifiableCarriesUnverifiedClaims(t *testing.T) {
	k3 := rsaKeys()[2]
	ti := newIssuer(t, jwk(rsaKeys()[0], "k1", "", ""))
	p := ti.discover(t)
	_, err := p.VerifyAccessToken(testCtx(t), sign(t, k3, jose.RS256, "org-as-key", accessClaims(ti.URL)), accessOpts(""))
	var nv *NotVerifiableError
	if !errors.As(err, &nv) {
		t.Fatalf("error %v", err)
	}
	if nv.Claims["sub"] != "alice" || nv.Header["kid"] != "org-as-key" {
		t.Errorf("unverified header %v, claims %v", nv.Header, nv.Claims)
	}
}
