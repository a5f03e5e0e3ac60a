package check_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/internal/testsupport/testpki"
	"github.com/claimcheck/claimcheck/verify"
)

// withAliases publishes mtls_endpoint_aliases for the token endpoint under
// hostile.MTLSPrefix, offers tls_client_auth, and advertises
// certificate-bound tokens when bound is set.
func withAliases(bound bool) func(map[string]any) {
	return func(doc map[string]any) {
		tok, _ := doc["token_endpoint"].(string)
		u, _ := url.Parse(tok)
		u.Path = hostile.MTLSPrefix + u.Path
		doc["mtls_endpoint_aliases"] = map[string]any{"token_endpoint": u.String()}
		doc["token_endpoint_auth_methods_supported"] = []any{"none", "client_secret_basic", "tls_client_auth"}
		if bound {
			doc["tls_client_certificate_bound_access_tokens"] = true
		}
	}
}

func cnf(thumbprint string) func(*hostile.Token) {
	return func(tk *hostile.Token) { tk.Claims["cnf"] = map[string]any{"x5t#S256": thumbprint} }
}

// TestMTLSRun runs the code flow as a client with a TLS certificate, with
// tls_client_auth, through the hostile front of the demo provider, which
// asks every connection for a certificate issued by a CA made here and
// refuses a token request without one.
func TestMTLSRun(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	mine := testpki.IssueNow(t, ca, dir, "claimcheck-public")
	other := testpki.IssueNow(t, ca, dir, "other")
	key, err := flow.LoadClientKey(mine.KeyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := flow.LoadClientCertificate(mine.CertFile, key)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name       string
		opts       hostile.Options
		authMethod string
		noCert     bool
		wantClass  failure.Class
		wantMsg    string
		wantNote   string
		wantAlias  bool
	}{
		{name: "bound to the certificate, at the alias", opts: hostile.Options{Discovery: withAliases(true), AccessToken: cnf(mine.Thumbprint)}, wantAlias: true},
		{name: "bound to another certificate", opts: hostile.Options{Discovery: withAliases(true), AccessToken: cnf(other.Thumbprint)},
			wantClass: failure.Verification, wantMsg: "bound to another certificate", wantAlias: true},
		{name: "not bound, though advertised", opts: hostile.Options{Discovery: withAliases(true)},
			wantNote: "tls_client_certificate_bound_access_tokens", wantAlias: true},
		{name: "no aliases: the token endpoint itself", opts: hostile.Options{Discovery: func(doc map[string]any) {
			doc["token_endpoint_auth_methods_supported"] = []any{"none", "self_signed_tls_client_auth"}
		}, AccessToken: cnf(mine.Thumbprint)}, authMethod: flow.AuthSelfSignedTLSClient},
		{name: "no certificate presented", opts: hostile.Options{Discovery: withAliases(true)}, authMethod: "none", noCert: true,
			wantClass: failure.Flow, wantMsg: "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.TLS, tc.opts.ClientCAs = true, ca.Pool()
			s, err := hostile.New(demoIssuer, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			caFile := filepath.Join(t.TempDir(), "server-ca.pem")
			if err := os.WriteFile(caFile, s.Certificate(), 0o600); err != nil {
				t.Fatal(err)
			}
			client, err := httpclient.New(httpclient.Options{Timeout: 5 * time.Second, CAFile: caFile})
			if err != nil {
				t.Fatal(err)
			}
			defer client.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := check.Config{
				Issuer: s.Issuer(), ClientID: demo.PublicClientID, AuthMethod: tc.authMethod,
				ClientKey: key, ClientCertificate: cert,
				RedirectURI: "http://127.0.0.1:0" + callbackPath, Scopes: []string{"openid", "groups"},
				Expect:    verify.Expectations{ExpectGroups: []string{"IT"}},
				ClockSkew: 2 * time.Minute, HTTPClient: client, Timeout: 10 * time.Second,
				Opener: &standin.Browser{Client: &http.Client{Transport: s.Client().Transport, Timeout: 5 * time.Second}, Username: "alice", Password: "alice-demo"},
			}
			if tc.noCert {
				c.ClientKey, c.ClientCertificate = nil, nil
			}
			r, _ := check.Run(ctx, c)
			t.Logf("CASE %s | want %s | got exit %d %+v | token requests %d, at the alias %d", tc.name, orPass(tc.wantClass), r.ExitCode, r.Error, s.Count(hostile.TokenEndpoint), s.Count(hostile.MTLSEndpoint))
			if tc.wantClass == "" {
				if r.ExitCode != 0 {
					t.Fatalf("exit %d: %+v", r.ExitCode, r.Error)
				}
			} else if r.Error == nil || r.Error.Class != tc.wantClass || !strings.Contains(r.Error.Message, tc.wantMsg) {
				t.Fatalf("error %+v, want %s saying %q", r.Error, tc.wantClass, tc.wantMsg)
			}
			if tc.noCert {
				if n := len(s.CertThumbprints()); n != 0 {
					t.Errorf("%d certificates presented", n)
				}
				return
			}
			for _, th := range s.CertThumbprints() {
				if th != mine.Thumbprint {
					t.Errorf("presented %s, want the client certificate %s", th, mine.Thumbprint)
				}
			}
			if len(s.CertThumbprints()) == 0 {
				t.Error("no request presented the certificate")
			}
			if got := s.Count(hostile.MTLSEndpoint) > 0; got != tc.wantAlias {
				t.Errorf("requests at the alias: %v, want %v", got, tc.wantAlias)
			}
			rc := r.Request.ClientCertificate
			if rc == nil || rc.X5tS256 != mine.Thumbprint || rc.File != mine.CertFile || rc.KeyFile != mine.KeyFile {
				t.Fatalf("report's client_certificate %+v", rc)
			}
			wantMethod := tc.authMethod
			if wantMethod == "" {
				wantMethod = flow.AuthTLSClient
			}
			if r.Request.ClientAuth != wantMethod {
				t.Errorf("client_auth %q, want %q", r.Request.ClientAuth, wantMethod)
			}
			if aliased := strings.Contains(r.Request.Endpoints["token"], hostile.MTLSPrefix+"/"); aliased != tc.wantAlias {
				t.Errorf("report's token endpoint %s, alias wanted: %v", r.Request.Endpoints["token"], tc.wantAlias)
			}
			if tc.wantAlias && (len(rc.EndpointAliases) != 1 || rc.EndpointAliases[0] != "token_endpoint") {
				t.Errorf("mtls_endpoint_aliases used %v, want [token_endpoint]", rc.EndpointAliases)
			}
			if tc.wantNote != "" && !strings.Contains(strings.Join(r.Notes, "\n"), tc.wantNote) {
				t.Errorf("notes %q, want one naming %s", r.Notes, tc.wantNote)
			}
			if tc.wantClass == "" && tc.wantNote == "" && !hasCheck(r, "access_token cnf.x5t#S256", true) {
				t.Errorf("no passed cnf.x5t#S256 check in %+v", r.Checks)
			}
		})
	}
}
