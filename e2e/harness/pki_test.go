package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"testing"
)

func TestPKI(t *testing.T) {
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	roots := p.ClientTLSConfig().RootCAs
	server, err := tls.LoadX509KeyPair(p.ServerCertFile, p.ServerKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(server.Certificate) != 2 {
		t.Fatalf("the server presents %d certificates, want the leaf and the CA", len(server.Certificate))
	}
	leaf, err := x509.ParseCertificate(server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("the server certificate does not verify for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "example.com"}); err == nil {
		t.Error("the server certificate verifies for example.com")
	}

	tests := []struct {
		name       string
		cn         string
		selfSigned bool
		wantDN     string
	}{
		{name: "issued by the CA", cn: MTLSClientCN, wantDN: MTLSClientSubjectDN},
		{name: "self-signed", cn: "cc-self", selfSigned: true, wantDN: "CN=cc-self,O=" + MTLSOrganization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := p.IssueClient(tt.cn, MTLSOrganization, tt.selfSigned)
			if err != nil {
				t.Fatal(err)
			}
			if c.SubjectDN != tt.wantDN {
				t.Errorf("subject %q, want %q", c.SubjectDN, tt.wantDN)
			}
			pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
			if err != nil {
				t.Fatalf("the certificate and its key do not pair: %v", err)
			}
			cert, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(cert.Raw)
			if want := base64.RawURLEncoding.EncodeToString(sum[:]); c.Thumbprint != want {
				t.Errorf("thumbprint %s, want %s", c.Thumbprint, want)
			}
			_, err = cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			if tt.selfSigned == (err == nil) {
				t.Errorf("self-signed %v, verified by the CA: %v", tt.selfSigned, err)
			}
			// The JWK is the certificate's key, with the certificate in x5c.
			x5c, _ := c.JWK["x5c"].([]string)
			if len(x5c) != 1 || x5c[0] != base64.StdEncoding.EncodeToString(cert.Raw) {
				t.Errorf("x5c %v", c.JWK["x5c"])
			}
			coord := func(k string) []byte {
				b, err := base64.RawURLEncoding.DecodeString(c.JWK[k].(string))
				if err != nil || len(b) != 32 {
					t.Fatalf("JWK %s: %v (%d octets)", k, err, len(b))
				}
				return b
			}
			jwkKey, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, coord("x")...), coord("y")...))
			if err != nil {
				t.Fatalf("the JWK's point: %v", err)
			}
			if !jwkKey.Equal(cert.PublicKey) || c.JWK["kty"] != "EC" || c.JWK["crv"] != "P-256" {
				t.Errorf("the JWK %v is not the certificate's key", c.JWK)
			}
			for _, f := range []string{c.CertFile, c.KeyFile} {
				if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: %v, mode %v", f, err, fi.Mode())
				}
			}
		})
	}
	ca, err := os.ReadFile(p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(ca); b == nil || b.Type != "CERTIFICATE" {
		t.Errorf("%s holds no certificate", p.CAFile)
	}
}

func TestNewOIDCProviderConfigMTLS(t *testing.T) {
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	self, err := p.IssueClient("cc-self", MTLSOrganization, true)
	if err != nil {
		t.Fatal(err)
	}
	clients := func(c OIDCProviderConfig) map[string]map[string]any {
		m := map[string]map[string]any{}
		for _, cl := range c.Clients {
			m[cl["client_id"].(string)] = cl
		}
		return m
	}
	plain := clients(NewOIDCProviderConfig(OIDCProviderOptions{RedirectURIs: []string{RedirectURI(8765)}}))
	if _, ok := plain[MTLSClient.ID]; ok {
		t.Errorf("%s is registered at a provider without TLS", MTLSClient.ID)
	}
	if _, ok := plain[SelfSignedMTLSClient.ID]; ok {
		t.Errorf("%s is registered at a provider without TLS", SelfSignedMTLSClient.ID)
	}
	c := NewOIDCProviderConfig(OIDCProviderOptions{RedirectURIs: []string{RedirectURI(8765)}, PKI: p, SelfSignedCert: self})
	got := clients(c)
	mtls, ok := got[MTLSClient.ID]
	if !ok {
		t.Fatalf("no %s", MTLSClient.ID)
	}
	if mtls["token_endpoint_auth_method"] != "tls_client_auth" || mtls["tls_client_auth_subject_dn"] != MTLSClientSubjectDN || mtls["tls_client_certificate_bound_access_tokens"] != true {
		t.Errorf("%s: %v", MTLSClient.ID, mtls)
	}
	ss, ok := got[SelfSignedMTLSClient.ID]
	if !ok {
		t.Fatalf("no %s", SelfSignedMTLSClient.ID)
	}
	jwks, _ := ss["jwks"].(map[string]any)
	keys, _ := jwks["keys"].([]any)
	if ss["token_endpoint_auth_method"] != "self_signed_tls_client_auth" || len(keys) != 1 {
		t.Fatalf("%s: %v", SelfSignedMTLSClient.ID, ss)
	}
	if k, _ := keys[0].(map[string]any); k["x5c"].([]string)[0] == "" {
		t.Errorf("the jwks has no x5c: %v", k)
	}
	for _, id := range []string{MTLSClient.ID, SelfSignedMTLSClient.ID} {
		if c.DefaultResource[id] != APIResource {
			t.Errorf("%s's access tokens are not for %s (JWTs): %q", id, APIResource, c.DefaultResource[id])
		}
	}
}
