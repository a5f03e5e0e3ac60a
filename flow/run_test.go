package flow

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// fakeProvider is an Opener that plays browser and provider at once: it
// answers the authorize URL with the response that respond builds.
type fakeProvider struct {
	respond func(q url.Values) (mode string, params url.Values)
	mu      sync.Mutex
	opened  int
}

func (f *fakeProvider) Open(ctx context.Context, authorizeURL string) error {
	f.mu.Lock()
	f.opened++
	f.mu.Unlock()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return err
	}
	q := u.Query()
	mode, params := f.respond(q)
	var req *http.Request
	switch mode {
	case "query":
		req, err = http.NewRequestWithContext(ctx, "GET", q.Get("redirect_uri")+"?"+params.Encode(), nil)
	case "form_post":
		req, err = http.NewRequestWithContext(ctx, "POST", q.Get("redirect_uri"), strings.NewReader(params.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	default:
		return errors.New("fake provider: unknown mode " + mode)
	}
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

func TestRunCodeFlow(t *testing.T) {
	var order []string
	var mu sync.Mutex
	note := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		note("token")
		goodTokens(w, r)
	})
	c := baseConfig()
	c.Issuer = "https://issuer.example"
	c.IssParameterSupported = true
	c.RedirectURI = "http://127.0.0.1:0/callback"
	c.TokenEndpoint = te.URL
	fp := &fakeProvider{respond: func(q url.Values) (string, url.Values) {
		return "query", url.Values{"code": {"c-1"}, "state": {q.Get("state")}, "iss": {"https://issuer.example"}}
	}}
	var listening struct {
		redirect, authorize string
		deadline            time.Time
	}
	res, err := Run(testContext(t), c, RunOptions{
		Opener:  fp,
		Timeout: time.Minute,
		OnListening: func(r, a string, d time.Time) {
			note("listening")
			listening.redirect, listening.authorize, listening.deadline = r, a, d
		},
		BeforeExchange: func(ctx context.Context, req *Request, resp *Response) error {
			note("before exchange")
			if resp.Get("code") != "c-1" || req.Nonce == "" {
				t.Errorf("BeforeExchange got %+v", resp)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "listening,before exchange,token" {
		t.Errorf("order %v", order)
	}
	if res.Request.RedirectURI != listening.redirect || strings.HasSuffix(listening.redirect, ":0/callback") {
		t.Errorf("redirect %q / %q", res.Request.RedirectURI, listening.redirect)
	}
	if res.Request.URL != listening.authorize || listening.deadline.IsZero() {
		t.Errorf("OnListening got %+v", listening)
	}
	if res.Tokens == nil || res.Tokens.IDToken != "h.p.s" || res.Response.Mode != "query" {
		t.Errorf("result %+v", res)
	}
	if f := te.recorded()[0].form; f.Get("code") != "c-1" || f.Get("code_verifier") != res.Request.CodeVerifier || f.Get("redirect_uri") != listening.redirect {
		t.Errorf("token request %v", f)
	}
	assertPortFree(t, listening.redirect)
}

func TestRunImplicitFormPost(t *testing.T) {
	c := baseConfig()
	c.RedirectURI = "http://127.0.0.1:0/callback"
	c.TokenEndpoint = ""
	c.ResponseType, c.ResponseMode = "id_token token", "form_post"
	fp := &fakeProvider{respond: func(q url.Values) (string, url.Values) {
		if q.Get("response_mode") != "form_post" || q.Get("nonce") == "" || q.Has("code_challenge") {
			t.Errorf("authorize request %v", q)
		}
		return "form_post", url.Values{
			"id_token": {"i.d.t"}, "access_token": {"at-f"}, "token_type": {"Bearer"},
			"expires_in": {"3600"}, "scope": {"openid"}, "state": {q.Get("state")},
		}
	}}
	res, err := Run(testContext(t), c, RunOptions{Opener: fp})
	if err != nil {
		t.Fatal(err)
	}
	want := Tokens{IDToken: "i.d.t", AccessToken: "at-f", TokenType: "Bearer", Scope: "openid", ExpiresIn: 3600}
	if res.FrontChannel != want || res.Tokens != nil || res.Response.Mode != "form_post" {
		t.Errorf("result %+v", res)
	}
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name        string
		modify      func(*Config)
		respond     func(q url.Values) (string, url.Values)
		before      func(context.Context, *Request, *Response) error
		class       failure.Class
		want        string
		tokenCalled bool
		opened      bool
	}{
		{"provider error", nil, func(q url.Values) (string, url.Values) {
			return "query", url.Values{"error": {"access_denied"}, "error_description": {"no"}, "state": {q.Get("state")}}
		}, nil, failure.Flow, "error=access_denied", false, true},
		{"iss mix-up", func(c *Config) { c.IssParameterSupported = true }, func(q url.Values) (string, url.Values) {
			return "query", url.Values{"code": {"c"}, "state": {q.Get("state")}, "iss": {"https://evil.example"}}
		}, nil, failure.Flow, "is not the issuer", false, true},
		{"front channel refused", nil, func(q url.Values) (string, url.Values) {
			return "query", url.Values{"code": {"c"}, "state": {q.Get("state")}}
		}, func(context.Context, *Request, *Response) error {
			return errors.New("c_hash does not match")
		}, failure.Verification, "c_hash", false, true},
		{"front channel refused with a class", nil, func(q url.Values) (string, url.Values) {
			return "query", url.Values{"code": {"c"}, "state": {q.Get("state")}}
		}, func(context.Context, *Request, *Response) error {
			return failure.New(failure.Provider, "JWKS", "status 500")
		}, failure.Provider, "JWKS", false, true},
		{"invalid_grant", nil, func(q url.Values) (string, url.Values) {
			return "query", url.Values{"code": {"bad"}, "state": {q.Get("state")}}
		}, nil, failure.Flow, "invalid_grant", true, true},
		{"usage before anything", func(c *Config) { c.RedirectURI = "http://example.com:0/callback" }, nil, nil, failure.Usage, "loopback", false, false},
		{"query with tokens", func(c *Config) { c.ResponseType, c.ResponseMode = "id_token", "query" }, nil, nil, failure.Usage, "forbidden", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var called atomic.Bool
			te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
				called.Store(true)
				if r.PostFormValue("code") == "bad" {
					jsonReply(400, map[string]any{"error": "invalid_grant"})(w, r)
					return
				}
				goodTokens(w, r)
			})
			c := baseConfig()
			c.RedirectURI = "http://127.0.0.1:0/callback"
			c.TokenEndpoint = te.URL
			if tt.modify != nil {
				tt.modify(&c)
			}
			fp := &fakeProvider{respond: tt.respond}
			_, err := Run(testContext(t), c, RunOptions{Opener: fp, BeforeExchange: tt.before})
			if failure.ClassOf(err) != tt.class || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v (class %s), want %s containing %q", err, failure.ClassOf(err), tt.class, tt.want)
			}
			if called.Load() != tt.tokenCalled {
				t.Errorf("token endpoint called: %v, want %v", called.Load(), tt.tokenCalled)
			}
			if (fp.opened > 0) != tt.opened {
				t.Errorf("opener ran: %v, want %v", fp.opened > 0, tt.opened)
			}
		})
	}
}

// forgingOpener plays a hostile web page and then the provider: before the
// real response it makes the browser send responses that cannot be tied to
// the run, and records the listener's answers.
type forgingOpener struct {
	forged   []func(redirect, state string) *http.Request
	statuses []int
}

func (f *forgingOpener) Open(ctx context.Context, authorizeURL string) error {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return err
	}
	q := u.Query()
	for _, build := range f.forged {
		resp, err := testClient.Do(build(q.Get("redirect_uri"), q.Get("state")).WithContext(ctx))
		if err != nil {
			return err
		}
		resp.Body.Close()
		f.statuses = append(f.statuses, resp.StatusCode)
	}
	real := url.Values{"code": {"real-code"}, "state": {q.Get("state")}}
	resp, err := testClient.Get(q.Get("redirect_uri") + "?" + real.Encode())
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// TestRunIgnoresForgedResponses: a forged form POST in query mode, a GET
// with a wrong state and an error response with a wrong state do not end
// the run; each is answered 400 and reported through OnIgnored, and the
// real response that follows completes the run with its own code.
func TestRunIgnoresForgedResponses(t *testing.T) {
	var codes []string
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		codes = append(codes, r.PostFormValue("code"))
		goodTokens(w, r)
	})
	c := baseConfig()
	c.RedirectURI = "http://127.0.0.1:0/callback"
	c.TokenEndpoint = te.URL
	get := func(query string) func(string, string) *http.Request {
		return func(redirect, _ string) *http.Request {
			r, _ := http.NewRequest("GET", redirect+"?"+query, nil)
			return r
		}
	}
	o := &forgingOpener{forged: []func(string, string) *http.Request{
		func(redirect, state string) *http.Request {
			r, _ := http.NewRequest("POST", redirect, strings.NewReader("code=forged&state="+url.QueryEscape(state)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "http://evil.example")
			return r
		},
		get("code=forged&state=xyz"),
		get("error=access_denied&error_description=forged&state=xyz"),
	}}
	var warnings []string
	res, err := Run(testContext(t), c, RunOptions{Opener: o, OnIgnored: func(err error) { warnings = append(warnings, err.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.statuses) != 3 || o.statuses[0] != 400 || o.statuses[1] != 400 || o.statuses[2] != 400 {
		t.Errorf("forged responses answered %v, want 400 each", o.statuses)
	}
	if len(warnings) != 3 || !strings.Contains(warnings[0], "form POST") || !strings.Contains(warnings[1], "state is not this run's") {
		t.Errorf("warnings %q", warnings)
	}
	if res.Response.Get("code") != "real-code" || len(codes) != 1 || codes[0] != "real-code" {
		t.Errorf("response %v, redeemed %v; want the real code only", res.Response.Params, codes)
	}
}

// blockingOpener shows the URL and then waits, as a person who never
// finishes does.
type blockingOpener struct{ started chan struct{} }

func (b *blockingOpener) Open(ctx context.Context, _ string) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestRunTimeoutAndInterrupt(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		c := baseConfig()
		c.RedirectURI = "http://127.0.0.1:0/callback"
		var redirect string
		_, err := Run(testContext(t), c, RunOptions{
			Opener:      &blockingOpener{started: make(chan struct{})},
			Timeout:     30 * time.Millisecond,
			OnListening: func(r, _ string, _ time.Time) { redirect = r },
		})
		if failure.ClassOf(err) != failure.Flow || !strings.Contains(err.Error(), redirect) || !strings.Contains(err.Error(), "registered exactly") {
			t.Fatalf("%v, want a flow error naming %s", err, redirect)
		}
		assertPortFree(t, redirect)
	})
	t.Run("interrupt", func(t *testing.T) {
		c := baseConfig()
		c.RedirectURI = "http://127.0.0.1:0/callback"
		ctx, cancel := context.WithCancel(testContext(t))
		o := &blockingOpener{started: make(chan struct{})}
		go func() {
			<-o.started
			cancel()
		}()
		var redirect string
		_, err := Run(ctx, c, RunOptions{Opener: o, OnListening: func(r, _ string, _ time.Time) { redirect = r }})
		if failure.ClassOf(err) != failure.Interrupted {
			t.Fatalf("%v (class %s), want interrupted", err, failure.ClassOf(err))
		}
		assertPortFree(t, redirect)
	})
}
