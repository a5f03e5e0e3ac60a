package standin_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/testsupport/leakcheck"
)

var _ flow.Opener = (*standin.Browser)(nil)

const testDeadline = 10 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// provider is a small authorization server with a cookie session, a
// sign-in form, an extra redirect after sign-in, and the three response
// modes. It answers only what these tests ask.
type provider struct {
	*httptest.Server
	mu      sync.Mutex
	pending map[string]url.Values // authorize parameters by session
	codes   map[string]url.Values
}

const (
	user     = "alice"
	password = "alice-demo"
)

func newProvider(t *testing.T) *provider {
	p := &provider{pending: map[string]url.Values{}, codes: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("GET /signin/form", p.form)
	mux.HandleFunc("POST /signin/form", p.signin)
	mux.HandleFunc("GET /resume", p.resume)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?"+r.URL.RawQuery, http.StatusFound)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the secret body", http.StatusInternalServerError)
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *provider) authorize(w http.ResponseWriter, r *http.Request) {
	sid := fmt.Sprintf("s%d", time.Now().UnixNano())
	p.mu.Lock()
	p.pending[sid] = r.URL.Query()
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/signin/form?step=1", http.StatusFound)
}

func (p *provider) session(r *http.Request) (string, url.Values) {
	c, err := r.Cookie("sid")
	if err != nil {
		return "", nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.Value, p.pending[c.Value]
}

func (p *provider) form(w http.ResponseWriter, r *http.Request) {
	p.writeForm(w, "")
}

func (p *provider) writeForm(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>Sign in</title>
<script>document.write('<form action="/evil"><input type="password" name="x"></form>')</script></head><body>
<form action="/search"><input name="q"><button>Search</button></form>
<p class="error">%s</p>
<form method="post">
<input type="hidden" name="csrf" value="tok-123">
<label>User <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form></body></html>`, html.EscapeString(msg))
}

func (p *provider) signin(w http.ResponseWriter, r *http.Request) {
	sid, q := p.session(r)
	if q == nil || r.PostFormValue("csrf") != "tok-123" || r.URL.Query().Get("step") != "1" {
		http.Error(w, "no session", http.StatusBadRequest)
		return
	}
	if r.PostFormValue("username") != user || r.PostFormValue("password") != password {
		p.writeForm(w, "Wrong username or password.")
		return
	}
	http.Redirect(w, r, "/resume?sid="+sid, http.StatusSeeOther)
}

func (p *provider) resume(w http.ResponseWriter, r *http.Request) {
	_, q := p.session(r)
	if q == nil {
		http.Error(w, "no session", http.StatusBadRequest)
		return
	}
	params := url.Values{"state": {q.Get("state")}}
	for _, rt := range strings.Fields(q.Get("response_type")) {
		switch rt {
		case "code":
			code := fmt.Sprintf("code-%d", time.Now().UnixNano())
			p.mu.Lock()
			p.codes[code] = q
			p.mu.Unlock()
			params.Set("code", code)
		case "id_token":
			params.Set("id_token", "header.payload+/=.sig")
		case "token":
			params.Set("access_token", "at-"+q.Get("nonce"))
			params.Set("token_type", "Bearer")
		}
	}
	redirect := q.Get("redirect_uri")
	mode := q.Get("response_mode")
	if mode == "" {
		mode = "query"
		if q.Get("response_type") != "code" {
			mode = "fragment"
		}
	}
	switch mode {
	case "query":
		http.Redirect(w, r, redirect+"?"+params.Encode(), http.StatusFound)
	case "fragment":
		http.Redirect(w, r, redirect+"#"+params.Encode(), http.StatusFound)
	case "form_post":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><head><title>Submit</title></head><body onload="javascript:document.forms[0].submit()"><form method="post" action="%s">`, html.EscapeString(redirect))
		for k := range params {
			fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s"/>`, html.EscapeString(k), html.EscapeString(params.Get(k)))
		}
		fmt.Fprint(w, `<noscript><button type="submit">Continue</button></noscript></form></body></html>`)
	}
}

func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	q, ok := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	w.Header().Set("Content-Type", "application/json")
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") || r.PostFormValue("redirect_uri") != q.Get("redirect_uri") {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at-back", "token_type": "Bearer", "id_token": "back.id.token", "expires_in": 60})
}

func (p *provider) config(responseType, responseMode string) flow.Config {
	return flow.Config{
		Issuer:                p.URL,
		AuthorizationEndpoint: p.URL + "/authorize",
		TokenEndpoint:         p.URL + "/token",
		ClientID:              "public",
		RedirectURI:           "http://127.0.0.1:0/callback",
		ResponseType:          responseType,
		ResponseMode:          responseMode,
		Scopes:                []string{"openid", "groups"},
	}
}

// deliverOnce runs the stand-in against a listener, as Run does, and
// returns what the listener received.
func deliverOnce(t *testing.T, c flow.Config, b *standin.Browser) (*flow.Response, *flow.Request, error) {
	t.Helper()
	ctx := testContext(t)
	l, err := flow.Listen(ctx, c.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c.RedirectURI = l.RedirectURI()
	req, err := flow.NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		resp *flow.Response
		err  error
	}
	waited := make(chan res, 1)
	go func() {
		r, err := l.Wait(ctx, req)
		waited <- res{r, err}
	}()
	if err := b.Open(ctx, req.URL); err != nil {
		return nil, req, err
	}
	r := <-waited
	return r.resp, req, r.err
}

func TestDelivery(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		responseType, mode, wantMode string
		want                         []string
	}{
		{"code", "", "query", []string{"code"}},
		{"code", "form_post", "form_post", []string{"code"}},
		{"code", "fragment", "fragment", []string{"code"}},
		{"id_token", "", "fragment", []string{"id_token"}},
		{"id_token token", "", "fragment", []string{"id_token", "access_token"}},
		{"id_token token", "form_post", "form_post", []string{"id_token", "access_token"}},
		{"code id_token", "", "fragment", []string{"code", "id_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.responseType+"/"+tt.mode, func(t *testing.T) {
			b := &standin.Browser{Username: user, Password: password}
			resp, req, err := deliverOnce(t, p.config(tt.responseType, tt.mode), b)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Mode != tt.wantMode {
				t.Errorf("mode %q, want %q", resp.Mode, tt.wantMode)
			}
			for _, k := range tt.want {
				if resp.Get(k) == "" {
					t.Errorf("no %s in %v", k, resp.Params)
				}
			}
			if resp.Get("id_token") != "" && resp.Get("id_token") != "header.payload+/=.sig" {
				t.Errorf("id_token mangled in transit: %q", resp.Get("id_token"))
			}
			if at := resp.Get("access_token"); at != "" && at != "at-"+req.Nonce {
				t.Errorf("access_token %q", at)
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	p := newProvider(t)
	b := &standin.Browser{Username: user, Password: "wrong-password"}
	_, _, err := deliverOnce(t, p.config("code", ""), b)
	if err == nil || err.Error() != "sign-in as alice failed: the provider showed the sign-in form again" {
		t.Fatalf("error %v", err)
	}
	if failure.ClassOf(err) != failure.Flow {
		t.Errorf("class %s", failure.ClassOf(err))
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Error("the password is in the message")
	}
}

func TestOpenErrors(t *testing.T) {
	p := newProvider(t)
	redirect := url.QueryEscape("http://127.0.0.1:1/callback")
	tests := []struct {
		name  string
		url   string
		class failure.Class
		want  string
	}{
		{"redirect loop", p.URL + "/loop?redirect_uri=" + redirect + "&code=secret-code", failure.Flow, "gave up after 20"},
		{"provider 500", p.URL + "/broken?redirect_uri=" + redirect, failure.Provider, "status 500"},
		{"provider 404", p.URL + "/nothing?redirect_uri=" + redirect, failure.Flow, "status 404"},
		{"remote redirect_uri", p.URL + "/authorize?redirect_uri=" + url.QueryEscape("https://app.example/cb"), failure.Usage, "loopback"},
		{"no redirect_uri", p.URL + "/authorize", failure.Usage, "loopback"},
		{"unreachable", "http://127.0.0.1:1/authorize?redirect_uri=" + redirect + "&state=secret-state", failure.Provider, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&standin.Browser{Username: user, Password: password}).Open(testContext(t), tt.url)
			if failure.ClassOf(err) != tt.class || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v (class %s), want %s containing %q", err, failure.ClassOf(err), tt.class, tt.want)
			}
			for _, leak := range []string{"secret", password, "\n"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("%q contains %q", err, leak)
				}
			}
		})
	}
}

// TestListenerRefusal: a listener that already has its response answers
// 409, which the stand-in reports.
func TestListenerRefusal(t *testing.T) {
	p := newProvider(t)
	ctx := testContext(t)
	l, err := flow.Listen(ctx, "http://127.0.0.1:0/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := p.config("code", "")
	c.RedirectURI = l.RedirectURI()
	req, err := flow.NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	// The response arrives before Wait: the listener must know the
	// request to tell it from a forged one.
	l.Expect(req)
	b := &standin.Browser{Username: user, Password: password}
	if err := b.Open(ctx, req.URL); err != nil {
		t.Fatal(err)
	}
	err = b.Open(ctx, req.URL)
	if failure.ClassOf(err) != failure.Flow || !strings.Contains(err.Error(), "409") {
		t.Fatalf("second delivery: %v", err)
	}
	if _, err := l.Wait(ctx, req); err != nil {
		t.Fatal(err)
	}
}

// TestRun runs whole flows through flow.Run with the stand-in as Opener.
func TestRun(t *testing.T) {
	p := newProvider(t)
	for _, tt := range []struct{ responseType, mode string }{
		{"code", ""}, {"code", "form_post"}, {"code id_token", "fragment"}, {"id_token token", ""},
	} {
		t.Run(tt.responseType+"/"+tt.mode, func(t *testing.T) {
			c := p.config(tt.responseType, tt.mode)
			c.RedirectURI = "http://localhost:0/callback"
			res, err := flow.Run(testContext(t), c, flow.RunOptions{
				Opener:  &standin.Browser{Username: user, Password: password},
				Timeout: testDeadline,
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tt.responseType, "code") {
				if res.Tokens == nil || res.Tokens.AccessToken != "at-back" || res.Tokens.IDToken != "back.id.token" {
					t.Errorf("tokens %+v", res.Tokens)
				}
			} else if res.FrontChannel.AccessToken != "at-"+res.Request.Nonce || res.Tokens != nil {
				t.Errorf("front channel %+v, tokens %+v", res.FrontChannel, res.Tokens)
			}
		})
	}
	t.Run("wrong password ends the run at once", func(t *testing.T) {
		_, err := flow.Run(testContext(t), p.config("code", ""), flow.RunOptions{
			Opener:  &standin.Browser{Username: user, Password: "nope"},
			Timeout: time.Hour,
		})
		if err == nil || !strings.Contains(err.Error(), "sign-in as alice failed") {
			t.Fatalf("%v", err)
		}
	})
}

// TestOwnClientLeavesNothing: a Browser without a Client makes its own, and
// its kept-alive connections to the provider and the listener (and their
// goroutines) end with Open.
func TestOwnClientLeavesNothing(t *testing.T) {
	p := newProvider(t)
	before := leakcheck.Take()
	c := p.config("code", "")
	c.RedirectURI = "http://127.0.0.1:0/callback"
	if _, err := flow.Run(testContext(t), c, flow.RunOptions{
		Opener:  &standin.Browser{Username: user, Password: password},
		Timeout: testDeadline,
	}); err != nil {
		t.Fatal(err)
	}
	before.Check(t, 5*time.Second)
}
