package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// testDeadline bounds every wait in these tests; none is expected to come
// near it.
const testDeadline = 10 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// startListener listens on a free loopback port and builds a request for
// it, as Run does.
func startListener(t *testing.T, redirect string, modify func(*Config)) (*Listener, *Request) {
	t.Helper()
	l, err := Listen(testContext(t), redirect)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c := baseConfig()
	c.RedirectURI = l.RedirectURI()
	if modify != nil {
		modify(&c)
	}
	req, err := NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	return l, req
}

type waitResult struct {
	resp *Response
	err  error
}

func waitAsync(ctx context.Context, l *Listener, req *Request) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		resp, err := l.Wait(ctx, req)
		ch <- waitResult{resp, err}
	}()
	return ch
}

func result(t *testing.T, ch <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(testDeadline):
		t.Fatal("Wait did not return")
		return waitResult{}
	}
}

var testClient = &http.Client{
	Timeout:       testDeadline,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type reply struct {
	status int
	header http.Header
	body   string
}

// send makes one request; host, when set, replaces the Host header.
func send(t *testing.T, method, rawURL, host string, header http.Header, body string) reply {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if host != "" {
		req.Host = host
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: CSP %q", what, csp)
	}
	if h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q", what, h.Get("Referrer-Policy"))
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q", what, h.Get("Cache-Control"))
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, h.Get("X-Content-Type-Options"))
	}
}

var (
	secretRE = regexp.MustCompile(`data-relay-secret="([A-Za-z0-9_-]+)"`)
	nonceRE  = regexp.MustCompile(`<script nonce="([A-Za-z0-9_-]+)"`)
)

// relaySecret fetches the relay page and checks that its script may run
// under the page's CSP and nothing else may.
func relaySecret(t *testing.T, callback string) string {
	t.Helper()
	r := send(t, "GET", callback, "", nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("relay page: status %d", r.status)
	}
	checkSecurityHeaders(t, "relay page", r.header)
	m := secretRE.FindStringSubmatch(r.body)
	n := nonceRE.FindStringSubmatch(r.body)
	if m == nil || n == nil {
		t.Fatalf("relay page has no secret or nonce:\n%s", r.body)
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'nonce-" + n[1] + "'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, want := range []string{"location.hash", "history.replaceState", relayHeader, `method: "POST"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("relay script lacks %q", want)
		}
	}
	return m[1]
}

func relayHeaders(secret, origin string) http.Header {
	h := http.Header{relayHeader: {secret}, "Content-Type": {"text/plain;charset=UTF-8"}}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return h
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

func TestListenerModes(t *testing.T) {
	tests := []struct {
		name         string
		responseType string
		mode         string
		deliver      func(t *testing.T, l *Listener, params url.Values) reply
	}{
		{"query", "code", "query", func(t *testing.T, l *Listener, p url.Values) reply {
			return send(t, "GET", l.RedirectURI()+"?"+p.Encode(), "", nil, "")
		}},
		{"fragment", "id_token token", "fragment", func(t *testing.T, l *Listener, p url.Values) reply {
			secret := relaySecret(t, l.RedirectURI())
			origin := strings.TrimSuffix(l.RedirectURI(), "/callback")
			return send(t, "POST", l.RedirectURI(), "", relayHeaders(secret, origin), p.Encode())
		}},
		{"form_post", "code id_token", "form_post", func(t *testing.T, l *Listener, p url.Values) reply {
			return send(t, "POST", l.RedirectURI(), "", formHeader, p.Encode())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, req := startListener(t, "http://127.0.0.1:0/callback", func(c *Config) { c.ResponseType, c.ResponseMode = tt.responseType, tt.mode })
			ch := waitAsync(testContext(t), l, req)
			p := url.Values{
				"state": {req.State}, "code": {"the-code"}, "id_token": {"the.id.token"},
				"access_token": {"the-access-token"}, "token_type": {"Bearer"}, "iss": {req.Issuer},
			}
			r := tt.deliver(t, l, p)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			checkSecurityHeaders(t, "result", r.header)
			for _, secret := range []string{"the-code", "the.id.token", "the-access-token", req.State} {
				if strings.Contains(r.body, secret) {
					t.Errorf("result page shows %q", secret)
				}
			}
			if !strings.Contains(r.body, "Sign-in response received") {
				t.Errorf("result page: %s", r.body)
			}
			got := result(t, ch)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if got.resp.Mode != tt.mode || got.resp.Get("code") != "the-code" || got.resp.Get("access_token") != "the-access-token" {
				t.Errorf("response %+v", got.resp)
			}
		})
	}
}

func TestListenerQueryPageDropsQuery(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
	ch := waitAsync(testContext(t), l, req)
	r := send(t, "GET", l.RedirectURI()+"?code=c&state="+req.State, "", nil, "")
	if !strings.Contains(r.body, `history.replaceState(null, "", location.pathname)`) {
		t.Errorf("the result page does not drop the query from the address bar:\n%s", r.body)
	}
	n := nonceRE.FindStringSubmatch(r.body)
	if n == nil || !strings.Contains(r.header.Get("Content-Security-Policy"), "'nonce-"+n[1]+"'") {
		t.Errorf("the page's script is not allowed by its CSP")
	}
	if got := result(t, ch); got.err != nil {
		t.Fatal(got.err)
	}
}

// TestListenerStrayTraffic sends what must not end the wait, then the real
// response: the wait must end with the real one.
func TestListenerStrayTraffic(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0/callback", func(c *Config) { c.ResponseType = "id_token" })
	ch := waitAsync(testContext(t), l, req)
	cb := l.RedirectURI()
	u, _ := url.Parse(cb)
	origin := "http://" + u.Host
	forged := url.Values{"state": {req.State}, "id_token": {"forged"}}.Encode()
	secret := relaySecret(t, cb)

	strays := []struct {
		name   string
		method string
		url    string
		host   string
		header http.Header
		body   string
		status int
	}{
		{"favicon", "GET", origin + "/favicon.ico", "", nil, "", 404},
		{"other path with a response", "GET", origin + "/other?" + forged, "", nil, "", 404},
		{"path prefix", "GET", cb + "x?" + forged, "", nil, "", 404},
		{"DNS rebinding", "GET", cb + "?" + forged, "evil.example:" + u.Port(), nil, "", 421},
		{"wrong port in Host", "GET", cb + "?" + forged, "127.0.0.1:1", nil, "", 421},
		{"not a response", "GET", cb + "?utm_source=x", "", nil, "", 400},
		{"PUT", "PUT", cb, "", formHeader, forged, 405},
		{"OPTIONS preflight", "OPTIONS", cb, "", http.Header{"Origin": {"http://evil.example"}, "Access-Control-Request-Headers": {relayHeader}}, "", 405},
		{"relay without secret", "POST", cb, "", relayHeaders("", origin), forged, 403},
		{"relay with wrong secret", "POST", cb, "", relayHeaders("x"+secret, origin), forged, 403},
		{"relay from another origin", "POST", cb, "", relayHeaders(secret, "http://evil.example"), forged, 403},
		{"relay secret twice", "POST", cb, "", http.Header{relayHeader: {secret, secret}}, forged, 403},
		{"plain text without the header", "POST", cb, "", http.Header{"Content-Type": {"text/plain"}}, forged, 415},
		{"JSON post", "POST", cb, "", http.Header{"Content-Type": {"application/json"}}, `{"state":"x"}`, 415},
		{"huge form", "POST", cb, "", formHeader, "state=" + strings.Repeat("a", maxBody+1), 413},
		{"huge relay", "POST", cb, "", relayHeaders(secret, origin), "state=" + strings.Repeat("a", maxBody+1), 413},
		{"empty relay", "POST", cb, "", relayHeaders(secret, origin), "", 200},
		{"empty form", "POST", cb, "", formHeader, "", 400},
	}
	for _, s := range strays {
		r := send(t, s.method, s.url, s.host, s.header, s.body)
		if r.status != s.status {
			t.Errorf("%s: status %d, want %d (%s)", s.name, r.status, s.status, strings.TrimSpace(r.body))
		}
		checkSecurityHeaders(t, s.name, r.header)
	}
	if l.capturedAny() {
		t.Fatal("a stray request ended the wait")
	}
	real := url.Values{"state": {req.State}, "id_token": {"real"}}.Encode()
	if r := send(t, "POST", cb, "", relayHeaders(secret, origin), real); r.status != 200 {
		t.Fatalf("real response: status %d", r.status)
	}
	got := result(t, ch)
	if got.err != nil || got.resp.Get("id_token") != "real" {
		t.Fatalf("got %+v, %v; want the real response", got.resp, got.err)
	}
}

func TestListenerSecondCallback(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
	ch := waitAsync(testContext(t), l, req)
	first := send(t, "GET", l.RedirectURI()+"?code=first&state="+req.State, "", nil, "")
	if first.status != 200 {
		t.Fatalf("first: %d", first.status)
	}
	got := result(t, ch)
	for _, late := range []struct {
		method string
		header http.Header
		body   string
		query  string
	}{
		{"GET", nil, "", "?code=second&state=" + req.State},
		{"POST", formHeader, "code=second&state=" + req.State, ""},
	} {
		r := send(t, late.method, l.RedirectURI()+late.query, "", late.header, late.body)
		if r.status != http.StatusConflict {
			t.Errorf("late %s: status %d, want 409", late.method, r.status)
		}
		checkSecurityHeaders(t, "409", r.header)
	}
	if got.err != nil || got.resp.Get("code") != "first" {
		t.Fatalf("got %+v, %v", got.resp, got.err)
	}
	again, err := l.Wait(testContext(t), req)
	if err != nil || again.Get("code") != "first" {
		t.Fatalf("the first result does not stand: %+v, %v", again, err)
	}
}

// TestListenerCaptureBeforeWait covers a browser faster than the caller:
// the response is held until Wait names the request, then judged.
func TestListenerCaptureBeforeWait(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
	sent := make(chan reply, 1)
	go func() { sent <- send(t, "GET", l.RedirectURI()+"?code=c&state="+req.State, "", nil, "") }()
	resp, err := l.Wait(testContext(t), req)
	if err != nil || resp.Get("code") != "c" {
		t.Fatalf("%+v, %v", resp, err)
	}
	if r := <-sent; r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
}

// TestListenerIgnoresUntiedResponses: what any web page can make a browser
// send to the listener (a form POST in query mode, a GET with another
// state or none, an error response with another state) is answered 400 and
// leaves the wait going; the real response then completes it, and only it
// is believed.
func TestListenerIgnoresUntiedResponses(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
	var mu sync.Mutex
	var warnings []string
	l.OnIgnored(func(err error) {
		mu.Lock()
		warnings = append(warnings, err.Error())
		mu.Unlock()
	})
	ch := waitAsync(testContext(t), l, req)
	cb := l.RedirectURI()
	u, _ := url.Parse(cb)
	evil := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"http://evil.example"}}
	forged := []struct {
		name, method, query string
		header              http.Header
		body, warning       string
	}{
		{"form POST in query mode, right state", "POST", "", evil, "code=forged&state=" + req.State, "form POST"},
		{"form POST in query mode, wrong state", "POST", "", formHeader, "code=forged&state=xyz", "form POST"},
		{"GET with a wrong state", "GET", "?code=forged&state=xyz", nil, "", "state is not this run's"},
		{"GET with a state prefix", "GET", "?code=forged&state=" + req.State[:10], nil, "", "state is not this run's"},
		{"GET without a state", "GET", "?code=forged", nil, "", "no state"},
		{"error with a wrong state", "GET", "?error=access_denied&error_description=click+here&state=xyz", nil, "", "state is not this run's"},
		{"error without a state", "GET", "?error=login_required&error_description=see+here", nil, "", "error=login_required, untrusted"},
		{"malformed, wrong state", "GET", "?code=a&code=b&state=xyz&x=%zz", nil, "", "state is not this run's"},
	}
	for _, f := range forged {
		r := send(t, f.method, cb+f.query, "", f.header, f.body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "still waiting") {
			t.Errorf("%s: status %d, want 400 saying it still waits: %s", f.name, r.status, r.body)
		}
		if strings.Contains(r.body, "click here") {
			t.Errorf("%s: the page shows the forged error text", f.name)
		}
		checkSecurityHeaders(t, f.name, r.header)
	}
	if l.capturedAny() {
		t.Fatal("a response that cannot be tied to the run ended the wait")
	}
	mu.Lock()
	if len(warnings) != maxIgnoredReports {
		t.Errorf("%d warnings, want the first %d of %d ignored responses", len(warnings), maxIgnoredReports, len(forged))
	}
	for i, w := range warnings {
		if !strings.Contains(w, forged[i].warning) || strings.ContainsAny(w, "\r\n") || strings.Contains(w, "click here") || strings.Contains(w, req.State) {
			t.Errorf("warning %d %q: want one line saying %q", i, w, forged[i].warning)
		}
	}
	mu.Unlock()
	real := send(t, "GET", "http://"+u.Host+u.Path+"?code=real&state="+req.State, "", nil, "")
	if real.status != http.StatusOK || !strings.Contains(real.body, "Sign-in response received") {
		t.Fatalf("real response: %d %s", real.status, real.body)
	}
	got := result(t, ch)
	if got.err != nil || got.resp.Get("code") != "real" || got.resp.Mode != modeQuery {
		t.Fatalf("got %+v, %v; want the real response", got.resp, got.err)
	}
	if r := send(t, "GET", cb+"?code=late&state=xyz", "", nil, ""); r.status != http.StatusConflict {
		t.Errorf("after the real response: %d, want 409", r.status)
	}
}

// TestListenerTiedResponseRefused: a response with the run's state is the
// run's, and a broken one ends the wait (refused), unlike an untied one.
func TestListenerTiedResponseRefused(t *testing.T) {
	for _, tt := range []struct{ name, query, want string }{
		{"repeated state, one ours", "?code=c&state=STATE&state=other", `"state" appears 2 times`},
		{"repeated code", "?code=a&code=b&state=STATE", `"code" appears 2 times`},
		{"malformed", "?code=c&state=STATE&x=%zz", "malformed"},
		{"error", "?error=access_denied&state=STATE", "error=access_denied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
			ch := waitAsync(testContext(t), l, req)
			send(t, "GET", l.RedirectURI()+strings.ReplaceAll(tt.query, "STATE", req.State), "", nil, "")
			got := result(t, ch)
			if failure.ClassOf(got.err) != failure.Flow || !strings.Contains(got.err.Error(), tt.want) {
				t.Fatalf("%v, want a flow error containing %q", got.err, tt.want)
			}
		})
	}
}

// TestListenerModesAccepted: form_post is taken only when asked for; a
// query or a relayed fragment is taken for a form_post request too (Dex
// answers form_post requests with a fragment).
func TestListenerModesAccepted(t *testing.T) {
	for _, tt := range []struct {
		name, asked, sent string
		want              int
	}{
		{"form_post asked, query sent", "form_post", "query", 200},
		{"form_post asked, fragment sent", "form_post", "fragment", 200},
		{"form_post asked, form_post sent", "form_post", "form_post", 200},
		{"query asked, fragment sent", "query", "fragment", 200},
		{"query asked, form_post sent", "query", "form_post", 400},
		{"fragment asked, form_post sent", "fragment", "form_post", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, req := startListener(t, "http://127.0.0.1:0/callback", func(c *Config) { c.ResponseMode = tt.asked })
			ch := waitAsync(testContext(t), l, req)
			p := url.Values{"code": {"c"}, "state": {req.State}}.Encode()
			var r reply
			switch tt.sent {
			case "query":
				r = send(t, "GET", l.RedirectURI()+"?"+p, "", nil, "")
			case "fragment":
				secret := relaySecret(t, l.RedirectURI())
				r = send(t, "POST", l.RedirectURI(), "", relayHeaders(secret, ""), p)
			case "form_post":
				r = send(t, "POST", l.RedirectURI(), "", formHeader, p)
			}
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if tt.want != 200 {
				if l.capturedAny() {
					t.Fatal("captured")
				}
				return
			}
			if got := result(t, ch); got.err != nil || got.resp.Mode != tt.sent {
				t.Fatalf("%+v, %v", got.resp, got.err)
			}
		})
	}
}

// TestListenerTimeoutCountsIgnored: the timeout message says how many
// responses were ignored and why, and shows the error of one without a
// state only marked untrusted.
func TestListenerTimeoutCountsIgnored(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
	l.Expect(req)
	cb := l.RedirectURI()
	for _, s := range []struct{ method, query, body string }{
		{"GET", "?code=x&state=wrong", ""},
		{"GET", "?error=access_denied&state=wrong", ""},
		{"GET", "?error=invalid_request&error_description=state+dropped", ""},
		{"POST", "", "code=x&state=" + req.State},
	} {
		var h http.Header
		if s.method == "POST" {
			h = formHeader
		}
		if r := send(t, s.method, cb+s.query, "", h, s.body); r.status != 400 {
			t.Fatalf("%s %s: status %d", s.method, s.query, r.status)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := l.Wait(ctx, req)
	if failure.ClassOf(err) != failure.Flow {
		t.Fatalf("%v, want a flow error", err)
	}
	for _, want := range []string{"timed out", l.RedirectURI(), "no response carried this run's state", "4 responses were ignored", "2 with a state that is not this run's",
		"1 without a state (the last one said, untrusted: error=invalid_request error_description=\"state dropped\")", "1 form POST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestListenerRejectedResponse(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
	ch := waitAsync(testContext(t), l, req)
	q := url.Values{"state": {req.State}, "error": {"access_denied"}, "error_description": {"User <b>said</b> no"}}
	r := send(t, "GET", l.RedirectURI()+"?"+q.Encode(), "", nil, "")
	if r.status != 200 || !strings.Contains(r.body, "The provider refused the sign-in") || !strings.Contains(r.body, "access_denied") {
		t.Errorf("result page: %d %s", r.status, r.body)
	}
	if strings.Contains(r.body, "<b>") {
		t.Errorf("the provider's text reached the page unescaped")
	}
	got := result(t, ch)
	if failure.ClassOf(got.err) != failure.Flow || !strings.Contains(got.err.Error(), "access_denied") {
		t.Fatalf("err %v", got.err)
	}
}

func TestCheckResponse(t *testing.T) {
	req := &Request{State: "the-state", Issuer: "https://issuer.example", ResponseType: "code"}
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name   string
		req    func(r Request) Request
		raw    string
		want   string // "" means accepted
		absent []string
	}{
		{"ok", nil, "code=c&state=the-state", "", nil},
		{"ok with iss", nil, "code=c&state=the-state&iss=https%3A%2F%2Fissuer.example", "", nil},
		{"state missing", nil, "code=c", "no state", nil},
		{"state empty", nil, "code=c&state=", "no state", nil},
		{"state wrong", nil, "code=c&state=other", "does not match", nil},
		{"state prefix", nil, "code=c&state=the-stat", "does not match", nil},
		{"error with wrong state", nil, "error=access_denied&error_description=click+here&state=other", "not trusted", []string{"click here"}},
		{"provider error", nil, "error=access_denied&error_description=The+user+said+no&error_uri=https%3A%2F%2Fhelp.example%2Fe&state=the-state",
			`error=access_denied error_description="The user said no" error_uri="https://help.example/e"`, nil},
		{"control characters", nil, "error=login_required%1b%5b2J&error_description=line1%0aline2%0d%1b%5b31m&state=the-state",
			`error=login_required[2J error_description="line1line2[31m"`, []string{"\n", "\r", "\x1b"}},
		{"long description", nil, "error=invalid_scope&error_description=" + long + "&state=the-state", "invalid_scope", []string{long[:400]}},
		{"code and error", nil, "code=c&error=server_error&state=the-state", "both a code and an error", nil},
		{"repeated state", nil, "code=c&state=the-state&state=the-state", `"state" appears 2 times`, nil},
		{"repeated code", nil, "code=a&code=b&state=the-state", `"code" appears 2 times`, nil},
		{"malformed", nil, "code=c&state=%zz", "malformed", nil},
		{"semicolons", nil, "code=c&state=the-state;x=1", "malformed", nil},
		{"iss differs", nil, "code=c&state=the-state&iss=https%3A%2F%2Fevil.example", "is not the issuer", nil},
		{"iss empty", nil, "code=c&state=the-state&iss=", "is not the issuer", nil},
		{"iss missing, promised", func(r Request) Request { r.IssParameterSupported = true; return r }, "code=c&state=the-state", "no iss parameter", nil},
		{"iss missing, promised, error", func(r Request) Request { r.IssParameterSupported = true; return r }, "error=access_denied&state=the-state", "no iss parameter", nil},
		{"iss missing, promised, id_token", func(r Request) Request {
			r.IssParameterSupported, r.ResponseType = true, "code id_token"
			return r
		}, "code=c&id_token=x.y.z&state=the-state", "", nil},
		{"iss present, promised", func(r Request) Request { r.IssParameterSupported = true; return r }, "code=c&state=the-state&iss=https%3A%2F%2Fissuer.example", "", nil},
		{"no code", nil, "state=the-state", "no code", nil},
		{"no id_token", func(r Request) Request { r.ResponseType = "id_token"; return r }, "state=the-state&access_token=a", "no id_token", nil},
		{"no access_token", func(r Request) Request { r.ResponseType = "id_token token"; return r }, "state=the-state&id_token=a", "no access_token", nil},
		{"implicit ok", func(r Request) Request { r.ResponseType = "id_token token"; return r }, "state=the-state&id_token=a&access_token=b", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := *req
			if tt.req != nil {
				r = tt.req(r)
			}
			resp, ok, err := parseParams(modeQuery, tt.raw)
			if !ok {
				t.Fatalf("%q not taken for a response", tt.raw)
			}
			if err == nil {
				err = checkResponse(&r, resp)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tt.want)
			}
			if failure.ClassOf(err) != failure.Flow {
				t.Errorf("class %s, want flow", failure.ClassOf(err))
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("%q does not contain %q", msg, tt.want)
			}
			if len(msg) > 1000 {
				t.Errorf("message of %d bytes", len(msg))
			}
			for _, a := range append(tt.absent, "the-state") {
				if strings.Contains(msg, a) {
					t.Errorf("%q contains %q", msg, a)
				}
			}
		})
	}
}

func TestListenerTimeoutAndCancel(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := l.Wait(ctx, req)
		if failure.ClassOf(err) != failure.Flow {
			t.Fatalf("%v: class %s, want flow", err, failure.ClassOf(err))
		}
		for _, want := range []string{l.RedirectURI(), "registered exactly"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not mention %q", err, want)
			}
		}
	})
	t.Run("cancel", func(t *testing.T) {
		l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
		ctx, cancel := context.WithCancel(context.Background())
		ch := waitAsync(ctx, l, req)
		cancel()
		got := result(t, ch)
		if failure.ClassOf(got.err) != failure.Interrupted || !errors.Is(got.err, context.Canceled) {
			t.Fatalf("%v: class %s, want interrupted", got.err, failure.ClassOf(got.err))
		}
		l.Close()
		assertPortFree(t, l.RedirectURI())
	})
	t.Run("close", func(t *testing.T) {
		l, req := startListener(t, "http://127.0.0.1:0/callback", nil)
		ch := waitAsync(testContext(t), l, req)
		l.Close()
		if got := result(t, ch); got.err == nil {
			t.Fatal("Wait on a closed listener returned no error")
		}
	})
}

func assertPortFree(t *testing.T, redirect string) {
	t.Helper()
	u, _ := url.Parse(redirect)
	ln, err := net.Listen("tcp4", "127.0.0.1:"+u.Port())
	if err != nil {
		t.Fatalf("port %s still held after Close: %v", u.Port(), err)
	}
	ln.Close()
}

func TestListenPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, err := Listen(testContext(t), fmt.Sprintf("http://%s:%d/callback", host, port))
		if failure.ClassOf(err) != failure.Usage {
			t.Fatalf("%s: %v, want a usage error", host, err)
		}
		if !strings.Contains(err.Error(), strconv.Itoa(port)) || !strings.Contains(err.Error(), "already in use") {
			t.Errorf("%s: %q does not name the port", host, err)
		}
	}
}

// TestListenLocalhost checks that localhost takes both loopback addresses,
// and that ::1 held by another program is an error rather than a silent
// IPv4-only listener, where the machine has IPv6.
func TestListenLocalhost(t *testing.T) {
	v6, v6err := net.Listen("tcp6", "[::1]:0")
	if v6err != nil {
		// No IPv6 loopback here: localhost means 127.0.0.1 alone.
		l, err := Listen(testContext(t), "http://localhost:0/callback")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if len(l.lns) != 1 {
			t.Fatalf("%d listeners without IPv6", len(l.lns))
		}
		return
	}
	port := v6.Addr().(*net.TCPAddr).Port
	_, err := Listen(testContext(t), fmt.Sprintf("http://localhost:%d/callback", port))
	v6.Close()
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("::1 taken: %v, want a usage error naming port %d", err, port)
	}

	l, req := startListener(t, "http://localhost:0/callback", nil)
	if len(l.lns) != 2 {
		t.Fatalf("%d listeners, want 127.0.0.1 and ::1", len(l.lns))
	}
	u, _ := url.Parse(l.RedirectURI())
	if u.Hostname() != "localhost" || u.Port() == "0" {
		t.Fatalf("RedirectURI %q", l.RedirectURI())
	}
	for _, addr := range []string{"127.0.0.1", "[::1]"} {
		r := send(t, "GET", "http://"+addr+":"+u.Port()+"/nothing-here", "", nil, "")
		if r.status != 404 {
			t.Errorf("%s: status %d", addr, r.status)
		}
	}
	ch := waitAsync(testContext(t), l, req)
	send(t, "GET", "http://[::1]:"+u.Port()+"/callback?code=c&state="+req.State, "localhost:"+u.Port(), nil, "")
	if got := result(t, ch); got.err != nil {
		t.Fatal(got.err)
	}
}

func TestListenIPv6Literal(t *testing.T) {
	if _, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		_, err := Listen(testContext(t), "http://[::1]:0/callback")
		if failure.ClassOf(err) != failure.Usage {
			t.Fatalf("[::1] without IPv6: %v, want a usage error", err)
		}
		return
	}
	l, req := startListener(t, "http://[::1]:0/cb", nil)
	ch := waitAsync(testContext(t), l, req)
	send(t, "GET", l.RedirectURI()+"?code=c&state="+req.State, "", nil, "")
	if got := result(t, ch); got.err != nil {
		t.Fatal(got.err)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, uri := range []string{
		"http://0.0.0.0:0/cb", "http://example.com:0/cb", "https://127.0.0.1:0/cb",
		"http://10.0.0.1:0/cb", "http://[::]:0/cb", "ftp://127.0.0.1:0/cb",
	} {
		l, err := Listen(testContext(t), uri)
		if err == nil {
			l.Close()
			t.Errorf("%s: listening", uri)
			continue
		}
		if failure.ClassOf(err) != failure.Usage {
			t.Errorf("%s: class %s, want usage", uri, failure.ClassOf(err))
		}
	}
}

func TestListenerRootPath(t *testing.T) {
	l, req := startListener(t, "http://127.0.0.1:0", nil)
	ch := waitAsync(testContext(t), l, req)
	u, _ := url.Parse(l.RedirectURI())
	send(t, "GET", "http://"+u.Host+"/?code=c&state="+req.State, "", nil, "")
	if got := result(t, ch); got.err != nil {
		t.Fatal(got.err)
	}
}
