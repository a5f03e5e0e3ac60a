package verify

import (
	"context"
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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
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

// lineBreakSigned is rawJWT with a line break in the payload's segment,
// signed as sent, where encoding/base64 (which skips it) decodes the
// segment to as many bytes as its length says: the payload is padded
// with spaces to a multiple of three bytes.
func lineBreakSigned(header, payload string, sign func(input []byte) []byte) string {
	for len(payload)%3 != 0 {
		payload += " "
	}
	seg := b64([]byte(payload))
	input := b64([]byte(header)) + "." + seg[:4] + "\n" + seg[4:]
	return input + "." + b64(sign([]byte(input)))
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
	return verdict{OK: true, Claims: tok.Claims()}
}

// corpusCase is one token of the differential corpus.
type corpusCase struct {
	name string
	raw  string
	// wantOK is the expected verdict of the ID token check with NoNonce,
	// so that the corpus cannot silently become all-pass or all-fail.
	wantOK bool
	// diverges, when set, says why claimcheck's verdict differs from the
	// oracle's on this token: a rule of its own (refusing what go-jose
	// lets through) or a reading of the specs that go-oidc does not share.
	// The test checks that the verdicts do differ, so that a stale reason
	// cannot linger.
	diverges string
}

// differentialCorpus builds tokens for the issuer at iss: valid ones of
// every key type and each kind of bad token of the hardening issues, plus
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
		{name: "crit b64 only", raw: rawJWT(`{"alg":"RS256","kid":"k1","crit":["b64"]}`, mustJSON(base), rs256(k1)),
			diverges: "go-jose understands b64 and so accepts crit [\"b64\"]; claimcheck refuses b64, so any crit"},
		{name: "valid aud array with the client", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"aud": []string{testClientID}})), wantOK: true},

		{name: "line break in the payload, signed as sent", raw: lineBreakSigned(rsHeader, mustJSON(base), rs256(k1)),
			diverges: "go-jose skips the line break and fails the signature over its re-encoding; claimcheck refuses the segment as not base64url, so the token as not a JWT"},
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
		{name: "iss differing in case of key", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"ISS":"https://evil.example"}`, rs256(k1)), wantOK: true,
			diverges: "claim names are case-sensitive (RFC 7519 section 4): ISS is not iss; go-oidc decodes into a struct, whose field matching folds case"},
		{name: "sub differing in case of key, a number", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"Sub":5}`, rs256(k1)), wantOK: true,
			diverges: "Sub is another claim than sub (case-sensitive names); go-oidc folds it into its sub field"},
		{name: "sub spelled with a long s, a number", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"ſub":5}`, rs256(k1)), wantOK: true,
			diverges: "ſub is another claim than sub; encoding/json's struct matching folds ſ to s"},
		{name: "iss duplicated", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"iss":"https://evil.example"}`, rs256(k1))},
		{name: "distributed claim without source", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"_claim_names": map[string]string{"groups": "src1"}}))},
		{name: "distributed claim with source", raw: sign(t, k1, jose.RS256, "k1", with(base, map[string]any{"_claim_names": map[string]string{"groups": "src1"}, "_claim_sources": map[string]any{"src1": map[string]string{"endpoint": "https://x.example"}}})), wantOK: true},
		{name: "kid unknown", raw: sign(t, k2, jose.RS256, "k9", base)},
		{name: "kid not a string", raw: rawJWT(`{"alg":"RS256","kid":7}`, mustJSON(base), rs256(k1))},
		{name: "typ at+jwt", raw: rawJWT(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`, mustJSON(base), rs256(k1))},
		{name: "crit unsupported", raw: rawJWT(`{"alg":"RS256","kid":"k1","crit":["exp"],"exp":1}`, mustJSON(base), rs256(k1))},
		{name: "crit unsupported without kid", raw: rawJWT(`{"alg":"RS256","crit":["exp"],"exp":1}`, mustJSON(base), rs256(k1))},
		{name: "crit not an array", raw: rawJWT(`{"alg":"RS256","kid":"k1","crit":"b64"}`, mustJSON(base), rs256(k1))},
		{name: "b64 header", raw: rawJWT(`{"alg":"RS256","kid":"k1","b64":true,"crit":["b64"]}`, mustJSON(base), rs256(k1)),
			diverges: "b64 changes what is signed (RFC 7797) and has no place in a JWT; go-jose accepts b64 true with crit"},
		{name: "b64 header without crit", raw: rawJWT(`{"alg":"RS256","kid":"k1","b64":true}`, mustJSON(base), rs256(k1)),
			diverges: "b64 changes what is signed (RFC 7797) and has no place in a JWT; go-jose ignores it outside crit"},
		{name: "typ a number", raw: rawJWT(`{"alg":"RS256","kid":"k1","typ":7}`, mustJSON(base), rs256(k1)),
			diverges: "typ must be a string (RFC 7515 section 4.1.9); go-jose does not look at it"},
		{name: "nonce header a number", raw: rawJWT(`{"alg":"RS256","kid":"k1","nonce":1}`, mustJSON(base), rs256(k1)), wantOK: true,
			diverges: "the nonce header is ACME's (RFC 8555), meaningless in a JWT; go-jose types it, claimcheck ignores it"},
		{name: "embedded jwk not a key", raw: rawJWT(`{"alg":"RS256","kid":"k1","jwk":{"kty":"RSA"}}`, mustJSON(base), rs256(k1)), wantOK: true,
			diverges: "claimcheck never uses an embedded jwk (only the JWKS verifies), so it does not parse one; go-jose does"},
		{name: "embedded public jwk", raw: rawJWT(`{"alg":"RS256","kid":"k1","jwk":`+mustJSON(jwk(k2, "x", "RS256", "sig"))+`}`, mustJSON(base), rs256(k1)), wantOK: true},
		{name: "x5c not certificates", raw: rawJWT(`{"alg":"RS256","kid":"k1","x5c":["AAAA"]}`, mustJSON(base), rs256(k1)), wantOK: true,
			diverges: "claimcheck never uses x5c, so it does not parse it; go-jose does"},
		{name: "non-canonical base64 in the header", raw: nonCanonical(valid),
			diverges: "a segment with unused bits set is a second spelling of the same token; go-jose verifies over its re-encoding"},
		// go-jose's JSON decoder refuses duplicate header members too.
		{name: "duplicate alg in the header", raw: rawJWT(`{"alg":"HS256","kid":"k1","alg":"RS256"}`, mustJSON(base), rs256(k1))},
		{name: "duplicate kid in the header", raw: rawJWT(`{"alg":"RS256","kid":"k9","kid":"k1"}`, mustJSON(base), rs256(k1))},
		{name: "duplicate claim with equal values", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"sub":"alice"}`, rs256(k1)),
			diverges: "a duplicate claim is refused whatever its values (RFC 7519 section 4); encoding/json takes the last"},
		{name: "duplicate member in a nested claim", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"address":{"country":"NL","country":"US"}}`, rs256(k1)),
			diverges: "duplicates are refused at every depth; encoding/json takes the last"},
		{name: "invalid UTF-8 in a claim", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+",\"name\":\"Al\xffce\"}", rs256(k1)),
			diverges: "claims must be UTF-8 (RFC 7519 section 7.2); encoding/json replaces the byte with U+FFFD, so two tokens would read alike"},
		{name: "claims nested 70 deep", raw: rawJWT(rsHeader, strings.TrimSuffix(mustJSON(base), "}")+`,"deep":`+strings.Repeat("[", 70)+strings.Repeat("]", 70)+`}`, rs256(k1)),
			diverges: "nesting beyond 64 levels is an attack on the parser, not a claims set; encoding/json allows 10000"},
		{name: "PS256 with an empty salt", raw: rawJWT(`{"alg":"PS256","kid":"k1"}`, mustJSON(base), ps256Salt(k1, 0)),
			diverges: "RFC 7518 section 3.5 fixes the salt at the hash's length; go-jose auto-detects any length"},
		{name: "PS256 with a hash-length salt", raw: rawJWT(`{"alg":"PS256","kid":"k1"}`, mustJSON(base), ps256Salt(k1, 32)), wantOK: true},
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

func ps256Salt(k *rsa.PrivateKey, salt int) func([]byte) []byte {
	return func(in []byte) []byte {
		d := sha256.Sum256(in)
		s, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: salt})
		if err != nil {
			panic(err)
		}
		return s
	}
}

// oracle verifies tokens as go-oidc's IDTokenVerifier does (go-jose's
// parsing and signature check, go-oidc's iss, aud and claim decoding),
// with the keys claimcheck's key set would try for the token, and then
// applies claimcheck's claim checks to encoding/json's reading of the
// payload. Where it and claimcheck agree on a token, the parsing and the
// signature check — the parts an attacker shapes — were done twice, by
// independent code.
type oracle struct {
	p   *Provider
	set *jwks
}

// candidates are the keys claimcheck's key set tries for alg and kid.
func (o oracle) candidates(alg, kid string) []crypto.PublicKey {
	var out []crypto.PublicKey
	for _, k := range o.set.keys {
		if (kid == "" || k.kid == kid) && fitsAlg(k, alg) == "" {
			out = append(out, k.pub)
		}
	}
	return out
}

var allJOSEAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.HS256, jose.HS384, jose.HS512}

// header is go-jose's reading of the protected header, or an error where
// go-jose refuses the token's form. Only the compact serialization is
// offered to it, as claimcheck accepts no other.
func (o oracle) header(raw string) (alg, kid, typ string, err error) {
	if len(raw) > maxTokenBytes || strings.Count(raw, ".") != 2 {
		return "", "", "", errors.New("not compact")
	}
	jws, err := jose.ParseSignedCompact(raw, allJOSEAlgs)
	if err != nil {
		return "", "", "", err
	}
	// claimcheck reads a JWS whose payload is not a JSON object as no
	// JWT at all; go-oidc finds that out after the signature.
	var claims map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil || claims == nil {
		return "", "", "", errors.New("payload")
	}
	h := jws.Signatures[0].Protected
	typ, _ = h.ExtraHeaders["typ"].(string)
	return h.Algorithm, h.KeyID, typ, nil
}

func (o oracle) claims(idt *oidc.IDToken) (map[string]any, error) {
	var c map[string]any
	if err := idt.Claims(&c); err != nil || c == nil {
		return nil, errors.New("claims")
	}
	return c, nil
}

func (o oracle) idToken(ctx context.Context, raw string, opts IDTokenOptions) verdict {
	fail := verdict{Class: failure.Verification}
	alg, kid, typ, err := o.header(raw)
	if err != nil || algProblem(alg, o.p.idAlgs, nil, "") != nil || isAccessTokenType(typ) {
		return fail
	}
	v := oidc.NewVerifier(o.p.meta.Issuer, &oidc.StaticKeySet{PublicKeys: o.candidates(alg, kid)}, &oidc.Config{
		ClientID: opts.ClientID, SupportedSigningAlgs: o.p.idAlgs, SkipExpiryCheck: true,
	})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return fail
	}
	c, err := o.claims(idt)
	if err != nil || o.p.checkIDClaims(mapClaims(c), alg, opts) != nil {
		return fail
	}
	return verdict{OK: true, Claims: c}
}

func (o oracle) accessToken(ctx context.Context, raw string, opts AccessTokenOptions) verdict {
	fail := verdict{Class: failure.Verification}
	nv := verdict{Class: failure.Verification, NotVerifiable: true}
	alg, kid, _, err := o.header(raw)
	switch {
	case err != nil:
		return nv
	case strings.EqualFold(alg, "none") || !slices.Contains(asymmetricNames, alg):
		return nv
	}
	keys := o.candidates(alg, kid)
	if len(keys) == 0 {
		// A key published under the token's kid that does not fit its
		// alg cannot have signed it: that is a failure, not a key the
		// issuer keeps to itself.
		for _, k := range o.set.keys {
			if kid != "" && k.kid == kid {
				return fail
			}
		}
		return nv
	}
	v := oidc.NewVerifier(o.p.meta.Issuer, &oidc.StaticKeySet{PublicKeys: keys}, &oidc.Config{
		SkipClientIDCheck: true, SupportedSigningAlgs: asymmetricNames, SkipExpiryCheck: true,
	})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return fail
	}
	c, err := o.claims(idt)
	if err != nil || o.p.checkAccessClaims(mapClaims(c), opts) != nil {
		return fail
	}
	return verdict{OK: true, Claims: c}
}

// TestOnePathMatchesGoOIDC is the differential test of claimcheck's one
// verification path: every token of the corpus, as an ID token and as an
// access token, with several option sets, gets the same verdict, class,
// "not verifiable" and claims from claimcheck as from the oracle (go-oidc's
// verifier), except where the corpus says why they differ — and there they
// must differ, with claimcheck's verdict the corpus's.
func TestOnePathMatchesGoOIDC(t *testing.T) {
	k1 := rsaKeys()[0]
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
			p := ti.discover(t)
			ctx := testCtx(t)
			set, _, err := p.keys.current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			or := oracle{p: p, set: set}
			now := func() time.Time { return t0 }
			idSets := []IDTokenOptions{
				{ClientID: testClientID, NoNonce: true, ClockSkew: 2 * time.Minute, Now: now},
				{ClientID: testClientID, Nonce: testNonce, ClockSkew: 0, Now: now},
			}
			atSets := []AccessTokenOptions{
				{ClockSkew: 2 * time.Minute, Now: now},
				{Audience: "api", ClockSkew: 2 * time.Minute, Now: now},
			}
			var parser Parser
			// The batch calls give each token of the corpus, all in one
			// batch, the verdict the single calls give it. (Their messages
			// may differ in what they say of the key set's last refetch,
			// which the first unknown kid of either call spends.)
			batch := make([]*Parsed, len(corpus))
			for i, c := range corpus {
				batch[i] = parser.Parse(c.raw)
			}
			out, errs := make([]*Token, len(corpus)), make([]error, len(corpus))
			sameAsAlone := func(what string, i int, tok *Token, err error) {
				t.Helper()
				if got, want := verdictOf(out[i], errs[i]), verdictOf(tok, err); !reflect.DeepEqual(got, want) {
					t.Errorf("%s as %s in a batch: %+v (%v), alone %+v (%v)", corpus[i].name, what, got, errs[i], want, err)
				}
			}
			for _, o := range idSets {
				p.VerifyParsedIDTokens(ctx, batch, o, out, errs)
				for i := range corpus {
					tok, err := p.VerifyParsedIDToken(ctx, batch[i], o)
					sameAsAlone("an ID token", i, tok, err)
				}
			}
			for _, o := range atSets {
				p.VerifyParsedAccessTokens(ctx, batch, o, out, errs)
				for i := range corpus {
					tok, err := p.VerifyParsedAccessToken(ctx, batch[i], o)
					sameAsAlone("an access token", i, tok, err)
				}
			}
			accepted, differed := 0, 0
			for _, c := range corpus {
				var ours, theirs []verdict
				for _, o := range idSets {
					ours = append(ours, verdictOf(p.VerifyIDToken(ctx, c.raw, o)))
					theirs = append(theirs, or.idToken(ctx, c.raw, o))
					// Through a Parser, whose cached header serves the
					// second parse: the same verdict again.
					for range 2 {
						if v := verdictOf(p.VerifyParsedIDToken(ctx, parser.Parse(c.raw), o)); !reflect.DeepEqual(v, ours[len(ours)-1]) {
							t.Errorf("%s through a Parser: %+v, want %+v", c.name, v, ours[len(ours)-1])
						}
					}
				}
				for _, o := range atSets {
					ours = append(ours, verdictOf(p.VerifyAccessToken(ctx, c.raw, o)))
					theirs = append(theirs, or.accessToken(ctx, c.raw, o))
				}
				// claimcheck refuses a token that breaks a JOSE rule before
				// it looks for a key: as an access token without a key to
				// check it, that is a failure, where go-oidc, finding no key,
				// stops at "not verifiable".
				var r *refusedError
				if errors.As(Parse(c.raw).Err(), &r) {
					for j := len(idSets); j < len(ours); j++ {
						if reflect.DeepEqual(ours[j], verdict{Class: failure.Verification}) && reflect.DeepEqual(theirs[j], verdict{Class: failure.Verification, NotVerifiable: true}) {
							theirs[j] = ours[j]
						}
					}
				}
				same := reflect.DeepEqual(ours, theirs)
				switch {
				case c.diverges == "" && !same:
					for j := range ours {
						if !reflect.DeepEqual(ours[j], theirs[j]) {
							t.Errorf("%s (option set %d): claimcheck %+v, oracle %+v", c.name, j, ours[j], theirs[j])
						}
					}
				case c.diverges != "" && same && s.name == "rsa and ec":
					t.Errorf("%s: said to diverge (%s), but claimcheck and the oracle agree: %+v", c.name, c.diverges, ours[0])
				case c.diverges != "" && !same:
					differed++
				}
				if s.name == "rsa and ec" && ours[0].OK != c.wantOK {
					t.Errorf("%s: claimcheck says ok=%v (%s), the corpus expects ok=%v", c.name, ours[0].OK, ours[0].Class, c.wantOK)
				}
				if ours[0].OK {
					accepted++
				}
				if testing.Verbose() {
					t.Logf("%-45s ours %+v oracle %+v", c.name, ours[0], theirs[0])
				}
			}
			// One fetch, and at most one refetch for the unknown kids
			// within the rate limit.
			if hits := ti.jwksHits.Load(); hits < 1 || hits > 2 {
				t.Errorf("JWKS requests: %d, want 1 or 2", hits)
			}
			t.Logf("%d tokens x %d option sets: %d accepted as ID tokens, %d documented divergences seen", len(corpus), len(idSets)+len(atSets), accepted, differed)
		})
	}
}
