package flow_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/testsupport/testpki"
)

func loadPair(t *testing.T, c *testpki.Client) *flow.ClientCertificate {
	t.Helper()
	k, err := flow.LoadClientKey(c.KeyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	cc, err := flow.LoadClientCertificate(c.CertFile, k)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

func TestLoadClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	c := testpki.IssueNow(t, ca, dir, "svc")
	// The chain as users keep it: the client's certificate, then the CA's.
	chain := filepath.Join(dir, "chain.pem")
	leaf, _ := os.ReadFile(c.CertFile)
	caPEM := pemCert(ca.Cert.Raw)
	testpki.Write(t, chain, append(leaf, caPEM...))
	k, err := flow.LoadClientKey(c.KeyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	cc, err := flow.LoadClientCertificate(chain, k)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Thumbprint() != c.Thumbprint {
		t.Errorf("thumbprint %s, want base64url(SHA-256(DER)) %s", cc.Thumbprint(), c.Thumbprint)
	}
	if n := len(cc.TLSCertificate().Certificate); n != 2 {
		t.Errorf("%d certificates presented, want the chain of 2", n)
	}
	if cc.Subject() != "CN=svc" || cc.File != chain || cc.KeyFile != c.KeyFile {
		t.Errorf("subject %q, files %q %q", cc.Subject(), cc.File, cc.KeyFile)
	}
	// A key file that holds the certificate too serves as both.
	both := filepath.Join(dir, "both.pem")
	key, _ := os.ReadFile(c.KeyFile)
	testpki.Write(t, both, append(leaf, key...))
	kb, err := flow.LoadClientKey(both, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.LoadClientCertificate(both, kb); err != nil {
		t.Errorf("certificate and key in one file: %v", err)
	}
}

func pemCert(der []byte) []byte {
	return []byte("-----BEGIN CERTIFICATE-----\n" + wrap64(der) + "-----END CERTIFICATE-----\n")
}

func wrap64(der []byte) string {
	s := b64std(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n")
	return b.String()
}

func TestLoadClientCertificateErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	good := testpki.IssueNow(t, ca, dir, "good")
	other := testpki.IssueNow(t, ca, dir, "other")
	expired := testpki.Issue(t, ca, dir, "expired", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	future := testpki.Issue(t, ca, dir, "future", time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
	garbage := filepath.Join(dir, "garbage.pem")
	testpki.Write(t, garbage, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	text := filepath.Join(dir, "text.pem")
	testpki.Write(t, text, []byte("not a certificate at all\n"))
	unreadable := filepath.Join(dir, "unreadable.pem")
	testpki.Write(t, unreadable, []byte("x"))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	readable := func() bool { f, err := os.Open(unreadable); f.Close(); return err == nil }()
	goodKey, err := flow.LoadClientKey(good.KeyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(good.KeyFile)

	for _, tc := range []struct {
		name, file string
		key        *flow.ClientKey
		want       []string
	}{
		{"missing file", filepath.Join(dir, "nope.pem"), goodKey, []string{"nope.pem", "cannot be read"}},
		{"a key, not a certificate", good.KeyFile, goodKey, []string{good.KeyFile, "no PEM CERTIFICATE"}},
		{"not PEM", text, goodKey, []string{text, "no PEM CERTIFICATE"}},
		{"broken certificate", garbage, goodKey, []string{garbage, "not a valid X.509"}},
		{"another certificate's key", other.CertFile, goodKey, []string{other.CertFile, good.KeyFile, "does not match"}},
		{"expired", expired.CertFile, mustKey(t, expired.KeyFile), []string{expired.CertFile, "expired"}},
		{"not yet valid", future.CertFile, mustKey(t, future.KeyFile), []string{future.CertFile, "not valid before"}},
		{"no key", good.CertFile, nil, []string{good.CertFile, "--client-key"}},
		{"unreadable", unreadable, goodKey, []string{unreadable, "cannot be read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "unreadable" && readable {
				// Run as root: the mode does not stop the read, so the
				// file is a one-byte non-certificate instead.
				tc.want = []string{unreadable, "no PEM CERTIFICATE"}
			}
			_, err := flow.LoadClientCertificate(tc.file, tc.key)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if failure.ClassOf(err) != failure.Usage || strings.Contains(msg, "\n") {
				t.Errorf("class %s, message %q: want one line of class usage", failure.ClassOf(err), msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not mention %q", msg, w)
				}
			}
			if strings.Contains(msg, "BEGIN") || strings.Contains(msg, string(keyPEM[30:60])) {
				t.Errorf("message quotes a file's content: %q", msg)
			}
		})
	}
}

func mustKey(t *testing.T, file string) *flow.ClientKey {
	t.Helper()
	k, err := flow.LoadClientKey(file, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mtlsServer is a token and PAR endpoint that requires a client certificate
// issued by ca, and records what each request presented and sent.
type mtlsSeen struct {
	thumbprint    string
	clientID      string
	secret        bool
	authorization bool
}

func mtlsServer(t *testing.T, ca *testpki.CA, seen chan<- mtlsSeen) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		s := mtlsSeen{clientID: r.PostForm.Get("client_id"), secret: r.PostForm.Has("client_secret"), authorization: r.Header.Get("Authorization") != ""}
		if len(r.TLS.PeerCertificates) > 0 {
			s.thumbprint = thumb(r.TLS.PeerCertificates[0].Raw)
		}
		seen <- s
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/par" {
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]any{"request_uri": "urn:ietf:params:oauth:request_uri:x", "expires_in": 60})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60})
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestClientCertificatePresented(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	c := testpki.IssueNow(t, ca, dir, "svc")
	self := testpki.IssueNow(t, nil, dir, "self")
	seen := make(chan mtlsSeen, 4)
	srv := mtlsServer(t, ca, seen)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name   string
		method string
		cert   *testpki.Client
		call   func(flow.Config) error
	}{
		{"token, tls_client_auth", flow.AuthTLSClient, c, func(fc flow.Config) error { _, err := flow.ClientCredentials(ctx, fc); return err }},
		{"token, certificate with none", "none", c, func(fc flow.Config) error { _, err := flow.Refresh(ctx, fc, "rt"); return err }},
		{"pushed request", flow.AuthTLSClient, c, func(fc flow.Config) error {
			fc.AuthorizationEndpoint, fc.RedirectURI = srv.URL+"/authorize", "http://127.0.0.1:8765/cb"
			fc.PushedAuthorizationRequestEndpoint, fc.PushAuthorizationRequest = srv.URL+"/par", true
			req, err := flow.NewRequest(fc)
			if err != nil {
				return err
			}
			return flow.Push(ctx, fc, req)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := flow.Config{
				ClientID: "svc", TokenEndpoint: srv.URL + "/token", AuthMethod: tc.method, Scopes: []string{"openid"},
				ClientCertificate: loadPair(t, tc.cert), HTTPClient: srv.Client(),
			}
			if err := tc.call(fc); err != nil {
				t.Fatal(err)
			}
			s := <-seen
			if s.thumbprint != tc.cert.Thumbprint || s.clientID != "svc" || s.secret || s.authorization {
				t.Errorf("saw %+v: want the certificate %s, client_id in the body, no secret, no Authorization", s, tc.cert.Thumbprint)
			}
		})
	}

	// Without a certificate, or with one the server's CA did not issue,
	// the handshake fails: the provider cannot be used (exit 5), and
	// nothing reaches the handler.
	for _, tc := range []struct {
		name string
		cert *flow.ClientCertificate
	}{{"no certificate", nil}, {"self-signed", loadPair(t, self)}} {
		t.Run(tc.name, func(t *testing.T) {
			fc := flow.Config{ClientID: "svc", TokenEndpoint: srv.URL + "/token", ClientCertificate: tc.cert, HTTPClient: srv.Client()}
			_, err := flow.Refresh(ctx, fc, "rt")
			if failure.ClassOf(err) != failure.Provider {
				t.Fatalf("err %v (class %s), want a provider error", err, failure.ClassOf(err))
			}
			select {
			case s := <-seen:
				t.Errorf("the handler saw %+v", s)
			default:
			}
		})
	}
}

func TestTLSClientAuthUsage(t *testing.T) {
	dir := t.TempDir()
	c := testpki.IssueNow(t, testpki.NewCA(t), dir, "svc")
	cc := loadPair(t, c)
	for _, tc := range []struct {
		name string
		fc   flow.Config
		want string
	}{
		{"tls_client_auth without a certificate", flow.Config{AuthMethod: flow.AuthTLSClient}, "needs a client certificate"},
		{"self_signed_tls_client_auth without a certificate", flow.Config{AuthMethod: flow.AuthSelfSignedTLSClient}, "needs a client certificate"},
		{"with a secret too", flow.Config{AuthMethod: flow.AuthTLSClient, ClientSecret: "s", ClientCertificate: cc}, "drop one of them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fc.ClientID, tc.fc.TokenEndpoint = "svc", "https://127.0.0.1:9/token"
			_, err := flow.Refresh(context.Background(), tc.fc, "rt")
			if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want a usage error saying %q", err, tc.want)
			}
		})
	}
	if _, err := flow.ResolveAuthMethod(flow.AuthTLSClient, "", []string{"client_secret_basic"}); failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "does not offer tls_client_auth") {
		t.Errorf("unadvertised method: %v", err)
	}
}

func thumb(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// FuzzParseClientCertificate: whatever a certificate file holds, parsing
// returns a certificate or a one-line usage error that quotes none of it.
func FuzzParseClientCertificate(f *testing.F) {
	dir := f.TempDir()
	c := testpki.IssueNow(f, testpki.NewCA(f), dir, "svc")
	leaf, _ := os.ReadFile(c.CertFile)
	key, err := flow.LoadClientKey(c.KeyFile, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(leaf)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{})
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		cc, err := flow.ParseClientCertificate(data, "cert.pem", key, now)
		if err == nil {
			if cc.Thumbprint() == "" {
				t.Error("a certificate without a thumbprint")
			}
			return
		}
		msg := err.Error()
		if failure.ClassOf(err) != failure.Usage || strings.Contains(msg, "\n") || !strings.Contains(msg, "cert.pem") {
			t.Errorf("%q (class %s): want one line of class usage naming the file", msg, failure.ClassOf(err))
		}
	})
}
