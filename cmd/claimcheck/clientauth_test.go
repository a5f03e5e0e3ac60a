package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

func writeKey(t *testing.T, k *rsa.PrivateKey) (path string, body string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	path = filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, string(b)
}

// TestClientAuthPrivateKeyJWT: --client-auth private_key_jwt --client-key
// against the demo provider: the grant passes with the registered key, a
// wrong key is exit 3 with the invalid_client explained, and key files
// that are no private key are exit 2 naming the file, never its content.
func TestClientAuthPrivateKeyJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Clients: append(demo.DefaultClients(), demo.Client{ID: demo.JWTClientID, Key: &key.PublicKey, KeyID: "k1"})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	good, goodPEM := writeKey(t, key)
	wrong, wrongPEM := writeKey(t, other)
	base := []string{"--issuer", p.Issuer(), "--client-id", demo.JWTClientID, "--grant", "client_credentials", "--scopes", "openid",
		"--client-auth", "private_key_jwt", "--client-assertion-aud", "issuer", "--client-key-id", "k1", "-o", "json"}
	noKey := func(t *testing.T, out string, pems ...string) {
		t.Helper()
		for _, b := range pems {
			for _, line := range strings.Split(b, "\n") {
				if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(out, line[:20]) {
					t.Fatalf("output has key material:\n%s", out)
				}
			}
		}
		// No assertion (a JWT whose header is {"alg":"RS256","kid":"k1"...).
		if strings.Contains(out, "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIi") {
			t.Fatalf("output has a client assertion:\n%s", out)
		}
	}

	t.Run("passes", func(t *testing.T) {
		code, stdout, stderr := runMain(t, nil, append(base, "--client-key", good)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		r := decodeReport(t, stdout)
		if r.Request.ClientAuth != "private_key_jwt" || r.Request.ClientAssertion == nil ||
			r.Request.ClientAssertion.Alg != "RS256" || r.Request.ClientAssertion.KeyID != "k1" || r.Request.ClientAssertion.Audience != p.Issuer() {
			t.Errorf("request %+v %+v", r.Request, r.Request.ClientAssertion)
		}
		noKey(t, stdout+stderr, goodPEM)
	})
	t.Run("key implies the method", func(t *testing.T) {
		args := append([]string(nil), base...)
		args = append(args[:8], args[10:]...) // without --client-auth
		code, stdout, stderr := runMain(t, nil, append(args, "--client-key", good)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		code, stdout, stderr := runMain(t, nil, append(base, "--client-key", wrong)...)
		all := stdout + stderr
		if code != 3 || !strings.Contains(all, "error=invalid_client") || !strings.Contains(all, "the public key of --client-key "+wrong) {
			t.Fatalf("exit %d, want 3 with the explanation\n%s", code, all)
		}
		noKey(t, all, wrongPEM)
	})
	bad := map[string]string{
		"public.pem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----\n",
		"enc.pem":    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQIabcdefgh\n-----END ENCRYPTED PRIVATE KEY-----\n",
		"junk.txt":   "not a key at all, but a secret-ish line 0123456789",
	}
	for name, content := range bad {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			os.WriteFile(path, []byte(content), 0o600)
			code, stdout, stderr := runMain(t, nil, append(base, "--client-key", path)...)
			all := stdout + stderr
			if code != 2 || !strings.Contains(all, path) {
				t.Fatalf("exit %d, want 2 naming %s\n%s", code, path, all)
			}
			noKey(t, all, content)
			if strings.Contains(all, "0123456789") {
				t.Fatalf("output has the file's content\n%s", all)
			}
		})
	}
	t.Run("inline key", func(t *testing.T) {
		code, stdout, stderr := runMain(t, map[string]string{"CLAIMCHECK_CLIENT_KEY": goodPEM}, base...)
		all := stdout + stderr
		if code != 2 || !strings.Contains(all, "takes the name of a file holding the key") {
			t.Fatalf("exit %d\n%s", code, all)
		}
		noKey(t, all, goodPEM)
	})
	t.Run("missing file", func(t *testing.T) {
		code, stdout, stderr := runMain(t, nil, append(base, "--client-key", "/nonexistent/k.pem")...)
		if code != 2 || !strings.Contains(stdout+stderr, "/nonexistent/k.pem") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
}
