package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// joseIssuer is a provider whose JWKS publishes one good RSA key (k1) and
// three unusable ones: a 1024-bit RSA key (small), a 16384-bit modulus
// (huge) and a P-256 point off the curve (offcurve).
type joseIssuer struct {
	url         string
	k1, small   *rsa.PrivateKey
	ec          *ecdsa.PrivateKey
	jwksFetches int
}

func newJOSEIssuer(t *testing.T) *joseIssuer {
	t.Helper()
	ji := &joseIssuer{}
	var err error
	if ji.k1, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	// A 1024-bit key is what some old providers still publish; crypto/rsa
	// can still make one for a test.
	if ji.small, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		t.Fatal(err)
	}
	if ji.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	b := base64.RawURLEncoding.EncodeToString
	rsaJWK := func(kid string, n *big.Int, e int) map[string]any {
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": b(n.Bytes()), "e": b(big.NewInt(int64(e)).Bytes())}
	}
	// No real key has 16384 bits here (making one takes minutes): an odd
	// number of that size is enough, as it is refused before any use.
	huge := new(big.Int).Lsh(big.NewInt(1), 16383)
	huge.SetBit(huge, 0, 1)
	ecPoint, err := ji.ec.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	x, y := ecPoint[1:33], append([]byte(nil), ecPoint[33:]...)
	y[31] ^= 1
	keys := []any{
		rsaJWK("k1", ji.k1.N, ji.k1.E),
		rsaJWK("small", ji.small.N, ji.small.E),
		rsaJWK("huge", huge, 65537),
		map[string]any{"kty": "EC", "kid": "offcurve", "crv": "P-256", "x": b(x), "y": b(y)},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": ji.url, "authorization_endpoint": ji.url + "/authorize", "token_endpoint": ji.url + "/token",
				"jwks_uri": ji.url + "/keys", "response_types_supported": []string{"code"},
				"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
			})
		case "/keys":
			ji.jwksFetches++
			json.NewEncoder(w).Encode(map[string]any{"keys": keys})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	ji.url = srv.URL
	return ji
}

// token signs header and payload (JSON text) with key, RS256 or ES256.
func (ji *joseIssuer) token(header, payload string, key crypto.Signer) string {
	b := base64.RawURLEncoding.EncodeToString
	input := b([]byte(header)) + "." + b([]byte(payload))
	d := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, _ = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	case *ecdsa.PrivateKey:
		r, s, _ := ecdsa.Sign(rand.Reader, k, d[:])
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	}
	return input + "." + b(sig)
}

func (ji *joseIssuer) claims(extra string) string {
	now := time.Now().Unix()
	c, _ := json.Marshal(map[string]any{"iss": ji.url, "sub": "alice", "aud": "client-1", "iat": now, "exp": now + 300})
	if extra == "" {
		return string(c)
	}
	return strings.TrimSuffix(string(c), "}") + "," + extra + "}"
}

// TestVerifyJOSERules: each rule of the header, the payload and the keys
// gives the same verdict, exit status 4 and a message that names the
// problem, whether the token is an argument of claimcheck verify or a line
// of verify - (issue 11, items 1 and 7). The first case is the control: a
// good token passes both ways.
func TestVerifyJOSERules(t *testing.T) {
	ji := newJOSEIssuer(t)
	tests := []struct {
		name, token, want string
		code              int
	}{
		{"good token", ji.token(`{"alg":"RS256","kid":"k1"}`, ji.claims(""), ji.k1), "", 0},
		{"duplicate alg in the header", ji.token(`{"alg":"HS256","kid":"k1","alg":"RS256"}`, ji.claims(""), ji.k1),
			`the header has a duplicate member "alg"`, 4},
		{"duplicate claim in the payload", ji.token(`{"alg":"RS256","kid":"k1"}`, ji.claims(`"sub":"mallory"`), ji.k1),
			`the payload has a duplicate member "sub"`, 4},
		{"crit exp", ji.token(`{"alg":"RS256","kid":"k1","crit":["exp"],"exp":1}`, ji.claims(""), ji.k1),
			`marks "exp" as critical (crit), an extension claimcheck does not implement`, 4},
		{"1024-bit RSA key", ji.token(`{"alg":"RS256","kid":"small"}`, ji.claims(""), ji.small),
			`key "small" in the JWKS at ` + ji.url + `/keys is unusable: a 1024-bit RSA key, too small: at least 2048 bits are required`, 4},
		{"16384-bit RSA key", ji.token(`{"alg":"RS256","kid":"huge"}`, ji.claims(""), ji.k1),
			`key "huge" in the JWKS at ` + ji.url + `/keys is unusable: a 16384-bit RSA key, larger than the 8192 bits claimcheck accepts`, 4},
		{"EC key off its curve", ji.token(`{"alg":"ES256","kid":"offcurve"}`, ji.claims(""), ji.ec),
			`key "offcurve" in the JWKS at ` + ji.url + `/keys is unusable: an EC key whose point is not on P-256`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				args := []string{"verify", "--issuer", ji.url, "--client-id", "client-1"}
				stdin := ""
				if stream {
					args, stdin = append(args, "-"), tt.token+"\n"
				} else {
					args = append(args, tt.token)
				}
				ios, out, errOut := testIO(stdin, nil)
				code := Main(ctx, ios, args)
				cancel()
				// The stream's lines are JSON: read their quotes as quotes.
				all := strings.ReplaceAll(out.String()+errOut.String(), `\"`, `"`)
				t.Logf("CASE jose: %s (stream %v) | want %d | got %d | %.300s", tt.name, stream, tt.code, code, all)
				if code != tt.code {
					t.Errorf("stream %v: exit %d, want %d: %.600s", stream, code, tt.code, all)
				}
				if tt.want != "" && !strings.Contains(all, tt.want) {
					t.Errorf("stream %v: output does not say %q:\n%.900s", stream, tt.want, all)
				}
			}
		})
	}
}
