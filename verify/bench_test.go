package verify

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// BenchmarkVerifyIDToken measures a whole ID token verification with the
// key set warm: parsing, the header checks, the RS256 signature and every
// claim check. BenchmarkRawRS256 is the floor: the same token's signature
// alone with crypto/rsa. Their ratio is the cost of everything else.
func BenchmarkVerifyIDToken(b *testing.B) {
	k1 := rsaKeys()[0]
	ti := newIssuer(b, jwk(k1, "k1", "", ""))
	p := ti.discover(b)
	raw := sign(b, k1, jose.RS256, "k1", idClaims(ti.URL))
	ctx := testCtx(b)
	o := idOpts()
	if _, err := p.VerifyIDToken(ctx, raw, o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.VerifyIDToken(ctx, raw, o); err != nil {
			b.Fatal(err)
		}
	}
	if hits := ti.jwksHits.Load(); hits != 1 {
		b.Fatalf("JWKS fetched %d times", hits)
	}
}

func BenchmarkRawRS256(b *testing.B) {
	k1 := rsaKeys()[0]
	raw := sign(b, k1, jose.RS256, "k1", idClaims("http://127.0.0.1:1"))
	i := strings.LastIndex(raw, ".")
	input := []byte(raw[:i])
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(&k1.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
