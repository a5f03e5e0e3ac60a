package harness

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI is the test certificate authority of a mutual-TLS test and what it
// issued, as PEM files in one directory: the provider's server certificate
// (for 127.0.0.1, ::1 and localhost) and client certificates.
type PKI struct {
	// CAFile holds the CA certificate: the trust of claimcheck's --ca-file
	// and ccbrowser's --trust-cert, and the CA the provider accepts client
	// certificates from.
	CAFile string
	// ServerCertFile holds the server certificate followed by the CA
	// certificate (the chain the provider presents); ServerKeyFile its key.
	ServerCertFile, ServerKeyFile string

	dir    string
	caCert *x509.Certificate
	caKey  crypto.Signer
	serial int64
}

// ClientCert is a client certificate and its key in PEM files.
type ClientCert struct {
	CertFile, KeyFile string
	// SubjectDN is the certificate's subject as RFC 4514 writes it (the
	// form of tls_client_auth_subject_dn, RFC 8705 §2.1.2).
	SubjectDN string
	// Thumbprint is the certificate's x5t#S256 (RFC 8705 §3.1).
	Thumbprint string
	// JWK is the certificate's public key as a JWK with the certificate in
	// x5c, for a self_signed_tls_client_auth client's jwks (RFC 8705 §2.2).
	JWK map[string]any
}

// NewPKI makes a CA valid for a day either side of now in dir, and a
// server certificate for the loopback addresses that it signs.
func NewPKI(dir string) (*PKI, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	p := &PKI{dir: dir, caKey: key, serial: 1}
	tmpl := p.template(pkix.Name{CommonName: "claimcheck e2e test CA"})
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("test CA: %w", err)
	}
	if p.caCert, err = x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("test CA: %w", err)
	}
	p.CAFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(p.CAFile, pemBlock("CERTIFICATE", der), 0o600); err != nil {
		return nil, fmt.Errorf("test CA: %w", err)
	}

	server := p.template(pkix.Name{CommonName: "127.0.0.1"})
	server.DNSNames = []string{"localhost"}
	server.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	server.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	certDER, keyPEM, err := p.issue(server, true)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	p.ServerCertFile = filepath.Join(dir, "server.crt")
	p.ServerKeyFile = filepath.Join(dir, "server.key")
	chain := append(pemBlock("CERTIFICATE", certDER), pemBlock("CERTIFICATE", p.caCert.Raw)...)
	if err := writeFiles(p.ServerCertFile, chain, p.ServerKeyFile, keyPEM); err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	return p, nil
}

// IssueClient makes a client certificate for the subject CN=cn,O=org that
// the CA signs (selfSigned: that its own key signs) and writes it to
// NAME.crt and NAME.key, NAME being cn.
func (p *PKI) IssueClient(cn, org string, selfSigned bool) (*ClientCert, error) {
	tmpl := p.template(pkix.Name{CommonName: cn, Organization: []string{org}})
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	der, keyPEM, err := p.issue(tmpl, !selfSigned)
	if err != nil {
		return nil, fmt.Errorf("client certificate %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("client certificate %s: %w", cn, err)
	}
	c := &ClientCert{
		CertFile:  filepath.Join(p.dir, cn+".crt"),
		KeyFile:   filepath.Join(p.dir, cn+".key"),
		SubjectDN: cert.Subject.String(),
	}
	sum := sha256.Sum256(der)
	c.Thumbprint = base64.RawURLEncoding.EncodeToString(sum[:])
	pub := cert.PublicKey.(*ecdsa.PublicKey)
	raw, err := pub.Bytes() // 0x04 || X || Y (SEC 1, uncompressed)
	if err != nil {
		return nil, fmt.Errorf("client certificate %s: %w", cn, err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	c.JWK = map[string]any{
		"kty": "EC", "crv": "P-256", "use": "sig",
		"x": b64(raw[1:33]), "y": b64(raw[33:]),
		"x5c": []string{base64.StdEncoding.EncodeToString(der)},
	}
	if err := writeFiles(c.CertFile, pemBlock("CERTIFICATE", der), c.KeyFile, keyPEM); err != nil {
		return nil, fmt.Errorf("client certificate %s: %w", cn, err)
	}
	return c, nil
}

// ClientTLSConfig is a TLS client configuration that trusts the CA alone.
func (p *PKI) ClientTLSConfig() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(p.caCert)
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

func (p *PKI) template(subject pkix.Name) *x509.Certificate {
	p.serial++
	return &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: subject,
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
}

// issue signs tmpl for a new P-256 key, by the CA when byCA, else by that
// key itself, and returns the certificate's DER and the key as PKCS#8 PEM.
func (p *PKI) issue(tmpl *x509.Certificate, byCA bool) (der, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	parent, signer := tmpl, crypto.Signer(key)
	if byCA {
		parent, signer = p.caCert, p.caKey
	}
	if der, err = x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer); err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return der, pemBlock("PRIVATE KEY", pk), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// writeFiles writes a certificate and its key, each readable by the owner
// alone.
func writeFiles(certFile string, cert []byte, keyFile string, key []byte) error {
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyFile, key, 0o600)
}
