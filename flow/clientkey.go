package flow

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// ClientKey is a private key that signs the client assertions of
// private_key_jwt (RFC 7523, OpenID Connect Core §9). Neither it nor the
// file it came from ever appears in a message.
type ClientKey struct {
	signer crypto.Signer
	// KeyID is the kid of the assertions' header; empty leaves kid out.
	KeyID string
	// File names the key in messages: the file it was read from.
	File string
}

// maxKeyFile bounds a key file: a PEM or JWK private key is a few KiB, and
// anything much larger is not one.
const maxKeyFile = 64 << 10

// minRSABits is the smallest RSA key RFC 7518 §3.3 allows for RS256.
const minRSABits = 2048

// LoadClientKey reads a private key from file: PEM (PKCS#8 "PRIVATE KEY",
// PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY"; certificates and EC
// parameters beside it are skipped) or JSON (a JWK, or a JWKS holding one
// key). RSA (2048 bits or more), EC P-256, P-384 and P-521, and Ed25519 keys
// are taken. keyID, when not empty, is the kid; otherwise a JWK's own kid
// is. Every error is failure.Usage, names the file and says what is wrong
// without quoting the file's content: unreadable, encrypted, a public key
// or a certificate only, more than one private key, or not a key at all.
func LoadClientKey(file, keyID string) (*ClientKey, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, keyError(file, "cannot be read: %w", pathless(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, keyError(file, "cannot be read: %w", pathless(err))
	}
	if len(data) > maxKeyFile {
		return nil, keyError(file, "is larger than %d KiB: not a private key file", maxKeyFile>>10)
	}
	return ParseClientKey(data, file, keyID)
}

// pathless is err without the *os.PathError's repetition of the file name,
// which the message names already.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ParseClientKey parses a key file's content as LoadClientKey does; name is
// the file's name, for messages.
func ParseClientKey(data []byte, name, keyID string) (*ClientKey, error) {
	trimmed := bytes.TrimSpace(data)
	var (
		signer crypto.Signer
		kid    string
		err    error
	)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		signer, kid, err = parseJWKKey(trimmed, name)
	} else {
		signer, err = parsePEMKey(data, name)
	}
	if err != nil {
		return nil, err
	}
	if err := checkKey(signer, name); err != nil {
		return nil, err
	}
	if keyID != "" {
		kid = keyID
	}
	return &ClientKey{signer: signer, KeyID: kid, File: name}, nil
}

func keyError(file, format string, args ...any) error {
	return failure.New(failure.Usage, "client key "+file, format, args...)
}

func parsePEMKey(data []byte, name string) (crypto.Signer, error) {
	var (
		found  crypto.Signer
		public bool
		cert   bool
		blocks int
	)
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		if b.Headers["Proc-Type"] == "4,ENCRYPTED" || b.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, keyError(name, "is encrypted: claimcheck needs the private key unencrypted (openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8), kept where only you can read it")
		}
		var (
			k   any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "PUBLIC KEY", "RSA PUBLIC KEY":
			public = true
			continue
		case "CERTIFICATE":
			cert = true
			continue
		default:
			// EC PARAMETERS (openssl ecparam -genkey writes them) and
			// anything else that is not a key.
			continue
		}
		if err != nil {
			return nil, keyError(name, "has a %s block that is not a valid key of that type", b.Type)
		}
		if found != nil {
			return nil, keyError(name, "holds more than one private key: keep only the one to sign with")
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, keyError(name, "holds a key of a type that cannot sign (want RSA, EC or Ed25519)")
		}
		found = s
	}
	switch {
	case found != nil:
		return found, nil
	case public:
		return nil, keyError(name, "holds a public key: private_key_jwt signs with the private key (the provider holds the public one)")
	case cert:
		return nil, keyError(name, "holds a certificate but no private key")
	case blocks == 0:
		return nil, keyError(name, "is neither PEM nor a JWK (JSON)")
	}
	return nil, keyError(name, "has no private key (want a PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)")
}

func parseJWKKey(data []byte, name string) (crypto.Signer, string, error) {
	var probe struct {
		Keys json.RawMessage `json:"keys"`
	}
	// The JSON decoder's own errors quote the input: never shown.
	if json.Unmarshal(data, &probe) != nil {
		return nil, "", keyError(name, "is not valid JSON (want a JWK or a JWKS with one key)")
	}
	var jwk jose.JSONWebKey
	if probe.Keys != nil {
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if json.Unmarshal(data, &set) != nil {
			return nil, "", keyError(name, "has a keys member that is not a list of JWKs")
		}
		if len(set.Keys) != 1 {
			return nil, "", keyError(name, "is a JWKS with %d keys: it must hold exactly the one to sign with", len(set.Keys))
		}
		data = set.Keys[0]
	}
	if jwk.UnmarshalJSON(data) != nil {
		return nil, "", keyError(name, "is not a valid JWK")
	}
	if _, ok := jwk.Key.([]byte); ok {
		return nil, "", keyError(name, "holds a symmetric (oct) key: private_key_jwt needs an RSA, EC or OKP private key; a shared secret is client_secret_jwt's, from CLAIMCHECK_CLIENT_SECRET")
	}
	if jwk.IsPublic() {
		return nil, "", keyError(name, "holds a public key (no private part \"d\"): private_key_jwt signs with the private key")
	}
	s, ok := jwk.Key.(crypto.Signer)
	if !ok {
		return nil, "", keyError(name, "holds a key of a type that cannot sign (want RSA, EC or Ed25519)")
	}
	return s, jwk.KeyID, nil
}

func checkKey(s crypto.Signer, name string) error {
	switch k := s.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return keyError(name, "is an RSA key of %d bits; RS256 and its kin need at least %d (RFC 7518 §3.3)", k.N.BitLen(), minRSABits)
		}
	case *ecdsa.PrivateKey:
		if ecAlg(k.Curve) == "" {
			return keyError(name, "is an EC key on a curve JWS has no algorithm for (want P-256, P-384 or P-521)")
		}
	case ed25519.PrivateKey:
	default:
		return keyError(name, "holds a key of a type that cannot sign client assertions (want RSA, EC or Ed25519)")
	}
	return nil
}

func ecAlg(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

// Algorithms are the JWS algorithms the key can sign with, the usual one
// first: RS256, RS384, RS512, PS256, PS384, PS512 for RSA; the curve's ES
// algorithm for EC; EdDSA for Ed25519.
func (k *ClientKey) Algorithms() []string {
	switch s := k.signer.(type) {
	case *rsa.PrivateKey:
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PrivateKey:
		return []string{ecAlg(s.Curve)}
	case ed25519.PrivateKey:
		return []string{"EdDSA"}
	}
	return nil
}

// Public is the public half of the key, for a test that checks a signature
// or registers the key with a provider.
func (k *ClientKey) Public() crypto.PublicKey { return k.signer.Public() }

// kind names the key's type in messages.
func (k *ClientKey) kind() string {
	switch s := k.signer.(type) {
	case *rsa.PrivateKey:
		return "an RSA key"
	case *ecdsa.PrivateKey:
		return "an EC " + s.Curve.Params().Name + " key"
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	}
	return "a key"
}
