package flow

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// decodeProof verifies proof with the jwk of its own header and returns
// the header and claims.
func decodeProof(t *testing.T, proof string) (*jose.JSONWebKey, map[string]string, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse proof: %v", err)
	}
	h := jws.Signatures[0].Header
	if h.JSONWebKey == nil {
		t.Fatal("proof has no jwk header")
	}
	if !h.JSONWebKey.IsPublic() {
		t.Fatal("proof's jwk is not a public key")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("proof does not verify with its own jwk: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{"alg": h.Algorithm}
	if typ, ok := h.ExtraHeaders["typ"].(string); ok {
		hdr["typ"] = typ
	}
	return h.JSONWebKey, hdr, claims
}

func TestDPoPProofContents(t *testing.T) {
	k, err := NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	proof, err := k.NewProof(DPoPProof{Method: "GET", URL: "https://rs.example/userinfo?a=b#frag", AccessToken: "tok", Nonce: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	jwk, hdr, claims := decodeProof(t, proof)
	if hdr["typ"] != "dpop+jwt" || hdr["alg"] != "ES256" {
		t.Errorf("header = %v, want typ dpop+jwt alg ES256", hdr)
	}
	if tp, _ := Thumbprint(*jwk); tp != k.Thumbprint() {
		t.Errorf("jwk thumbprint %s, key's %s", tp, k.Thumbprint())
	}
	sum := sha256.Sum256([]byte("tok"))
	want := map[string]any{"htm": "GET", "htu": "https://rs.example/userinfo", "nonce": "n1", "ath": base64.RawURLEncoding.EncodeToString(sum[:])}
	for name, v := range want {
		if claims[name] != v {
			t.Errorf("%s = %v, want %v", name, claims[name], v)
		}
	}
	if iat, _ := claims["iat"].(float64); time.Since(time.Unix(int64(iat), 0)).Abs() > time.Minute {
		t.Errorf("iat = %v, not now", claims["iat"])
	}
	jti, _ := claims["jti"].(string)
	if len(jti) < 20 {
		t.Errorf("jti = %q, want 128 random bits", jti)
	}
	again, _ := k.NewProof(DPoPProof{Method: "POST", URL: "https://as.example/token"})
	_, _, c2 := decodeProof(t, again)
	if c2["jti"] == jti {
		t.Error("two proofs share a jti")
	}
	if _, has := c2["ath"]; has {
		t.Error("a proof without an access token has ath")
	}
	if _, has := c2["nonce"]; has {
		t.Error("a proof without a nonce has one")
	}
	if strings.Contains(proof, `"d"`) {
		t.Error("the proof carries a private member")
	}
}

// TestThumbprintRFC7638 is RFC 7638 §3.1's example.
func TestThumbprintRFC7638(t *testing.T) {
	const jwk = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(jwk)); err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(k)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
}

func TestLoadDPoPKey(t *testing.T) {
	k, err := NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	priv := jose.JSONWebKey{Key: k.signer}
	b, _ := priv.MarshalJSON()
	file := filepath.Join(t.TempDir(), "dpop.jwk")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDPoPKey(file)
	if err != nil {
		t.Fatal(err)
	}
	if got.Thumbprint() != k.Thumbprint() || got.Alg() != "ES256" {
		t.Errorf("loaded key: thumbprint %s alg %s, want %s ES256", got.Thumbprint(), got.Alg(), k.Thumbprint())
	}
	if _, err := LoadDPoPKey(filepath.Join(t.TempDir(), "missing")); failure.ClassOf(err) != failure.Usage {
		t.Errorf("missing file: %v, want a usage error", err)
	}
}

// dpopTokenServer is a token endpoint on 127.0.0.1 that wants a DPoP
// proof with its nonce; asks is how many times it answers use_dpop_nonce
// (each time with a new nonce) before issuing a token.
func dpopTokenServer(t *testing.T, asks int32, proofs *[]string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		proof := r.Header.Get("DPoP")
		*proofs = append(*proofs, proof)
		nonce := "nonce-" + string(rune('0'+i))
		w.Header().Set("DPoP-Nonce", nonce)
		w.Header().Set("Content-Type", "application/json")
		if i <= asks {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`))
			return
		}
		w.Write([]byte(`{"access_token":"at","token_type":"DPoP","expires_in":60}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestDPoPNonceRetry(t *testing.T) {
	var proofs []string
	srv, n := dpopTokenServer(t, 1, &proofs)
	k, _ := NewDPoPKey()
	c := Config{TokenEndpoint: srv.URL + "/token", ClientID: "c", ClientSecret: "s", DPoPKey: k}
	tok, err := ClientCredentials(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != TokenTypeDPoP || n.Load() != 2 {
		t.Errorf("token_type %q after %d requests, want DPoP after 2", tok.TokenType, n.Load())
	}
	_, _, first := decodeProof(t, proofs[0])
	_, _, second := decodeProof(t, proofs[1])
	if _, has := first["nonce"]; has {
		t.Error("the first proof has a nonce before the server gave one")
	}
	if second["nonce"] != "nonce-1" || second["htm"] != "POST" || second["htu"] != srv.URL+"/token" {
		t.Errorf("second proof: %v", second)
	}
	if first["jti"] == second["jti"] {
		t.Error("the retry reused the jti")
	}
}

func TestDPoPNonceLoopBounded(t *testing.T) {
	var proofs []string
	srv, n := dpopTokenServer(t, 100, &proofs)
	k, _ := NewDPoPKey()
	c := Config{TokenEndpoint: srv.URL + "/token", ClientID: "c", ClientSecret: "s", DPoPKey: k}
	_, err := ClientCredentials(context.Background(), c)
	if failure.ClassOf(err) != failure.Provider || !strings.Contains(err.Error(), "use_dpop_nonce") {
		t.Fatalf("err = %v, want a provider error naming use_dpop_nonce", err)
	}
	if got := n.Load(); got != 1+DPoPNonceRetries {
		t.Errorf("%d requests, want %d", got, 1+DPoPNonceRetries)
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Errorf("err %T is not a *failure.Error", err)
	}
}

func TestDPoPResourceNonceAndAth(t *testing.T) {
	var n atomic.Int32
	var last string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = r.Header.Get("DPoP")
		if n.Add(1) == 1 {
			w.Header().Set("DPoP-Nonce", "rs-nonce")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"sub":"alice"}`))
	}))
	defer srv.Close()
	k, _ := NewDPoPKey()
	client := &http.Client{Transport: k.DPoPTransport(nil, nil)}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/userinfo?x=1", nil)
	req.Header.Set("Authorization", "DPoP the-token")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || n.Load() != 2 {
		t.Fatalf("status %d after %d requests", resp.StatusCode, n.Load())
	}
	_, _, claims := decodeProof(t, last)
	sum := sha256.Sum256([]byte("the-token"))
	if claims["ath"] != base64.RawURLEncoding.EncodeToString(sum[:]) || claims["nonce"] != "rs-nonce" || claims["htu"] != srv.URL+"/userinfo" || claims["htm"] != "GET" {
		t.Errorf("claims = %v", claims)
	}
}

func TestDPoPJKTInAuthorizeURL(t *testing.T) {
	k, _ := NewDPoPKey()
	req, err := NewRequest(Config{AuthorizationEndpoint: "https://as.example/auth", TokenEndpoint: "https://as.example/token",
		ClientID: "c", RedirectURI: "http://127.0.0.1:8765/callback", Scopes: []string{"openid"}, DPoPKey: k})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	if got := u.Query().Get("dpop_jkt"); got != k.Thumbprint() || got == "" {
		t.Errorf("dpop_jkt = %q, want %q", got, k.Thumbprint())
	}
}
