package flow

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
)

// tokenEndpoint records the requests it gets and answers with respond.
type tokenEndpoint struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recordedRequest
}

type recordedRequest struct {
	form   url.Values
	header http.Header
}

func newTokenEndpoint(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *tokenEndpoint {
	te := &tokenEndpoint{}
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		te.mu.Lock()
		te.requests = append(te.requests, recordedRequest{r.PostForm, r.Header.Clone()})
		te.mu.Unlock()
		respond(w, r)
	}))
	t.Cleanup(te.Close)
	return te
}

func (te *tokenEndpoint) recorded() []recordedRequest {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]recordedRequest(nil), te.requests...)
}

// bodyMarker is in every body the test endpoints send; no error message
// may contain it.
const bodyMarker = "BODY-MARKER-7f3a"

func jsonReply(status int, v map[string]any) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
}

func goodTokens(w http.ResponseWriter, r *http.Request) {
	jsonReply(200, map[string]any{
		"access_token": "at-1", "token_type": "Bearer", "id_token": "h.p.s",
		"refresh_token": "rt-1", "scope": "openid groups", "expires_in": 300,
	})(w, r)
}

func TestExchangeAuthStyles(t *testing.T) {
	tests := []struct {
		name, method, secret string
		wantBasic            bool
		wantSecretInForm     bool
	}{
		{"public", "", "", false, false},
		{"public explicit", "none", "", false, false},
		{"basic default", "", "s3cret/+", true, false},
		{"basic", "client_secret_basic", "s3cret/+", true, false},
		{"post", "client_secret_post", "s3cret/+", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t, goodTokens)
			c := baseConfig()
			c.TokenEndpoint = te.URL + "/token"
			c.AuthMethod, c.ClientSecret = tt.method, tt.secret
			req, err := NewRequest(c)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := Exchange(testContext(t), c, req, "the-code")
			if err != nil {
				t.Fatal(err)
			}
			want := Tokens{IDToken: "h.p.s", AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Scope: "openid groups", ExpiresIn: 300}
			if *tok != want {
				t.Errorf("tokens %+v, want %+v", *tok, want)
			}
			reqs := te.recorded()
			if len(reqs) != 1 {
				t.Fatalf("%d token requests, want exactly 1", len(reqs))
			}
			f, h := reqs[0].form, reqs[0].header
			for k, v := range map[string]string{
				"grant_type": "authorization_code", "code": "the-code",
				"code_verifier": req.CodeVerifier, "redirect_uri": c.RedirectURI,
			} {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
			basic := h.Get("Authorization")
			if tt.wantBasic {
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ClientID)+":"+url.QueryEscape(tt.secret)))
				if basic != want {
					t.Errorf("Authorization %q, want %q", basic, want)
				}
				if f.Has("client_id") || f.Has("client_secret") {
					t.Errorf("client credentials in the form too: %v", f)
				}
			} else {
				if basic != "" {
					t.Errorf("Authorization %q sent", basic)
				}
				if f.Get("client_id") != c.ClientID {
					t.Errorf("client_id %q", f.Get("client_id"))
				}
				if got := f.Get("client_secret"); (got != "") != tt.wantSecretInForm || (tt.wantSecretInForm && got != tt.secret) {
					t.Errorf("client_secret %q in the form", got)
				}
			}
		})
	}
}

func TestExchangeErrors(t *testing.T) {
	html := func(status int) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			w.Write([]byte("<html><body>" + bodyMarker + "</body></html>"))
		}
	}
	tests := []struct {
		name    string
		respond func(http.ResponseWriter, *http.Request)
		client  func(t *testing.T) *http.Client
		class   failure.Class
		want    []string
	}{
		{"invalid_grant", jsonReply(400, map[string]any{"error": "invalid_grant", "error_description": "code expired\n\x1b[2J", "extra": bodyMarker}),
			nil, failure.Flow, []string{"token endpoint", "status 400", "error=invalid_grant", `error_description="code expired[2J"`}},
		{"invalid_client 401", jsonReply(401, map[string]any{"error": "invalid_client", "extra": bodyMarker}),
			nil, failure.Flow, []string{"status 401", "error=invalid_client"}},
		{"error in a 200", jsonReply(200, map[string]any{"error": "invalid_grant", "extra": bodyMarker}),
			nil, failure.Flow, []string{"error=invalid_grant"}},
		{"500 JSON", jsonReply(500, map[string]any{"message": bodyMarker}),
			nil, failure.Provider, []string{"token endpoint", "status 500 Internal Server Error"}},
		{"503 with an OAuth error", jsonReply(503, map[string]any{"error": "temporarily_unavailable", "error_description": bodyMarker}),
			nil, failure.Provider, []string{"status 503", "temporarily_unavailable"}},
		{"502 HTML", html(502), nil, failure.Provider, []string{"token endpoint", "status 502"}},
		{"401 HTML", html(401), nil, failure.Provider, []string{"status 401"}},
		{"HTML 200", html(200), nil, failure.Provider, []string{"token endpoint", "status 200", "not a token response"}},
		{"JSON without access_token", jsonReply(200, map[string]any{"token_type": "Bearer", "x": bodyMarker}),
			nil, failure.Provider, []string{"status 200", "not a token response"}},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"` + strings.Repeat(bodyMarker, 1000) + `"}`))
		}, func(t *testing.T) *http.Client {
			c, err := httpclient.New(httpclient.Options{Timeout: testDeadline, MaxBody: 1024})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}, failure.Provider, []string{"token endpoint", "larger than 1024 bytes"}},
		// x/oauth2 stops reading at 1 MiB: a 2 MiB body must still be
		// reported as too large, not as truncated JSON.
		{"oversized beyond 1 MiB", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"` + strings.Repeat("a", 2<<20) + `"}`))
		}, nil, failure.Provider, []string{"token endpoint", "larger than 1048576 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t, tt.respond)
			c := baseConfig()
			c.TokenEndpoint = te.URL + "/token"
			if tt.client != nil {
				c.HTTPClient = tt.client(t)
			}
			req, err := NewRequest(c)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Exchange(testContext(t), c, req, "the-code")
			checkExchangeError(t, err, tt.class, tt.want, req)
			if n := len(te.recorded()); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
		})
	}
}

func checkExchangeError(t *testing.T, err error, class failure.Class, want []string, req *Request) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if got := failure.ClassOf(err); got != class {
		t.Errorf("class %s, want %s (%v)", got, class, err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not contain %q", msg, w)
		}
	}
	for _, secret := range []string{bodyMarker, "the-code", req.CodeVerifier, "<html", "\n"} {
		if strings.Contains(msg, secret) {
			t.Errorf("%q contains %q", msg, secret)
		}
	}
}

func TestExchangeNetworkError(t *testing.T) {
	te := newTokenEndpoint(t, goodTokens)
	te.Close()
	c := baseConfig()
	c.TokenEndpoint = te.URL + "/token?tenant=x"
	req, err := NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Exchange(testContext(t), c, req, "the-code")
	checkExchangeError(t, err, failure.Provider, []string{"token endpoint", "connection refused"}, req)
	if strings.Contains(err.Error(), "tenant=x") {
		t.Errorf("%q contains the endpoint's query", err)
	}
}

// TestExchangeTimeout: a token endpoint that never answers ends the
// exchange at the client's deadline with a message that says so.
func TestExchangeTimeout(t *testing.T) {
	release := make(chan struct{})
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := baseConfig()
	c.TokenEndpoint = te.URL + "/token"
	var err error
	if c.HTTPClient, err = httpclient.New(httpclient.Options{Timeout: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	req, err := NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Exchange(testContext(t), c, req, "the-code")
	checkExchangeError(t, err, failure.Provider, []string{"token endpoint", "timed out"}, req)
}

func TestExchangeNeedsVerifier(t *testing.T) {
	c := baseConfig()
	_, err := Exchange(testContext(t), c, &Request{RedirectURI: c.RedirectURI}, "code")
	if failure.ClassOf(err) != failure.Usage {
		t.Fatalf("%v, want a usage error", err)
	}
}
