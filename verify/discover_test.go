package verify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
)

// docServer serves documents by path and counts requests per path.
type docServer struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	serve func(w http.ResponseWriter, r *http.Request, base string)
}

func newDocServer(t *testing.T, serve func(w http.ResponseWriter, r *http.Request, base string)) *docServer {
	d := &docServer{hits: map[string]int{}, serve: serve}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.hits[r.URL.Path]++
		d.mu.Unlock()
		d.serve(w, r, d.URL)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *docServer) count(path string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hits[path]
}

func jsonDoc(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

func TestDiscover(t *testing.T) {
	const oidcPath = "/.well-known/openid-configuration"
	const asPath = "/.well-known/oauth-authorization-server"
	tests := []struct {
		name string
		// path is appended to the server URL to form the issuer.
		path  string
		serve func(w http.ResponseWriter, r *http.Request, base string)
		// client, when set, replaces the CLI-like client.
		client    *http.Client
		wantClass failure.Class // "" means success
		wantFrag  string
		// wantHits are request counts per path that must hold.
		wantHits map[string]int
	}{
		{
			name: "OpenID discovery",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				if r.URL.Path == oidcPath {
					jsonDoc(w, `{"issuer": "`+base+`", "jwks_uri": "`+base+`/keys"}`)
					return
				}
				http.NotFound(w, r)
			},
			wantHits: map[string]int{oidcPath: 1, asPath: 0},
		},
		{
			name: "RFC 8414 fallback on 404",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				if r.URL.Path == asPath {
					jsonDoc(w, `{"issuer": "`+base+`", "token_endpoint": "`+base+`/token"}`)
					return
				}
				http.NotFound(w, r)
			},
			wantHits: map[string]int{oidcPath: 1, asPath: 1},
		},
		{
			name: "RFC 8414 fallback for an issuer with a path",
			path: "/tenant",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				if r.URL.Path == asPath+"/tenant" {
					jsonDoc(w, `{"issuer": "`+base+`/tenant"}`)
					return
				}
				http.NotFound(w, r)
			},
			wantHits: map[string]int{"/tenant" + oidcPath: 1, asPath + "/tenant": 1, "/tenant" + asPath: 0},
		},
		{
			name: "appended oauth-authorization-server as the last resort",
			path: "/oauth2/default",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				if r.URL.Path == "/oauth2/default"+asPath {
					jsonDoc(w, `{"issuer": "`+base+`/oauth2/default"}`)
					return
				}
				http.NotFound(w, r)
			},
			wantHits: map[string]int{"/oauth2/default" + oidcPath: 1, asPath + "/oauth2/default": 1, "/oauth2/default" + asPath: 1},
		},
		{
			name: "no fallback on 500",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				if r.URL.Path == asPath {
					jsonDoc(w, `{"issuer": "`+base+`"}`)
					return
				}
				http.Error(w, "secret-body", http.StatusInternalServerError)
			},
			wantClass: failure.Provider, wantFrag: oidcPath + ": status 500",
			wantHits: map[string]int{oidcPath: 1, asPath: 0},
		},
		{
			name: "no fallback on 403",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				http.Error(w, "secret-body", http.StatusForbidden)
			},
			wantClass: failure.Provider, wantFrag: ": status 403",
			wantHits: map[string]int{oidcPath: 1, asPath: 0},
		},
		{
			name:      "404 everywhere",
			serve:     func(w http.ResponseWriter, r *http.Request, base string) { http.NotFound(w, r) },
			wantClass: failure.Provider, wantFrag: "discovery: status 404 at http://127.0.0.1",
		},
		{
			name: "issuer mismatch",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "https://other.example"}`)
			},
			wantClass: failure.Verification, wantFrag: `names issuer "https://other.example", not "http://127.0.0.1`,
		},
		{
			name: "issuer differing in a trailing slash",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`/"}`)
			},
			wantClass: failure.Verification, wantFrag: "differ in a trailing slash",
		},
		{
			name:      "issuer missing",
			serve:     func(w http.ResponseWriter, r *http.Request, base string) { jsonDoc(w, `{}`) },
			wantClass: failure.Verification, wantFrag: `names issuer "", not`,
		},
		{
			name: "HTML page",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte("<!doctype html><p>secret-body</p>"))
			},
			wantClass: failure.Provider, wantFrag: "status 200 with an HTML page, not JSON",
		},
		{
			name: "garbage",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				w.Write([]byte("secret-body"))
			},
			wantClass: failure.Provider, wantFrag: "status 200 with a body that is not a JSON object",
		},
		{
			name: "wrong JSON types",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "scopes_supported": "secret-body"}`)
			},
			wantClass: failure.Provider, wantFrag: "the metadata document is malformed: scopes_supported has the wrong JSON type (string)",
		},
		{
			name: "oversized with a capped client",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "pad": "`+strings.Repeat("secret-body", 100_000)+`"}`)
			},
			wantClass: failure.Provider, wantFrag: "response body is too large",
		},
		{
			name: "oversized with an uncapped client",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "pad": "`+strings.Repeat("secret-body", 100_000)+`"}`)
			},
			client:    &http.Client{Timeout: 5 * time.Second},
			wantClass: failure.Provider, wantFrag: "response body is too large (over 1048576 bytes)",
		},
		{
			name: "jwks_uri not a URL",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "jwks_uri": "file:///etc/passwd"}`)
			},
			wantClass: failure.Verification, wantFrag: "jwks_uri in the document at",
		},
		{
			name: "authorization_endpoint javascript:",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "authorization_endpoint": "javascript:alert(1)"}`)
			},
			wantClass: failure.Verification, wantFrag: "/.well-known/openid-configuration has scheme \"javascript\", not http(s)",
		},
		{
			name: "token_endpoint file:",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "token_endpoint": "file:///etc/passwd"}`)
			},
			wantClass: failure.Verification, wantFrag: "token_endpoint in the document at",
		},
		{
			name: "token_endpoint relative",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "token_endpoint": "/token"}`)
			},
			wantClass: failure.Verification, wantFrag: "token_endpoint in the document at",
		},
		{
			name: "device endpoint without a host",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "device_authorization_endpoint": "http:///device"}`)
			},
			wantClass: failure.Verification, wantFrag: "has no host",
		},
		{
			name: "token_endpoint with a fragment",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "token_endpoint": "http://127.0.0.1/token#frag"}`)
			},
			wantClass: failure.Verification, wantFrag: "has a fragment",
		},
		{
			name: "introspection endpoint data:",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "introspection_endpoint": "data:text/plain,x"}`)
			},
			wantClass: failure.Verification, wantFrag: "introspection_endpoint",
		},
		{
			name: "end_session_endpoint ftp:",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				jsonDoc(w, `{"issuer": "`+base+`", "end_session_endpoint": "ftp://127.0.0.1/x"}`)
			},
			wantClass: failure.Verification, wantFrag: "end_session_endpoint",
		},
		{
			name: "no answer within the client's timeout",
			serve: func(w http.ResponseWriter, r *http.Request, base string) {
				<-r.Context().Done()
			},
			client: func() *http.Client {
				c, _ := httpclient.New(httpclient.Options{Timeout: 200 * time.Millisecond})
				return c
			}(),
			wantClass: failure.Provider, wantFrag: "openid-configuration: timed out: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDocServer(t, tt.serve)
			client := tt.client
			if client == nil {
				client = testClient(t)
			}
			p, err := Discover(testCtx(t), d.URL+tt.path, client)
			if tt.wantClass == "" {
				if err != nil {
					t.Fatalf("Discover: %v", err)
				}
				if p.Metadata().Issuer != d.URL+tt.path {
					t.Errorf("issuer %q", p.Metadata().Issuer)
				}
			} else {
				t.Logf("%v", err)
				wantFailure(t, err, tt.wantClass, tt.wantFrag, "secret-body")
				if !strings.HasPrefix(err.Error(), "discovery: ") {
					t.Errorf("error %q does not start with the operation", err)
				}
			}
			for path, n := range tt.wantHits {
				if got := d.count(path); got != n {
					t.Errorf("%s requested %d times, want %d", path, got, n)
				}
			}
		})
	}
}

func TestDiscoverIssuerMismatchIsTyped(t *testing.T) {
	d := newDocServer(t, func(w http.ResponseWriter, r *http.Request, base string) {
		jsonDoc(w, `{"issuer": "https://other.example"}`)
	})
	_, err := Discover(testCtx(t), d.URL, testClient(t))
	var mismatch *oidc.IssuerMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("error %v does not wrap *oidc.IssuerMismatchError", err)
	}
	if mismatch.Provided != d.URL || mismatch.Discovered != "https://other.example" {
		t.Errorf("mismatch = %+v", mismatch)
	}
}

func TestDiscoverMetadata(t *testing.T) {
	d := newDocServer(t, func(w http.ResponseWriter, r *http.Request, base string) {
		jsonDoc(w, `{
			"issuer": "`+base+`",
			"authorization_endpoint": "`+base+`/authorize",
			"token_endpoint": "`+base+`/token",
			"userinfo_endpoint": "`+base+`/userinfo",
			"jwks_uri": "`+base+`/keys",
			"introspection_endpoint": "`+base+`/introspect",
			"revocation_endpoint": "`+base+`/revoke",
			"device_authorization_endpoint": "`+base+`/device",
			"end_session_endpoint": "`+base+`/logout",
			"response_types_supported": ["code", "id_token", "id_token token"],
			"response_modes_supported": ["query", "fragment", "form_post"],
			"grant_types_supported": ["authorization_code", "refresh_token"],
			"scopes_supported": ["openid", "groups"],
			"claims_supported": ["sub", "groups"],
			"id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
			"token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
			"code_challenge_methods_supported": ["S256"],
			"authorization_response_iss_parameter_supported": true,
			"unknown_field": {"nested": 1}
		}`)
	})
	p, err := Discover(testCtx(t), d.URL, testClient(t))
	if err != nil {
		t.Fatal(err)
	}
	b := d.URL
	want := Metadata{
		Issuer:                                     b,
		AuthorizationEndpoint:                      b + "/authorize",
		TokenEndpoint:                              b + "/token",
		UserinfoEndpoint:                           b + "/userinfo",
		JWKSURI:                                    b + "/keys",
		IntrospectionEndpoint:                      b + "/introspect",
		RevocationEndpoint:                         b + "/revoke",
		DeviceAuthorizationEndpoint:                b + "/device",
		EndSessionEndpoint:                         b + "/logout",
		ResponseTypesSupported:                     []string{"code", "id_token", "id_token token"},
		ResponseModesSupported:                     []string{"query", "fragment", "form_post"},
		GrantTypesSupported:                        []string{"authorization_code", "refresh_token"},
		ScopesSupported:                            []string{"openid", "groups"},
		ClaimsSupported:                            []string{"sub", "groups"},
		IDTokenSigningAlgValuesSupported:           []string{"RS256", "HS256", "none"},
		TokenEndpointAuthMethodsSupported:          []string{"client_secret_basic", "none"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseIssParameterSupported: true,
	}
	if got := p.Metadata(); !reflect.DeepEqual(got, want) {
		t.Errorf("Metadata() =\n%+v\nwant\n%+v", got, want)
	}
	// Advertised HS256 and none are never accepted.
	if !reflect.DeepEqual(p.idAlgs, []string{"RS256"}) {
		t.Errorf("accepted algorithms %v, want [RS256]", p.idAlgs)
	}
}

func TestDiscoverUsageAndTransport(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name      string
		ctx       context.Context
		issuer    string
		wantClass failure.Class
		wantFrag  string
	}{
		{"not a URL", nil, "example.com", failure.Usage, `issuer "example.com" is not an http(s) URL`},
		{"wrong scheme", nil, "ftp://example.com", failure.Usage, "is not an http(s) URL"},
		{"query", nil, "https://example.com/?secret=1", failure.Usage, "without query or fragment"},
		{"connection refused", nil, deadURL, failure.Provider, "discovery: " + deadURL + "/.well-known/openid-configuration: "},
		{"interrupted", canceled, deadURL, failure.Interrupted, "discovery: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = testCtx(t)
			}
			_, err := Discover(ctx, tt.issuer, testClient(t))
			t.Logf("%v", err)
			wantFailure(t, err, tt.wantClass, tt.wantFrag)
		})
	}
}

func TestDiscoverNilClient(t *testing.T) {
	ti := newIssuer(t)
	p, err := Discover(testCtx(t), ti.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.client == nil || p.client.Timeout != defaultTimeout {
		t.Errorf("client %+v, want one with the default timeout", p.client)
	}
}

// TestEndpointProblem: every endpoint of a discovery document must be an
// absolute http(s) URL with a host and without a fragment, and https when
// the issuer is (issue 11, item 4); the reason never shows user info or a
// query.
func TestEndpointProblem(t *testing.T) {
	tests := []struct {
		url, issuerScheme, want string
	}{
		{"https://idp.example/token", "https", ""},
		{"http://127.0.0.1:8080/token?x=1", "http", ""},
		{"http://idp.example/token", "https", "is http under an https issuer"},
		{"javascript:alert(1)", "https", `has scheme "javascript"`},
		{"file:///etc/passwd", "http", `has scheme "file"`},
		{"//idp.example/token", "https", "not an absolute URL"},
		{"https:///token", "https", "has no host"},
		{"https://u:PASSWORD@idp.example/token?secret=QUERY#f", "https", `"https://idp.example/token" has a fragment`},
	}
	for _, tt := range tests {
		got := endpointProblem(tt.url, tt.issuerScheme)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("endpointProblem(%q, %s) = %q, want %q", tt.url, tt.issuerScheme, got, tt.want)
		}
		if strings.Contains(got, "PASSWORD") || strings.Contains(got, "QUERY") {
			t.Errorf("reason shows user info or query: %q", got)
		}
	}
}
