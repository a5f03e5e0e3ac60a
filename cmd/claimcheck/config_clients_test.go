package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// writeECKey writes a new P-256 key as PKCS#8 PEM to dir/name and returns
// its path and PEM text.
func writeECKey(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	text := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, text
}

// TestConfigFileClientKeys: the configuration file's keys of issue 13's
// client features reach the authorization request: resource,
// authorization_details, dpop_key (its thumbprint as dpop_jkt), dpop,
// request_object with client_key, client_key_id and client_auth.
func TestConfigFileClientKeys(t *testing.T) {
	issuer := startDemo(t)
	dir := t.TempDir()
	t.Chdir(dir)
	dpopPath, dpopPEM := writeECKey(t, dir, "dpop.pem")
	dk, err := flow.LoadDPoPKey(dpopPath)
	if err != nil {
		t.Fatal(err)
	}
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, ".claimcheck.yaml"), []byte("issuer: "+issuer+"\nclient_id: "+demo.PublicClientID+"\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	authorize := func(t *testing.T) url.Values {
		t.Helper()
		code, stdout, stderr := runMain(t, nil, "url")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, dpopPEM[30:80]) {
			t.Error("the key file's content is in the output")
		}
		u, err := url.Parse(strings.TrimSpace(stdout))
		if err != nil {
			t.Fatal(err)
		}
		return u.Query()
	}
	t.Run("resource, authorization_details, dpop_key", func(t *testing.T) {
		write("resource: [https://api.example/]\nauthorization_details: '[{\"type\":\"payment\"}]'\ndpop_key: dpop.pem\n")
		q := authorize(t)
		if q.Get("resource") != "https://api.example/" || q.Get("authorization_details") != `[{"type":"payment"}]` || q.Get("dpop_jkt") != dk.Thumbprint() {
			t.Errorf("authorize parameters %v", q)
		}
	})
	t.Run("dpop: a fresh key", func(t *testing.T) {
		write("dpop: true\n")
		if q := authorize(t); q.Get("dpop_jkt") == "" || q.Get("dpop_jkt") == dk.Thumbprint() {
			t.Errorf("dpop_jkt %q, want a fresh key's", q.Get("dpop_jkt"))
		}
	})
	t.Run("request_object with client_key", func(t *testing.T) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		os.WriteFile(filepath.Join(dir, "client.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
		write("request_object: true\nclient_key: client.pem\nclient_key_id: k-config\n")
		q := authorize(t)
		if q.Get("request") == "" {
			t.Fatalf("no request object: %v", q)
		}
		h, _, _ := strings.Cut(q.Get("request"), ".")
		hdr, err := base64.RawURLEncoding.DecodeString(h)
		if err != nil || !strings.Contains(string(hdr), `"kid":"k-config"`) {
			t.Errorf("request object header %s, want kid k-config", hdr)
		}
	})
	t.Run("bad values", func(t *testing.T) {
		for _, tt := range []struct{ body, want string }{
			{"dpop_key: |\n  " + strings.ReplaceAll(strings.TrimSpace(dpopPEM), "\n", "\n  ") + "\n", ".claimcheck.yaml:3: dpop_key: must name a file holding the key"},
			{"dpop-key: '{\"kty\":\"EC\",\"crv\":\"P-256\",\"d\":\"x\"}'\n", ".claimcheck.yaml:3: dpop-key: must name a file holding the key"},
			{"client_key: '{\"kty\":\"EC\",\"crv\":\"P-256\",\"d\":\"x\"}'\n", ".claimcheck.yaml:3: client_key: must name a file holding the key"},
			{"dpop: maybe\n", ".claimcheck.yaml:3: dpop: invalid argument"},
			{"par: sometimes\n", ".claimcheck.yaml:3: par: invalid argument"},
			{"request_object: 2\n", ".claimcheck.yaml:3: request_object: invalid argument"},
			{"dpop_key: missing.pem\n", "missing.pem"},
			{"resource: 'not a uri'\n", "resource"},
			{"authorization_details: '{\"type\":\"x\"}'\n", "authorization details"},
			{"client_auth: private_key_jwt\n", "client-key"},
			{"client_auth: bogus\n", "bogus"},
			{"client_assertion_aud: everyone\n", "client-assertion-aud"},
		} {
			write(tt.body)
			code, stdout, stderr := runMain(t, nil, "url")
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stdout+stderr, "MIG") {
				t.Errorf("%q: exit %d stderr %q, want 2 naming %q", tt.body, code, stderr, tt.want)
			}
		}
	})
}
