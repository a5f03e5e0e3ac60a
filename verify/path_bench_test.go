package verify

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// benchToken is an RS256 ID token like a provider's, with groups.
func benchToken(b *testing.B) (*testIssuer, string) {
	k := rsaKeys()[0]
	ti := newIssuer(b, jwk(k, "k1", "RS256", "sig"))
	c := idClaims(ti.URL)
	delete(c, "nonce")
	c["groups"] = []string{"Everyone", "IT"}
	c["email"] = "alice@example.com"
	return ti, sign(b, k, jose.RS256, "k1", c)
}

// The three benchmarks below compare, in one run, the raw crypto/rsa
// RS256 verification of a token's signing input with claimcheck's path and
// with go-oidc's IDTokenVerifier on the same token and key — the two
// options weighed for the one verification path (go test -run XXX -bench
// Parallel -cpu 1,2 ./verify). go-oidc's figure is its verifier alone,
// without the claim checks claimcheck adds.

func BenchmarkRawRS256Parallel(b *testing.B) {
	_, raw := benchToken(b)
	i := strings.LastIndexByte(raw, '.')
	input := []byte(raw[:i])
	sig, _ := base64.RawURLEncoding.DecodeString(raw[i+1:])
	pub := &rsaKeys()[0].PublicKey
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h := sha256.Sum256(input)
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkIDTokenParallel(b *testing.B) {
	ti, raw := benchToken(b)
	p := ti.discover(b)
	ctx := testCtx(b)
	o := IDTokenOptions{ClientID: testClientID, NoNonce: true, Now: idOpts().Now}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.VerifyParsedIDToken(ctx, Parse(raw), o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGoOIDCVerifierParallel(b *testing.B) {
	ti, raw := benchToken(b)
	p := ti.discover(b)
	ctx := testCtx(b)
	v := oidc.NewVerifier(p.meta.Issuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&rsaKeys()[0].PublicKey}}, &oidc.Config{
		ClientID: testClientID, SupportedSigningAlgs: []string{"RS256"}, Now: idOpts().Now,
	})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
