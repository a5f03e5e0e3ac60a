package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestParseRules: each rule of parseCompactInto, with its message, and
// whether it is a refusal (ErrRefused: a failure even for an access token)
// or a matter of form ("not a JWT").
func TestParseRules(t *testing.T) {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tok := func(h, p string) string { return b(h) + "." + b(p) + ".c2ln" }
	const claims = `{"iss":"https://idp","sub":"a"}`
	tests := []struct {
		name, raw, msg string
		refused        bool
	}{
		{"good", tok(`{"alg":"RS256","kid":"k1","typ":"JWT"}`, claims), "", false},
		{"embedded keys are not refused (never used)", tok(`{"alg":"RS256","jku":"http://127.0.0.1:1/k","x5u":"http://127.0.0.1:1/c","jwk":{},"x5c":[]}`, claims), "", false},
		{"duplicate alg", tok(`{"alg":"HS256","kid":"k1","alg":"RS256"}`, claims), `the header has a duplicate member "alg"`, true},
		{"duplicate claim", tok(`{"alg":"RS256"}`, `{"sub":"a","sub":"a"}`), `the payload has a duplicate member "sub"`, true},
		{"header not UTF-8", tok("{\"alg\":\"RS256\",\"x\":\"\xfe\"}", claims), "the header is not valid UTF-8", true},
		{"claims too deep", tok(`{"alg":"RS256"}`, `{"a":`+strings.Repeat("[", 80)+strings.Repeat("]", 80)+`}`), "the payload is nested deeper than 64 levels", true},
		{"crit exp", tok(`{"alg":"RS256","crit":["exp"],"exp":1}`, claims), `the header marks "exp" as critical (crit), an extension claimcheck does not implement, so the token must be refused (RFC 7515 section 4.1.11)`, true},
		{"crit empty", tok(`{"alg":"RS256","crit":[]}`, claims), "the header's crit is not a non-empty array of names (RFC 7515 section 4.1.11)", true},
		{"crit not names", tok(`{"alg":"RS256","crit":[1]}`, claims), "the header's crit is not a non-empty array of names (RFC 7515 section 4.1.11)", true},
		{"b64", tok(`{"alg":"RS256","b64":false}`, claims), "the header's b64 parameter is not allowed in a JWT", true},
		{"typ a number", tok(`{"alg":"RS256","typ":1}`, claims), "the header's typ is not a string", true},
		{"non-canonical", setUnusedBits(b(`{"alg":"RS256","kid":"k"}`)) + "." + b(claims) + ".c2ln", "segment 1 is not canonical base64url (its last character has unused bits set)", true},
		{"no alg", tok(`{"kid":"k1"}`, claims), "the header has no alg", false},
		{"kid a number", tok(`{"alg":"RS256","kid":1}`, claims), "the header's kid is not a string", false},
		{"header not JSON", b("nope") + "." + b(claims) + ".c2ln", "the header is not a JSON object", false},
		{"payload an array", tok(`{"alg":"RS256"}`, `[1]`), "the payload is not a JSON object", false},
		{"two segments", "a.b", "2 dot-separated segments; a compact JWS has 3", false},
		// encoding/base64 skips line breaks, and these two decode to as
		// many bytes as their length says: the same claims in a second
		// spelling.
		{"line break in the payload", b(`{"alg":"RS256"}`) + ".eyJp\rc3MiOiJ4eSJ9.c2ln", "segment 2 holds characters outside unpadded base64url", false},
		{"line break in the signature", tok(`{"alg":"RS256"}`, claims)[:len(tok(`{"alg":"RS256"}`, claims))-4] + "c2\nln", "segment 3 holds characters outside unpadded base64url", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Parse(tt.raw)
			err := p.Err()
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.msg {
				t.Fatalf("error %v, want %q", err, tt.msg)
			}
			if errors.Is(err, ErrRefused) != tt.refused {
				t.Errorf("errors.Is(ErrRefused) = %v, want %v", !tt.refused, tt.refused)
			}
			// A Parser refuses the same token the same way, also the
			// second time (a refused header is never cached).
			var pr Parser
			for range 2 {
				if err2 := pr.Parse(tt.raw).Err(); err2 == nil || err2.Error() != tt.msg {
					t.Errorf("through a Parser: %v", err2)
				}
			}
		})
	}
}

// setUnusedBits sets the lowest unused bit of seg's last character, giving
// another spelling of the same bytes.
func setUnusedBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		panic("no unused bits")
	}
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[i|1])
}

// TestParseFormNotRefusal: a segment that is not base64url at all is a
// matter of form ("not a JWT"), never mistaken for a non-canonical
// spelling (a refusal).
func TestParseFormNotRefusal(t *testing.T) {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	h, p := b(`{"alg":"RS256","kid":"k1"}`), b(`{"sub":"a"}`)
	for _, raw := range []string{
		h + "=." + p + ".c2ln",      // padding
		h + "x." + p + ".c2ln",      // one character too many
		h + "." + p + "!.c2ln",      // outside the alphabet
		h + "." + p + "\n.c2ln",     // a line break the decoder would skip
		h + "." + p + ".c2lu" + "x", // a signature of impossible length
	} {
		err := Parse(raw).Err()
		if err == nil || errors.Is(err, ErrRefused) {
			t.Errorf("%q: error %v, want a form error that is not a refusal", raw, err)
		}
	}
}

// TestEveryAsymmetricAlg verifies a token of each asymmetric algorithm,
// with a kid and without one (tried against every key, all with the digest
// the parse made), and refuses it with its signature's last byte changed.
func TestEveryAsymmetricAlg(t *testing.T) {
	k1, k2 := rsaKeys()[0], rsaKeys()[1]
	ecs := map[jose.SignatureAlgorithm]*ecdsa.PrivateKey{}
	for alg, curve := range map[jose.SignatureAlgorithm]elliptic.Curve{jose.ES256: elliptic.P256(), jose.ES384: elliptic.P384(), jose.ES512: elliptic.P521()} {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ecs[alg] = k
	}
	ed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			var key crypto.Signer = k1
			switch {
			case ecs[alg] != nil:
				key = ecs[alg]
			case alg == jose.EdDSA:
				key = ed
			}
			// A second key of the same type first, so that a token
			// without kid is tried against two.
			var other crypto.Signer = k2
			if _, ok := key.(*ecdsa.PrivateKey); ok {
				other = ecKey()
			}
			ti := newIssuer(t, jwk(other, "other", "", "sig"), jwk(key, "k", "", "sig"))
			ti.set(func(ti *testIssuer) { ti.meta["id_token_signing_alg_values_supported"] = []string{string(alg)} })
			p := ti.discover(t)
			o := IDTokenOptions{ClientID: testClientID, Nonce: testNonce, Now: func() time.Time { return t0 }}
			for _, kid := range []string{"k", ""} {
				raw := sign(t, key, alg, kid, idClaims(ti.URL))
				if _, err := p.VerifyIDToken(testCtx(t), raw, o); err != nil {
					t.Fatalf("kid %q: %v", kid, err)
				}
				// The signature's last character but one, all of whose
				// bits count, changed to the next of the alphabet.
				const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
				i := len(raw) - 2
				bad := raw[:i] + string(alphabet[(strings.IndexByte(alphabet, raw[i])+1)%64]) + raw[i+1:]
				if _, err := p.VerifyIDToken(testCtx(t), bad, o); err == nil {
					t.Fatalf("kid %q: a changed signature verified", kid)
				}
			}
		})
	}
}
