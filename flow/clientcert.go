package flow

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"os"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// Mutual-TLS client authentication (RFC 8705 §2).
const (
	// AuthTLSClient authenticates the client by a certificate a CA issued
	// (RFC 8705 §2.1): the provider matches its subject or a SAN.
	AuthTLSClient = "tls_client_auth"
	// AuthSelfSignedTLSClient authenticates the client by a certificate
	// registered with the provider (RFC 8705 §2.2), usually self-signed.
	AuthSelfSignedTLSClient = "self_signed_tls_client_auth"
)

// usesTLSClientAuth says whether method authenticates with the TLS client
// certificate.
func usesTLSClientAuth(method string) bool {
	return method == AuthTLSClient || method == AuthSelfSignedTLSClient
}

// maxCertFile bounds a certificate file: a chain of a few certificates is
// a few KiB.
const maxCertFile = 256 << 10

// ClientCertificate is a TLS client certificate (with the chain that came
// with it) and its private key, presented by every request that
// authenticates the client in mutual TLS (RFC 8705) and that binds access
// tokens to it. Neither it nor its files' content appears in a message.
type ClientCertificate struct {
	tls tls.Certificate
	// File and KeyFile name the certificate and its key in messages.
	File, KeyFile string
}

// LoadClientCertificate reads a PEM certificate file (the client's
// certificate first, then any intermediate CA certificates; a private key
// in the same file is skipped) and pairs it with key, which must be the
// certificate's private key. Every error is failure.Usage and names the
// file, or both files for a key that does not match.
func LoadClientCertificate(file string, key *ClientKey) (*ClientCertificate, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, certError(file, "cannot be read: %w", pathless(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCertFile+1))
	if err != nil {
		return nil, certError(file, "cannot be read: %w", pathless(err))
	}
	if len(data) > maxCertFile {
		return nil, certError(file, "is larger than %d KiB: not a certificate file", maxCertFile>>10)
	}
	return ParseClientCertificate(data, file, key, time.Now())
}

// ParseClientCertificate parses a certificate file's content as
// LoadClientCertificate does; name is the file's name, for messages, and
// now the time the certificate must be valid at.
func ParseClientCertificate(data []byte, name string, key *ClientKey, now time.Time) (*ClientCertificate, error) {
	if key == nil {
		return nil, certError(name, "needs its private key (--client-key FILE)")
	}
	var ders [][]byte
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			ders = append(ders, b.Bytes)
		}
	}
	if len(ders) == 0 {
		return nil, certError(name, "holds no PEM CERTIFICATE block")
	}
	chain := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, certError(name, "has a CERTIFICATE block (number %d) that is not a valid X.509 certificate", i+1)
		}
		chain[i] = c
	}
	leaf := chain[0]
	// The provider would end the handshake with a bare TLS alert.
	if now.After(leaf.NotAfter) {
		return nil, certError(name, "expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, certError(name, "is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, failure.New(failure.Usage, "client certificate "+name, "does not match the client key %s: the key is not the certificate's private key (the first certificate in the file must be the client's own)", key.File)
	}
	return &ClientCertificate{
		tls:     tls.Certificate{Certificate: ders, PrivateKey: key.signer, Leaf: leaf},
		File:    name,
		KeyFile: key.File,
	}, nil
}

func certError(file, format string, args ...any) error {
	return failure.New(failure.Usage, "client certificate "+file, format, args...)
}

// Thumbprint is the certificate's x5t#S256 (RFC 8705 §3.1): the base64url
// SHA-256 of its DER encoding, which a certificate-bound access token's
// cnf carries.
func (c *ClientCertificate) Thumbprint() string {
	sum := sha256.Sum256(c.tls.Leaf.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Subject is the certificate's subject distinguished name (RFC 4514), what
// tls_client_auth registrations match.
func (c *ClientCertificate) Subject() string { return c.tls.Leaf.Subject.String() }

// NotAfter is the end of the certificate's validity.
func (c *ClientCertificate) NotAfter() time.Time { return c.tls.Leaf.NotAfter }

// TLSCertificate is the certificate and key for a tls.Config; its private
// key is the client key's.
func (c *ClientCertificate) TLSCertificate() tls.Certificate { return c.tls }
