package verify

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func halfHash(h interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
}, v string) string {
	h.Write([]byte(v))
	sum := h.Sum(nil)
	return b64(sum[:len(sum)/2])
}

func TestVerifyIDToken(t *testing.T) {
	keys := rsaKeys()
	k1, k2, k3 := keys[0], keys[1], keys[2]
	ec := ecKey()

	type env struct {
		iss string // issuer URL
		ti  *testIssuer
	}
	tests := []struct {
		name string
		// setup changes the issuer before discovery.
		setup func(ti *testIssuer)
		// token returns the token and options for the case.
		token     func(t *testing.T, e env) (string, IDTokenOptions)
		wantClass failure.Class // "" means the token verifies
		wantFrag  string
		// wantJWKSHits, when set, is the number of JWKS requests expected.
		wantJWKSHits int32
	}{
		{
			name: "valid",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), idOpts()
			},
			wantJWKSHits: 1,
		},
		{
			name: "bad signature",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k2, jose.RS256, "k1", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `signature does not verify with key "k1" (RS256)`,
			wantJWKSHits: 1, // a known kid with a bad signature is no reason to refetch
		},
		{
			name: "tampered payload",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				raw := sign(t, k1, jose.RS256, "k1", idClaims(e.iss))
				parts := strings.Split(raw, ".")
				c := idClaims(e.iss)
				c["sub"] = "mallory"
				p, _ := json.Marshal(c)
				return parts[0] + "." + b64(p) + "." + parts[2], idOpts()
			},
			wantClass: failure.Verification, wantFrag: "signature does not verify",
		},
		{
			name: "alg none",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				h, _ := json.Marshal(map[string]any{"alg": "none", "kid": "k1"})
				p, _ := json.Marshal(idClaims(e.iss))
				return b64(h) + "." + b64(p) + ".", idOpts()
			},
			wantClass: failure.Verification, wantFrag: `alg "none" (an unsigned token) is never accepted`,
			wantJWKSHits: -1,
		},
		{
			name: "HS256 keyed with the RSA public key",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				der, err := x509.MarshalPKIXPublicKey(&k1.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
				return sign(t, secret, jose.HS256, "k1", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `alg "HS256" (a MAC keyed with a shared secret) is never accepted`,
			wantJWKSHits: -1,
		},
		{
			name: "algorithm the provider does not advertise",
			setup: func(ti *testIssuer) {
				ti.keys = func(int) []jose.JSONWebKey {
					return []jose.JSONWebKey{jwk(k1, "k1", "", ""), jwk(ec, "ec1", "", "")}
				}
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, ec, jose.ES256, "ec1", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `alg "ES256" is not in the provider's id_token_signing_alg_values_supported ["RS256"]`,
			wantJWKSHits: -1,
		},
		{
			name:  "no advertised algorithms means RS256 only",
			setup: func(ti *testIssuer) { ti.meta["id_token_signing_alg_values_supported"] = nil },
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.PS256, "k1", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "advertises no id_token_signing_alg_values_supported, so only RS256 is",
		},
		{
			name: "advertised ES256",
			setup: func(ti *testIssuer) {
				ti.meta["id_token_signing_alg_values_supported"] = []string{"RS256", "ES256"}
				ti.keys = func(int) []jose.JSONWebKey {
					return []jose.JSONWebKey{jwk(k1, "k1", "RS256", "sig"), jwk(ec, "ec1", "ES256", "sig")}
				}
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, ec, jose.ES256, "ec1", idClaims(e.iss)), idOpts()
			},
		},
		{
			name: "key alg is binding",
			setup: func(ti *testIssuer) {
				ti.meta["id_token_signing_alg_values_supported"] = []string{"RS256", "PS256"}
				ti.keys = func(int) []jose.JSONWebKey { return []jose.JSONWebKey{jwk(k1, "k1", "RS256", "sig")} }
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.PS256, "k1", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `key "k1" in the JWKS is for RS256, not usable with PS256`,
		},
		{
			name: "wrong iss",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["iss"] = "https://evil.example"
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `iss "https://evil.example" is not the issuer`,
		},
		{
			name: "iss missing",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				delete(c, "iss")
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "iss is missing",
		},
		{
			name: "wrong aud",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["aud"] = "other"
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `aud ["other"] does not include the client ID "client-1"`,
		},
		{
			name: "several audiences without azp",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["aud"] = []string{testClientID, "other"}
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `several audiences ["client-1" "other"] and no azp`,
		},
		{
			name: "azp naming another client",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["aud"] = []string{testClientID, "other"}
				c["azp"] = "other"
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `azp "other" is not the client ID "client-1"`,
		},
		{
			name: "several audiences with our azp",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["aud"] = []string{testClientID, "other"}
				c["azp"] = testClientID
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
		},
		{
			name: "expired",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["iat"] = t0.Add(-time.Hour).Unix()
				c["exp"] = t0.Add(-3 * time.Minute).Unix()
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "expired at 2025-06-15T15:03:40Z",
		},
		{
			name: "expired within the clock skew",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["iat"] = t0.Add(-time.Hour).Unix()
				c["exp"] = t0.Add(-time.Minute).Unix()
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
		},
		{
			name: "expired without skew",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["exp"] = t0.Add(-time.Second).Unix()
				o := idOpts()
				o.ClockSkew = 0
				return sign(t, k1, jose.RS256, "k1", c), o
			},
			wantClass: failure.Verification, wantFrag: "expired at",
		},
		{
			name: "exp missing",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				delete(c, "exp")
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "exp is missing",
		},
		{
			name: "exp not a number",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["exp"] = "tomorrow"
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "exp is not a number",
		},
		{
			name: "iat out of range",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["iat"] = 1e300
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "iat is out of range",
		},
		{
			name: "nbf in the future",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["nbf"] = t0.Add(3 * time.Minute).Unix()
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "not valid before",
		},
		{
			name: "iat missing",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				delete(c, "iat")
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "iat is missing",
		},
		{
			name: "iat in the future beyond the skew",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["iat"] = t0.Add(3 * time.Minute).Unix()
				c["exp"] = t0.Add(time.Hour).Unix()
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "is in the future",
		},
		{
			name: "iat in the future within the skew",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["iat"] = t0.Add(time.Minute).Unix()
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
		},
		{
			name: "max_age: auth_time recent enough",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["auth_time"] = t0.Add(-11 * time.Minute).Unix()
				o := idOpts()
				o.MaxAge = ptr(10 * time.Minute) // 11m is within 10m + 2m skew
				return sign(t, k1, jose.RS256, "k1", c), o
			},
		},
		{
			name: "max_age: auth_time too old",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["auth_time"] = t0.Add(-13 * time.Minute).Unix()
				o := idOpts()
				o.MaxAge = ptr(10 * time.Minute)
				return sign(t, k1, jose.RS256, "k1", c), o
			},
			wantClass: failure.Verification, wantFrag: "older than max_age",
		},
		{
			name: "max_age 0: a sign-in just now",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["auth_time"] = t0.Unix()
				o := idOpts()
				o.MaxAge = ptr(time.Duration(0))
				return sign(t, k1, jose.RS256, "k1", c), o
			},
		},
		{
			name: "max_age: auth_time missing",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				o := idOpts()
				o.MaxAge = ptr(10 * time.Minute)
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), o
			},
			wantClass: failure.Verification, wantFrag: "auth_time is missing",
		},
		{
			name: "max_age: auth_time not a number",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["auth_time"] = "yesterday"
				o := idOpts()
				o.MaxAge = ptr(10 * time.Minute)
				return sign(t, k1, jose.RS256, "k1", c), o
			},
			wantClass: failure.Verification, wantFrag: "auth_time is not a number",
		},
		{
			name: "no max_age: an old auth_time is fine",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["auth_time"] = t0.Add(-100 * time.Hour).Unix()
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
		},
		{
			name: "sub missing",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				delete(c, "sub")
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "sub is missing",
		},
		{
			name: "sub empty",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["sub"] = ""
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "sub is missing",
		},
		{
			name: "nonce missing",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				delete(c, "nonce")
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "nonce is missing, though one was sent",
		},
		{
			name: "nonce different",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["nonce"] = "another"
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "nonce does not match the one sent",
		},
		{
			name: "no nonce without NoNonce is a usage error",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				o := idOpts()
				o.Nonce = ""
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), o
			},
			wantClass: failure.Usage, wantFrag: "no nonce to compare",
			wantJWKSHits: -1,
		},
		{
			name: "NoNonce ignores the nonce",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				delete(c, "nonce")
				o := idOpts()
				o.Nonce, o.NoNonce = "", true
				return sign(t, k1, jose.RS256, "k1", c), o
			},
		},
		{
			name: "at_hash right",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["at_hash"] = halfHash(sha256.New(), "access-1")
				o := idOpts()
				o.AccessToken, o.RequireAtHash = "access-1", true
				return sign(t, k1, jose.RS256, "k1", c), o
			},
		},
		{
			name: "at_hash right with SHA-384 for RS384",
			setup: func(ti *testIssuer) {
				ti.meta["id_token_signing_alg_values_supported"] = []string{"RS384"}
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["at_hash"] = halfHash(sha512.New384(), "access-1")
				o := idOpts()
				o.AccessToken = "access-1"
				return sign(t, k1, jose.RS384, "k1", c), o
			},
		},
		{
			name: "at_hash with SHA-256 for RS512",
			setup: func(ti *testIssuer) {
				ti.meta["id_token_signing_alg_values_supported"] = []string{"RS512"}
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["at_hash"] = halfHash(sha256.New(), "access-1")
				o := idOpts()
				o.AccessToken = "access-1"
				return sign(t, k1, jose.RS512, "k1", c), o
			},
			wantClass: failure.Verification, wantFrag: "at_hash does not match the access token",
		},
		{
			name: "at_hash wrong",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["at_hash"] = halfHash(sha256.New(), "another-access-token")
				o := idOpts()
				o.AccessToken = "access-1"
				return sign(t, k1, jose.RS256, "k1", c), o
			},
			wantClass: failure.Verification, wantFrag: "at_hash does not match the access token",
		},
		{
			name: "at_hash missing on id_token token",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				o := idOpts()
				o.AccessToken, o.RequireAtHash = "access-1", true
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), o
			},
			wantClass: failure.Verification, wantFrag: "at_hash is missing",
		},
		{
			name: "at_hash missing in the code flow",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				o := idOpts()
				o.AccessToken = "access-1"
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), o
			},
		},
		{
			name: "c_hash right",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["c_hash"] = halfHash(sha256.New(), "code-1")
				o := idOpts()
				o.Code, o.RequireCHash = "code-1", true
				return sign(t, k1, jose.RS256, "k1", c), o
			},
		},
		{
			name: "c_hash wrong",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["c_hash"] = halfHash(sha256.New(), "code-2")
				o := idOpts()
				o.Code = "code-1"
				return sign(t, k1, jose.RS256, "k1", c), o
			},
			wantClass: failure.Verification, wantFrag: "c_hash does not match the authorization code",
		},
		{
			name: "c_hash missing when required",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				o := idOpts()
				o.Code, o.RequireCHash = "code-1", true
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), o
			},
			wantClass: failure.Verification, wantFrag: "c_hash is missing",
		},
		{
			name: "kid not in the JWKS even after one refetch",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k3, jose.RS256, "k9", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `key "k9" is not in the JWKS at http://127.0.0.1`,
			wantJWKSHits: 2,
		},
		{
			name: "JWKS with only use:enc keys",
			setup: func(ti *testIssuer) {
				ti.keys = func(int) []jose.JSONWebKey { return []jose.JSONWebKey{jwk(k1, "k1", "", "enc")} }
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `even after a refetch: it holds no signing keys (skipped: 1 marked use "enc")`,
			wantJWKSHits: 2,
		},
		{
			name: "use:enc key beside a signing key with the same material",
			setup: func(ti *testIssuer) {
				ti.keys = func(int) []jose.JSONWebKey {
					return []jose.JSONWebKey{jwk(k1, "enc1", "", "enc"), jwk(k2, "k2", "", "sig")}
				}
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.RS256, "", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "verifies with none of the 1 RS256 keys",
		},
		{
			name: "JWS JSON serialization",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k1, KeyID: "k1"}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				p, _ := json.Marshal(idClaims(e.iss))
				jws, err := signer.Sign(p)
				if err != nil {
					t.Fatal(err)
				}
				return jws.FullSerialize(), idOpts()
			},
			wantClass: failure.Verification, wantFrag: "JWS JSON serialization is not accepted",
			wantJWKSHits: -1,
		},
		{
			name: "two segments",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				raw := sign(t, k1, jose.RS256, "k1", idClaims(e.iss))
				return raw[:strings.LastIndex(raw, ".")], idOpts()
			},
			wantClass: failure.Verification, wantFrag: "2 dot-separated segments; a compact JWS has 3",
			wantJWKSHits: -1,
		},
		{
			name: "four segments",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)) + ".e30", idOpts()
			},
			wantClass: failure.Verification, wantFrag: "4 dot-separated segments; a compact JWS has 3",
			wantJWKSHits: -1,
		},
		{
			name: "padded base64",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)) + "==", idOpts()
			},
			wantClass: failure.Verification, wantFrag: "segment 3 holds characters outside unpadded base64url",
		},
		{
			name: "no kid, one key",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.RS256, "", idClaims(e.iss)), idOpts()
			},
			wantJWKSHits: 1,
		},
		{
			name: "no kid, several keys",
			setup: func(ti *testIssuer) {
				ti.keys = func(int) []jose.JSONWebKey {
					return []jose.JSONWebKey{jwk(k1, "k1", "RS256", "sig"), jwk(ec, "ec1", "ES256", "sig"), jwk(k2, "k2", "RS256", "sig")}
				}
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k2, jose.RS256, "", idClaims(e.iss)), idOpts()
			},
			wantJWKSHits: 1,
		},
		{
			name: "access token type offered as ID token",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k1, KeyID: "k1"}},
					(&jose.SignerOptions{}).WithType("at+jwt"))
				if err != nil {
					t.Fatal(err)
				}
				p, _ := json.Marshal(idClaims(e.iss))
				jws, _ := signer.Sign(p)
				raw, _ := jws.CompactSerialize()
				return raw, idOpts()
			},
			wantClass: failure.Verification, wantFrag: `typ "at+jwt" marks an access token`,
		},
		{
			// A distributed claim whose source is missing is malformed
			// (OpenID Connect Core 5.6.2).
			name: "_claim_names without its source",
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				c := idClaims(e.iss)
				c["_claim_names"] = map[string]string{"groups": "src1"}
				return sign(t, k1, jose.RS256, "k1", c), idOpts()
			},
			wantClass: failure.Verification, wantFrag: `ID token: _claim_names maps "groups" to the source "src1", which _claim_sources does not hold`,
		},
		{
			name: "JWKS answers 500",
			setup: func(ti *testIssuer) {
				ti.jwks = func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "internal error: secret-stack-trace", http.StatusInternalServerError)
				}
			},
			token: func(t *testing.T, e env) (string, IDTokenOptions) {
				return sign(t, k1, jose.RS256, "k1", idClaims(e.iss)), idOpts()
			},
			wantClass: failure.Provider, wantFrag: "JWKS at http://127.0.0.1",
			wantJWKSHits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := newIssuer(t, jwk(k1, "k1", "", ""))
			if tt.setup != nil {
				ti.set(tt.setup)
			}
			p := ti.discover(t)
			raw, o := tt.token(t, env{iss: ti.URL, ti: ti})
			tok, err := p.VerifyIDToken(testCtx(t), raw, o)
			if tt.wantClass == "" {
				if err != nil {
					t.Fatalf("VerifyIDToken: %v", err)
				}
				if tok.Raw != raw || tok.Claims()["sub"] != "alice" || tok.Header["alg"] == nil {
					t.Errorf("token = %+v", tok)
				}
			} else {
				t.Logf("%s: %v", failure.ClassOf(err), err)
				wantFailure(t, err, tt.wantClass, tt.wantFrag, raw, strings.Split(raw, ".")[0], "secret-stack-trace")
			}
			switch hits := ti.jwksHits.Load(); {
			case tt.wantJWKSHits == -1 && hits != 0:
				t.Errorf("JWKS fetched %d times, want none (refused before any key)", hits)
			case tt.wantJWKSHits > 0 && hits != tt.wantJWKSHits:
				t.Errorf("JWKS fetched %d times, want %d", hits, tt.wantJWKSHits)
			}
		})
	}
}

func TestLeftHalfHash(t *testing.T) {
	// The example of OpenID Connect Core A.3: at_hash of this access token
	// with RS256.
	got, err := leftHalfHash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNKjkv0HXA8mlrcfuAEmGc7BZnKvKlQUPlNo6GN9hvMN8wfRTdhwNwIhAyBdHzH3q7j8mwQvAn1YQXeHV4aTkuaQhl3Xb7sTtSS3bzFx3ZPHHKl6p7U3FHr6ve0GJ9AJeM9tF1")
	if err != nil {
		t.Fatal(err)
	}
	want := halfHash(sha256.New(), "jHkWEdUXMU1BwAsC4vtUsZwnNKjkv0HXA8mlrcfuAEmGc7BZnKvKlQUPlNo6GN9hvMN8wfRTdhwNwIhAyBdHzH3q7j8mwQvAn1YQXeHV4aTkuaQhl3Xb7sTtSS3bzFx3ZPHHKl6p7U3FHr6ve0GJ9AJeM9tF1")
	if got != want {
		t.Errorf("RS256: %s, want %s", got, want)
	}
	for alg, size := range map[string]int{"RS256": 16, "ES384": 24, "PS512": 32, "EdDSA": 32} {
		h, err := leftHalfHash(alg, "x")
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := base64.RawURLEncoding.DecodeString(h); len(b) != size {
			t.Errorf("%s: %d bytes, want %d", alg, len(b), size)
		}
	}
	if _, err := leftHalfHash("XY1", "x"); err == nil {
		t.Error("unknown alg: no error")
	}
}

func TestVerifyIDTokenConcurrent(t *testing.T) {
	k1 := rsaKeys()[0]
	ti := newIssuer(t, jwk(k1, "k1", "", ""))
	p := ti.discover(t)
	raw := sign(t, k1, jose.RS256, "k1", idClaims(ti.URL))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := p.VerifyIDToken(testCtx(t), raw, idOpts())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if hits := ti.jwksHits.Load(); hits != 1 {
		t.Errorf("JWKS fetched %d times by concurrent verifications, want 1", hits)
	}
}

func ptr[T any](v T) *T { return &v }

// TestIsBase64URLAlphabet holds isBase64URL to the unpadded base64url
// alphabet of RFC 4648 section 5, byte by byte.
func TestIsBase64URLAlphabet(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for c := range 256 {
		want := strings.IndexByte(alphabet, byte(c)) >= 0
		if got := isBase64URL(string([]byte{byte(c)})); got != want {
			t.Errorf("isBase64URL(%q) = %v, want %v", byte(c), got, want)
		}
		if got := isBase64URL("abc" + string([]byte{byte(c)}) + "xyz"); got != want {
			t.Errorf("isBase64URL with %q inside = %v, want %v", byte(c), got, want)
		}
	}
	if !isBase64URL("") || !isBase64URL(alphabet) || isBase64URL(alphabet+"=") {
		t.Error("isBase64URL: wrong on the empty string, the alphabet, or padding")
	}
}

func BenchmarkIsBase64URL(b *testing.B) {
	s := strings.Repeat("eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoLTEifQ-_", 20)
	for b.Loop() {
		if !isBase64URL(s) {
			b.Fatal("not base64url")
		}
	}
}
