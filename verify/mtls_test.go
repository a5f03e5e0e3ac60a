package verify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/testsupport/testpki"
)

// mtlsProvider serves discovery and introspection over TLS, asking for a
// client certificate of ca; aliases edits the mtls_endpoint_aliases.
func mtlsProvider(t *testing.T, ca *testpki.CA, aliases func(base string) map[string]any, seen chan<- string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": srv.URL, "token_endpoint": srv.URL + "/token", "introspection_endpoint": srv.URL + "/introspect",
				"mtls_endpoint_aliases": aliases(srv.URL),
			})
		default:
			th := ""
			if len(r.TLS.PeerCertificates) > 0 {
				th = r.TLS.PeerCertificates[0].Subject.CommonName
			}
			r.ParseForm()
			seen <- r.URL.Path + " " + th + " " + r.PostForm.Get("client_id")
			json.NewEncoder(w).Encode(map[string]any{"active": true, "cnf": map[string]any{"x5t#S256": "x"}})
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.Pool()}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestIntrospectMTLSAlias(t *testing.T) {
	ca := testpki.NewCA(t)
	c := testpki.IssueNow(t, ca, t.TempDir(), "svc")
	pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 2)
	srv := mtlsProvider(t, ca, func(base string) map[string]any {
		return map[string]any{"introspection_endpoint": base + "/mtls/introspect"}
	}, seen)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Discover(ctx, srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	md, used := p.Metadata().WithMTLSAliases()
	if md.IntrospectionEndpoint != srv.URL+"/mtls/introspect" || md.TokenEndpoint != srv.URL+"/token" || len(used) != 1 || used[0] != "introspection_endpoint" {
		t.Errorf("aliased metadata %+v, used %v", md, used)
	}
	client, err := httpclient.WithCertificate(srv.Client(), pair)
	if err != nil {
		t.Fatal(err)
	}
	o := IntrospectOptions{ClientID: "svc", AuthParams: func() (url.Values, error) { return url.Values{"client_id": {"svc"}}, nil }}
	if _, err := p.WithMTLS(client).Introspect(ctx, "at", o); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "/mtls/introspect svc svc" {
		t.Errorf("introspection saw %q, want the alias, the certificate and client_id", got)
	}
	// The provider itself keeps its endpoint and presents nothing.
	if _, err := p.Introspect(ctx, "at", o); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "/introspect  svc" {
		t.Errorf("plain introspection saw %q", got)
	}
}

func TestMTLSAliasesChecked(t *testing.T) {
	ca := testpki.NewCA(t)
	for _, tc := range []struct {
		name  string
		alias func(base string) map[string]any
		want  string
	}{
		{"http alias", func(base string) map[string]any {
			return map[string]any{"token_endpoint": strings.Replace(base, "https:", "http:", 1) + "/token"}
		}, "mtls_endpoint_aliases.token_endpoint"},
		{"relative alias", func(string) map[string]any { return map[string]any{"userinfo_endpoint": "/userinfo"} }, "mtls_endpoint_aliases.userinfo_endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mtlsProvider(t, ca, tc.alias, make(chan string, 1))
			_, err := Discover(context.Background(), srv.URL, srv.Client())
			if failure.ClassOf(err) != failure.Verification || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want a verification error naming %s", err, tc.want)
			}
		})
	}
}
