package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/claimcheck/claimcheck/failure"
)

// parProvider is a provider on 127.0.0.1 with a pushed authorization
// request endpoint (/par), an authorization endpoint that the Opener
// (parProvider itself) plays, and a token endpoint (/token).
type parProvider struct {
	*httptest.Server
	// par answers a push; nil means 201 with a new request_uri.
	par func(w http.ResponseWriter, r *http.Request)

	mu      sync.Mutex
	pushes  []recordedRequest
	pushed  map[string]url.Values
	tokens  []recordedRequest
	opened  []string
	counter int
}

func newPARProvider(t *testing.T) *parProvider {
	p := &parProvider{pushed: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /par", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		p.pushes = append(p.pushes, recordedRequest{r.PostForm, r.Header.Clone()})
		p.counter++
		uri := fmt.Sprintf("urn:ietf:params:oauth:request_uri:req-%d", p.counter)
		p.pushed[uri] = r.PostForm
		par := p.par
		p.mu.Unlock()
		if par != nil {
			par(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"request_uri": uri, "expires_in": 60})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		p.tokens = append(p.tokens, recordedRequest{r.PostForm, r.Header.Clone()})
		p.mu.Unlock()
		goodTokens(w, r)
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// Open plays the authorization endpoint: it finds the pushed request by
// request_uri and redirects to its redirect_uri with a code and its state.
func (p *parProvider) Open(ctx context.Context, authorizeURL string) error {
	p.mu.Lock()
	p.opened = append(p.opened, authorizeURL)
	u, _ := url.Parse(authorizeURL)
	pushed := p.pushed[u.Query().Get("request_uri")]
	p.mu.Unlock()
	if pushed == nil {
		return errors.New("parProvider: unknown request_uri")
	}
	q := url.Values{"code": {"c-1"}, "state": {pushed.Get("state")}}
	req, err := http.NewRequestWithContext(ctx, "GET", pushed.Get("redirect_uri")+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (p *parProvider) config() Config {
	c := baseConfig()
	c.Issuer = p.URL
	c.AuthorizationEndpoint = p.URL + "/authorize"
	c.TokenEndpoint = p.URL + "/token"
	c.PushedAuthorizationRequestEndpoint = p.URL + "/par"
	c.PushAuthorizationRequest = true
	c.RedirectURI = "http://127.0.0.1:0/callback"
	return c
}

func TestRunPushed(t *testing.T) {
	testKeys(t)
	key, err := ParseClientKey(pemOf("PRIVATE KEY", mustPKCS8(t, testRSA), nil), "key.pem", "k1")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret-0123456789-0123456789-0123456789"
	tests := []struct {
		name, method, secret string
		key                  *ClientKey
		basic                bool   // client_secret_basic
		formSecret           string // client_secret in the form
		assertion            string // alg of client_assertion in the form
	}{
		{name: "public client", method: ""},
		{name: "client_secret_basic", method: "client_secret_basic", secret: secret, basic: true},
		{name: "client_secret_post", method: "client_secret_post", secret: secret, formSecret: secret},
		{name: "client_secret_jwt", method: AuthClientSecretJWT, secret: secret, assertion: "HS256"},
		{name: "private_key_jwt", method: AuthPrivateKeyJWT, key: key, assertion: "RS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPARProvider(t)
			c := p.config()
			c.AuthMethod, c.ClientSecret, c.ClientKey = tt.method, tt.secret, tt.key
			c.ResponseMode = "query"
			c.ExtraParams = url.Values{"prompt": {"login"}}
			c.Resources = []string{"https://api.example/a", "https://api.example/b"}
			c.AuthorizationDetails = `[{"type":"payment_initiation","actions":["initiate"]}]`
			var shown string
			res, err := Run(testContext(t), c, RunOptions{
				Opener:      p,
				Timeout:     time.Minute,
				OnListening: func(_, a string, _ time.Time) { shown = a },
			})
			if err != nil {
				t.Fatal(err)
			}
			req := res.Request
			if len(p.pushes) != 1 || len(p.opened) != 1 || len(p.tokens) != 1 {
				t.Fatalf("pushes %d, opened %d, token requests %d", len(p.pushes), len(p.opened), len(p.tokens))
			}
			// The browser gets client_id and request_uri, nothing else.
			u, _ := url.Parse(p.opened[0])
			if u.Path != "/authorize" || len(u.Query()) != 2 || u.Query().Get("client_id") != "client-1" || u.Query().Get("request_uri") != "urn:ietf:params:oauth:request_uri:req-1" {
				t.Errorf("authorize URL %s", p.opened[0])
			}
			if shown != p.opened[0] || req.URL != p.opened[0] {
				t.Errorf("OnListening got %q, Request.URL %q, opened %q", shown, req.URL, p.opened[0])
			}
			if req.RequestURI != "urn:ietf:params:oauth:request_uri:req-1" || req.RequestURIExpiresIn != 60 {
				t.Errorf("request_uri %q expires_in %d", req.RequestURI, req.RequestURIExpiresIn)
			}
			// Every authorization parameter is in the push.
			f, h := p.pushes[0].form, p.pushes[0].header
			want := map[string][]string{
				"response_type":         {"code"},
				"client_id":             {"client-1"},
				"redirect_uri":          {req.RedirectURI},
				"scope":                 {"openid groups"},
				"state":                 {req.State},
				"nonce":                 {req.Nonce},
				"code_challenge":        {req.CodeChallenge},
				"code_challenge_method": {"S256"},
				"response_mode":         {"query"},
				"prompt":                {"login"},
				"resource":              {"https://api.example/a", "https://api.example/b"},
				"authorization_details": {c.AuthorizationDetails},
			}
			for k, v := range want {
				if !slices.Equal(f[k], v) {
					t.Errorf("pushed %s = %q, want %q", k, f[k], v)
				}
			}
			if f.Has("code_verifier") || f.Has("request_uri") {
				t.Errorf("pushed form %v", f)
			}
			user, pass, basic := (&http.Request{Header: h}).BasicAuth()
			if basic != tt.basic || (basic && (user != "client-1" || pass != secret)) {
				t.Errorf("basic auth %v %q", basic, user)
			}
			if f.Get("client_secret") != tt.formSecret {
				t.Errorf("client_secret %q, want %q", f.Get("client_secret"), tt.formSecret)
			}
			if tt.assertion == "" {
				if f.Has("client_assertion") || f.Has("client_assertion_type") {
					t.Errorf("unexpected assertion: %v", f)
				}
			} else {
				checkPushedAssertion(t, f, tt.assertion, c.PushedAuthorizationRequestEndpoint)
				if tf := p.tokens[0].form; tf.Get("client_assertion") == f.Get("client_assertion") {
					t.Error("the token request reused the push's assertion")
				}
			}
			// State was checked on the callback and the verifier redeemed.
			if tf := p.tokens[0].form; tf.Get("code") != "c-1" || tf.Get("code_verifier") != req.CodeVerifier {
				t.Errorf("token request %v", tf)
			}
			if !slices.Equal(req.Resources, c.Resources) || string(req.AuthorizationDetails) != c.AuthorizationDetails {
				t.Errorf("request resources %q details %s", req.Resources, req.AuthorizationDetails)
			}
		})
	}
}

func checkPushedAssertion(t *testing.T, f url.Values, alg, aud string) {
	t.Helper()
	if f.Get("client_assertion_type") != ClientAssertionType {
		t.Errorf("client_assertion_type %q", f.Get("client_assertion_type"))
	}
	tok, err := jwt.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("client_assertion: %v", err)
	}
	var cl jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&cl); err != nil {
		t.Fatal(err)
	}
	if cl.Issuer != "client-1" || cl.Subject != "client-1" || !slices.Equal([]string(cl.Audience), []string{aud}) || cl.ID == "" {
		t.Errorf("assertion claims %+v", cl)
	}
}

func TestRunPushFailures(t *testing.T) {
	const secret = "s3cret-PUSH"
	tests := []struct {
		name  string
		par   func(w http.ResponseWriter, r *http.Request)
		class failure.Class
		code  string // the OAuth error, for failure.Flow
		want  string
	}{
		{
			name:  "400 invalid_request",
			par:   jsonReply(400, map[string]any{"error": "invalid_request", "error_description": "redirect_uri not registered"}),
			class: failure.Flow, code: "invalid_request", want: "error=invalid_request",
		},
		{
			name:  "401 invalid_client echoing the secret",
			par:   jsonReply(401, map[string]any{"error": "invalid_client", "error_description": "bad secret " + secret}),
			class: failure.Flow, code: "invalid_client", want: "error=invalid_client",
		},
		{name: "500", par: jsonReply(500, map[string]any{"error": "server_error"}), class: failure.Provider, want: "status 500"},
		{name: "no request_uri", par: jsonReply(201, map[string]any{"expires_in": 60}), class: failure.Provider, want: "no request_uri"},
		{name: "no expires_in", par: jsonReply(201, map[string]any{"request_uri": "urn:x"}), class: failure.Provider, want: "expires_in"},
		{name: "200 instead of 201", par: jsonReply(200, map[string]any{"request_uri": "urn:x", "expires_in": 60}), class: failure.Provider, want: "201 Created"},
		{name: "not JSON", par: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(201)
			w.Write([]byte("<html>" + bodyMarker))
		}, class: failure.Provider, want: "not JSON"},
		{name: "slow", par: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, class: failure.Provider, want: "no answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPARProvider(t)
			p.par = tt.par
			c := p.config()
			c.ClientSecret = secret
			c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
			start := time.Now()
			res, err := Run(testContext(t), c, RunOptions{Opener: p, Timeout: time.Minute})
			if err == nil {
				t.Fatal("no error")
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if got := failure.ClassOf(err); got != tt.class {
				t.Errorf("class %v, want %v: %v", got, tt.class, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, "pushed authorization request") {
				t.Errorf("error %q, want %q", msg, tt.want)
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, bodyMarker) || strings.Contains(msg, "\n") {
				t.Errorf("error shows too much: %q", msg)
			}
			var oe *ErrorResponse
			if errors.As(err, &oe) != (tt.code != "") || (oe != nil && oe.Code != tt.code) {
				t.Errorf("ErrorResponse %v, want code %q", oe, tt.code)
			}
			if len(p.opened) != 0 || len(p.tokens) != 0 {
				t.Errorf("opened %d, token requests %d after a failed push", len(p.opened), len(p.tokens))
			}
			if res == nil || res.Request == nil || res.Request.RequestURI != "" {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestPushUsage(t *testing.T) {
	c := baseConfig()
	c.PushAuthorizationRequest = true
	err := c.Validate()
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(fmt.Sprint(err), "pushed_authorization_request_endpoint") {
		t.Errorf("PAR without an endpoint: %v", err)
	}
	c.PushedAuthorizationRequestEndpoint = "ftp://x/par"
	if failure.ClassOf(c.Validate()) != failure.Usage {
		t.Errorf("bad endpoint accepted")
	}
	c = baseConfig()
	if err := Push(context.Background(), c, &Request{}); failure.ClassOf(err) != failure.Usage {
		t.Errorf("Push without NewRequest: %v", err)
	}
	// Without PushAuthorizationRequest, the URL holds the parameters.
	c.Resources = []string{"https://api.example/"}
	c.AuthorizationDetails = `[{"type":"t"}]`
	req, err := NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	if q := u.Query(); q.Get("resource") != "https://api.example/" || q.Get("authorization_details") != `[{"type":"t"}]` || q.Has("request_uri") {
		t.Errorf("URL %s", req.URL)
	}
}

func TestRichRequestChecks(t *testing.T) {
	for _, s := range []string{``, `{}`, `[]`, `[1]`, `[{}]`, `[{"type":""}]`, `[{"type":3}]`, `[{"type":"a"}, null]`, `[{"type":"a"}] x`} {
		if err := CheckAuthorizationDetails(s); failure.ClassOf(err) != failure.Usage {
			t.Errorf("CheckAuthorizationDetails(%q) = %v", s, err)
		}
	}
	for _, s := range []string{`[{"type":"a"}]`, `[{"type":"a","locations":["https://x"]},{"type":"b"}]`} {
		if err := CheckAuthorizationDetails(s); err != nil {
			t.Errorf("CheckAuthorizationDetails(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "api", "/relative", "https://api.example/#frag"} {
		if err := CheckResource(s); failure.ClassOf(err) != failure.Usage {
			t.Errorf("CheckResource(%q) = %v", s, err)
		}
	}
	if err := CheckResource("urn:example:api"); err != nil {
		t.Errorf("urn: %v", err)
	}
	c := baseConfig()
	c.Resources = []string{"https://api.example/"}
	c.ExtraParams = url.Values{"resource": {"https://other/"}}
	if failure.ClassOf(c.Validate()) != failure.Usage {
		t.Error("resource twice accepted")
	}
	c = baseConfig()
	c.AuthorizationDetails = `[{"type":"a"}]`
	c.ExtraParams = url.Values{"authorization_details": {"[]"}}
	if failure.ClassOf(c.Validate()) != failure.Usage {
		t.Error("authorization_details twice accepted")
	}
}
