package harness

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
)

// WriteSigningJWKS writes a new private JWKS holding one RS256 signing key
// (2048-bit RSA, a random kid) to path, mode 0600, for oidc-provider's
// --jwks, and returns the kid.
//
// The harness makes oidc-provider's keys in Go: Node 20 can deadlock when
// it exports a freshly generated key as a JWK (a garbage collection during
// KeyObject.export destroys the key generation job, which waits for the
// lock that the export holds), which hung about one start in a hundred.
func WriteSigningJWKS(path string) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	kidBytes := make([]byte, 12)
	if _, err := rand.Read(kidBytes); err != nil {
		return "", err
	}
	b64 := func(i *big.Int) string { return base64.RawURLEncoding.EncodeToString(i.Bytes()) }
	kid := base64.RawURLEncoding.EncodeToString(kidBytes)
	jwk := map[string]string{
		"kty": "RSA",
		"kid": kid,
		"use": "sig",
		"alg": "RS256",
		"n":   b64(key.N),
		"e":   b64(big.NewInt(int64(key.E))),
		"d":   b64(key.D),
		"p":   b64(key.Primes[0]),
		"q":   b64(key.Primes[1]),
		"dp":  b64(key.Precomputed.Dp),
		"dq":  b64(key.Precomputed.Dq),
		"qi":  b64(key.Precomputed.Qinv),
	}
	b, err := json.MarshalIndent(map[string]any{"keys": []any{jwk}}, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("writing the signing key: %w", err)
	}
	return kid, nil
}

// WriteClientKey writes a new private JWK (2048-bit RSA, kid kid, alg
// RS256) to path, mode 0600, for claimcheck's --client-key, and returns
// its public half, for a client's registered jwks.
func WriteClientKey(path, kid string) (map[string]string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	b64 := func(i *big.Int) string { return base64.RawURLEncoding.EncodeToString(i.Bytes()) }
	public := map[string]string{
		"kty": "RSA",
		"kid": kid,
		"use": "sig",
		"alg": "RS256",
		"n":   b64(key.N),
		"e":   b64(big.NewInt(int64(key.E))),
	}
	private := map[string]string{
		"d":  b64(key.D),
		"p":  b64(key.Primes[0]),
		"q":  b64(key.Primes[1]),
		"dp": b64(key.Precomputed.Dp),
		"dq": b64(key.Precomputed.Dq),
		"qi": b64(key.Precomputed.Qinv),
	}
	for k, v := range public {
		private[k] = v
	}
	b, err := json.MarshalIndent(private, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("writing the client key: %w", err)
	}
	return public, nil
}
