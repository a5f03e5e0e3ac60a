package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// rawJWT builds a compact JWS from a header and a payload given as JSON
// text, signed by sign over the signing input (nil: an empty signature).
func rawJWT(header, payload string, sign func(input []byte) []byte) string {
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64(sig)
}

func rs256(k *rsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		d := sha256.Sum256(in)
		s, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
		if err != nil {
			panic(err)
		}
		return s
	}
}

func es256(k *ecdsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		d := sha256.Sum256(in)
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// with returns a copy of claims with the changes applied (a nil value
// deletes the claim).
func with(claims map[string]any, changes map[string]any) map[string]any {
	c := map[string]any{}
	for k, v := range claims {
		c[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// verdict is what the differential test compares: accepted or not, the
// failure class, "not verifiable", and the verified claims.
type verdict struct {
	OK            bool
	Class         failure.Class
	NotVerifiable bool
	Claims        map[string]any
}

func verdictOf(tok *Token, err error) verdict {
	if err != nil {
		var nv *NotVerifiableError
		return verdict{Class: failure.ClassOf(err), NotVerifiable: errors.As(err, &nv)}
	}
	return verdict{OK: true, Claims: tok.Claims}
}

// corpusCase is one token of the differential corpus.
type corpusCase struct {
	name string
	raw  string
	// wantOK is the expected verdict of the ID token path with NoNonce,
	// so that the corpus cannot silently become all-pass or all-fail.
	wantOK bool
}

// differentialCorpus builds tokens for the issuer at iss: valid ones of
// every key type and each kind of bad token of the hardening issue, plus
// the corners where go-oidc and go-jose have rules of their own.
func differentialCorpus(t *testing.T, iss string) []corpusCase {
	k1, k2 := rsaKeys()[0], rsaKeys()[1]
	ec := ecKey()
	base := idClaims(iss)
	delete(base, "nonce")
	rsHeader := `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	pub, err := x509.MarshalPKIXPublicKey(k1.Public())
	if err != nil {
		t.Fatal(err)
	}
	valid := sign(t, k1, jose.RS256, "k1", base)
	parts := strings.Split(valid, ".")
	// A header segment with non-zero padding bits decodes to the same
	// bytes; go-jose verifies over the re-encoding.
	nonCanonical := func(raw string) string {
		p := strings.Split(raw, ".")
		h := p[0]
		if len(h)%4 == 0 {
			return raw
		}
		last := h[len(h)-1]
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		i := strings.IndexByte(alphabet, last)
		p[0] = h[:len(h)-1] + string(alphabet[i|1])
		return strings.Join(p, ".")
	}
	hsKeyed := func(in []byte) []byte {
		m := hmac.New(sha256.New, pub)
		m.Write(in)
		return m.Sum(nil)
	}
	at := func(d time.Duration) int64 { return t0.Add(d).Unix() }

	cases := []corpusCase{
		{name: "valid RS256", raw: valid, wantOK: true},
		{name: "valid with nonce", raw: sign(t, k1, jose.RS256, "k1", idClaims(iss)), wantOK: true},
		{name: "valid ES256", raw: sign(t, ec, jose.ES256, "e1", base), wantOK: true},
		{name: "valid PS256", raw: sign(t, k1, jose.PS256, "k1", base), wantOK: true},
		{name: "valid without kid", raw: sign(t, k1, jose.RS256, "", base), wantOK: true},
		{name: "valid with groups and extra claims", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"groups": []string{"IT", "Everyone"}, "name": "Alice <a&b>"})), wantOK: true},
		{name: "valid several aud with azp", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"aud": []string{testClientID, "api"}, "azp": testClientID})), wantOK: true},
		{name: "valid hand-built", raw: rawJWT(rsHeader, mustJSON(base), rs256(k1)), wantOK: true},
		{name: "valid crit b64 only", raw: rawJWT(`{"alg":"RS256","kid":"k1","crit":["b64"]}`, mustJSON(base), rs256(k1)), wantOK: true},
		{name: "valid aud array with the client", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"aud": []string{testClientID}})), wantOK: true},

		{name: "bad signature (other key)", raw: sign(t, k2, jose.RS256, "k1", base)},
		{name: "bad signature (tampered payload)", raw: parts[0] + "." + b64([]byte(mustJSON(with(base, map[string]any{"sub": "mallory"})))) + "." + parts[2]},
		{name: "bad signature without kid", raw: sign(t, k2, jose.RS256, "", base)},
		{name: "alg none", raw: rawJWT(`{"alg":"none","typ":"JWT"}`, mustJSON(base), nil)},
		{name: "alg None", raw: rawJWT(`{"alg":"None","kid":"k1"}`, mustJSON(base), nil)},
		{name: "HS256 keyed with the RSA public key", raw: rawJWT(`{"alg":"HS256","kid":"k1"}`, mustJSON(base), hsKeyed)},
		{name: "unadvertised alg RS384", raw: sign(t, k1, jose.RS384, "k1", base)},
		{name: "EdDSA not advertised", raw: sign(t, ed25519.NewKeyFromSeed(make([]byte, 32)), jose.EdDSA, "k1", base)},
		{name: "RS256 header on the EC key", raw: rawJWT(`{"alg":"RS256","kid":"e1"}`, mustJSON(base), rs256(k1))},
		{name: "ES256 signature of wrong length", raw: rawJWT(`{"alg":"ES256","kid":"e1"}`, mustJSON(base), func(in []byte) []byte { return es256(ec)(in)[:63] })},
		{name: "wrong iss", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"iss": iss + "/other"}))},
		{name: "iss missing", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"iss": nil}))},
		{name: "wrong aud", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"aud": "someone-else"}))},
		{name: "aud missing", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"aud": nil}))},
		{name: "aud null", raw: rawJWT(rsHeader, strings.Replace(mustJSON(base), `"aud":"client-1"`, `"aud":null`, 1), rs256(k1))},
		{name: "aud a number", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"aud": 7}))},
		{name: "several aud without azp", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"aud": []string{testClientID, "api"}}))},
		{name: "azp another client", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"azp": "other-client"}))},
		{name: "expired", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"exp": at(-10 * time.Minute), "iat": at(-20 * time.Minute)}))},
		{name: "expired within skew", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"exp": at(-time.Minute)})), wantOK: true},
		{name: "exp missing", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"exp": nil}))},
		{name: "exp null", raw: rawJWT(rsHeader, strings.Replace(mustJSON(base), `"exp":`, `"exp":null,"x":`, 1), rs256(k1))},
		{name: "exp a numeric string", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"exp": "1750000300"}))},
		{name: "exp fractional", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"exp": float64(at(5*time.Minute)) + 0.5})), wantOK: true},
		{name: "iat missing", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"iat": nil}))},
		{name: "iat in the future", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"iat": at(10 * time.Minute), "exp": at(20 * time.Minute)}))},
		{name: "nbf in the future", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"nbf": at(10 * time.Minute)}))},
		{name: "nbf null", raw: rawJWT(rsHeader, strings.Replace(mustJSON(base), `"iat":`, `"nbf":null,"iat":`, 1), rs256(k1)), wantOK: true},
		{name: "sub missing", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"sub": nil}))},
		{name: "sub empty", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"sub": ""}))},
		{name: "sub a number", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"sub": 42}))},
		{name: "nonce a number", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"nonce": 42}))},
		{name: "at_hash a number", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"at_hash": 42}))},
		{name: "iss differing in case of key", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"ISS":"https://evil.example"}`, rs256(k1))},
		{name: "sub differing in case of key, a number", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"Sub":5}`, rs256(k1))},
		{name: "sub spelled with a long s, a number", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"ſub":5}`, rs256(k1))},
		{name: "iss duplicated", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"iss":"https://evil.example"}`, rs256(k1))},
		{name: "distributed claim without source", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"_claim_names": map[string]string{"groups": "src1"}}))},
		{name: "distributed claim with source", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"_claim_names": map[string]string{"groups": "src1"}, "_claim_sources": map[string]any{"src1": map[string]string{"endpoint": "https://x.example"}}})), wantOK: true},
		{name: "kid unknown", raw: sign(t, k2, jose.RS256, "k9", base)},
		{name: "kid not a string", raw: rawJWT(`{"alg":"RS256","kid":7}`, mustJSON(base), rs256(k1))},
		{name: "typ at+jwt", raw: rawJWT(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`, mustJSON(base), rs256(k1))},
		{name: "crit unsupported", raw: rawJWT(`{"alg":"RS256","kid":"k1","crit":["exp"],"exp":1}`, mustJSON(base), rs256(k1))},
		{name: "crit unsupported without kid", raw: rawJWT(`{"alg":"RS256","crit":["exp"],"exp":1}`, mustJSON(base), rs256(k1))},
		{name: "crit not an array", raw: rawJWT(`{"alg":"RS256","kid":"k1","crit":"b64"}`, mustJSON(base), rs256(k1))},
		{name: "b64 header", raw: rawJWT(`{"alg":"RS256","kid":"k1","b64":true,"crit":["b64"]}`, mustJSON(base), rs256(k1))},
		{name: "nonce header a number", raw: rawJWT(`{"alg":"RS256","kid":"k1","nonce":1}`, mustJSON(base), rs256(k1))},
		{name: "embedded jwk not a key", raw: rawJWT(`{"alg":"RS256","kid":"k1","jwk":{"kty":"RSA"}}`, mustJSON(base), rs256(k1))},
		{name: "embedded public jwk", raw: rawJWT(`{"alg":"RS256","kid":"k1","jwk":`+mustJSON(jwk(k2, "x", "RS256", "sig"))+`}`, mustJSON(base), rs256(k1)), wantOK: true},
		{name: "x5c not certificates", raw: rawJWT(`{"alg":"RS256","kid":"k1","x5c":["AAAA"]}`, mustJSON(base), rs256(k1))},
		{name: "non-canonical base64 in the header", raw: nonCanonical(valid), wantOK: true},
		{name: "JWS JSON serialization", raw: `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`},
		{name: "2 segments", raw: parts[0] + "." + parts[1]},
		{name: "4 segments", raw: valid + ".x"},
		{name: "5 segments (JWE)", raw: valid + ".x.y"},
		{name: "empty signature segment", raw: parts[0] + "." + parts[1] + "."},
		{name: "padding in a segment", raw: parts[0] + "=." + parts[1] + "." + parts[2]},
		{name: "payload not JSON", raw: parts[0] + "." + b64([]byte("hello")) + "." + parts[2]},
		{name: "payload a JSON array", raw: rawJWT(rsHeader, `[1,2]`, rs256(k1))},
		{name: "oversize", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"pad": strings.Repeat("a", 70<<10)}))},
		{name: "opaque", raw: "2YotnFZFEjr1zCsicMWpAA"},
	}
	// Big numbers and an EC point at infinity: corners of the crypto.
	cases = append(cases, corpusCase{name: "ES256 zero signature", raw: rawJWT(`{"alg":"ES256","kid":"e1"}`, mustJSON(base), func([]byte) []byte { return make([]byte, 64) })})
	cases = append(cases, corpusCase{name: "RS256 signature of the modulus", raw: rawJWT(rsHeader, mustJSON(base), func([]byte) []byte { return new(big.Int).Set(k1.N).Bytes() })})
	return cases
}

// TestLeanPathMatchesGoOIDC is the differential test of the lean path:
// every token of the corpus, as an ID token and as an access token, with
// several option sets, gets the same verdict, class, "not verifiable" and
// claims from VerifyParsed* as from Verify* (go-oidc's verifier plus this
// package's checks), and both make the same JWKS requests.
func TestLeanPathMatchesGoOIDC(t *testing.T) {
	k1, k2 := rsaKeys()[0], rsaKeys()[1]
	_ = k2
	ec := ecKey()
	setups := []struct {
		name string
		keys []jose.JSONWebKey
		algs []string
	}{
		{"rsa and ec", []jose.JSONWebKey{jwk(k1, "k1", "", "sig"), jwk(ec, "e1", "ES256", "")}, []string{"RS256", "PS256", "ES256", "HS256"}},
		{"use enc only", []jose.JSONWebKey{jwk(k1, "k1", "", "enc")}, []string{"RS256"}},
		{"rsa, nothing advertised", []jose.JSONWebKey{jwk(k1, "k1", "RS256", "sig")}, nil},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			ti := newIssuer(t, s.keys...)
			ti.set(func(ti *testIssuer) {
				if s.algs == nil {
					ti.meta["id_token_signing_alg_values_supported"] = nil
				} else {
					ti.meta["id_token_signing_alg_values_supported"] = s.algs
				}
			})
			corpus := differentialCorpus(t, ti.URL)
			// One provider per path, each with its own refetch allowance,
			// so that both see the same sequence of fetches.
			oidcP, leanP := ti.discover(t), ti.discover(t)
			now := func() time.Time { return t0 }
			idSets := []IDTokenOptions{
				{ClientID: testClientID, NoNonce: true, ClockSkew: 2 * time.Minute, Now: now},
				{ClientID: testClientID, Nonce: testNonce, ClockSkew: 0, Now: now},
			}
			atSets := []AccessTokenOptions{
				{ClockSkew: 2 * time.Minute, Now: now},
				{Audience: "api", ClockSkew: 2 * time.Minute, Now: now},
			}
			ctx := testCtx(t)
			var oidcHits, leanHits int32
			run := func(p *Provider, lean bool, hits *int32) []verdict {
				before := ti.jwksHits.Load()
				var out []verdict
				for _, c := range corpus {
					for _, o := range idSets {
						if lean {
							out = append(out, verdictOf(p.VerifyParsedIDToken(ctx, Parse(c.raw), o)))
						} else {
							out = append(out, verdictOf(p.VerifyIDToken(ctx, c.raw, o)))
						}
					}
					for _, o := range atSets {
						if lean {
							out = append(out, verdictOf(p.VerifyParsedAccessToken(ctx, Parse(c.raw), o)))
						} else {
							out = append(out, verdictOf(p.VerifyAccessToken(ctx, c.raw, o)))
						}
					}
				}
				*hits = ti.jwksHits.Load() - before
				return out
			}
			want := run(oidcP, false, &oidcHits)
			got := run(leanP, true, &leanHits)
			// A Parser, whose cached headers serve the second parse of
			// each token, gives the same verdicts.
			var parser Parser
			for i, c := range corpus {
				for range 2 {
					v := verdictOf(leanP.VerifyParsedIDToken(ctx, parser.Parse(c.raw), idSets[0]))
					if !reflect.DeepEqual(v, want[i*(len(idSets)+len(atSets))]) {
						t.Errorf("%s through a Parser: %+v, want %+v", c.name, v, want[i*(len(idSets)+len(atSets))])
					}
				}
			}
			per := len(idSets) + len(atSets)
			accepted := 0
			for i, c := range corpus {
				for j := 0; j < per; j++ {
					w, g := want[i*per+j], got[i*per+j]
					if !reflect.DeepEqual(w, g) {
						t.Errorf("%s (option set %d): go-oidc path %+v, lean path %+v", c.name, j, w, g)
					}
				}
				if w := want[i*per]; s.name == "rsa and ec" && w.OK != c.wantOK {
					t.Errorf("%s: go-oidc path says ok=%v (%s), the corpus expects ok=%v", c.name, w.OK, w.Class, c.wantOK)
				}
				if testing.Verbose() {
					t.Logf("%-45s %+v", c.name, want[i*per])
				}
				if want[i*per].OK {
					accepted++
				}
			}
			if oidcHits != leanHits {
				t.Errorf("JWKS requests: go-oidc path %d, lean path %d", oidcHits, leanHits)
			}
			t.Logf("%d tokens x %d option sets: %d accepted as ID tokens; JWKS requests %d per path", len(corpus), per, accepted, leanHits)
		})
	}
}
