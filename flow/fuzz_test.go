package flow

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzListener is a Listener that was never bound: serveHTTP and capture
// need no socket, so each fuzz input gets a fresh one cheaply.
func fuzzListener(t testing.TB) (*Listener, *Request) {
	target, err := parseRedirectURI("http://127.0.0.1:8765/callback")
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{State: "state-0123456789", Nonce: "nonce-0123456789", Issuer: "https://idp.example", ResponseType: "code", RedirectURI: target.raw}
	l := &Listener{
		target: target, redirectURI: target.raw, port: 8765, secret: "relay-secret-0123",
		closed: make(chan struct{}), captured: make(chan struct{}), ready: make(chan struct{}),
	}
	l.Expect(req)
	return l, req
}

// checkVerdictMessage: whatever the input, a refusal is one line.
func checkVerdictMessage(t *testing.T, err error) {
	if err == nil {
		return
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\r\n\x1b") || !utf8.ValidString(msg) {
		t.Fatalf("message is not one clean line: %q", msg)
	}
}

// FuzzParseParams fuzzes the parsing and checks of an authorization
// response as it arrives in a callback query or a form_post body (RFC 6749
// §4.1.2, OAuth 2.0 Form Post Response Mode §2, RFC 9207 §2.4).
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"code=abc&state=state-0123456789",
		"code=abc&state=state-0123456789&iss=https%3A%2F%2Fidp.example",
		"error=access_denied&error_description=no%1b%5b31m&state=state-0123456789",
		"code=a&code=b&state=state-0123456789",
		"code=a&error=x&state=state-0123456789",
		"state=%zz&code=1",
		"id_token=a.b.c&state=x;y",
		"",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, issPromised bool) {
		for _, mode := range []string{modeQuery, modeFormPost} {
			resp, ok, err := parseParams(mode, raw)
			checkVerdictMessage(t, err)
			if !ok || err != nil {
				continue
			}
			for k, v := range resp.Params {
				if len(v) != 1 {
					t.Fatalf("parameter %q accepted %d times", k, len(v))
				}
			}
			req := &Request{State: "state-0123456789", Issuer: "https://idp.example", ResponseType: "code", IssParameterSupported: issPromised}
			verr := checkResponse(req, resp)
			checkVerdictMessage(t, verr)
			if verr == nil && resp.Get("state") != req.State {
				t.Fatalf("accepted state %q", resp.Get("state"))
			}
			if verr == nil && resp.Params.Has("error") {
				t.Fatal("accepted an error response")
			}
		}
	})
}

// FuzzCallbackRequest fuzzes whole requests to the listener (query GETs,
// form_post POSTs, other paths and hosts): none may panic, and only the
// callback path can end the wait.
func FuzzCallbackRequest(f *testing.F) {
	f.Add("GET", "/callback?code=abc&state=state-0123456789", "127.0.0.1:8765", "", "")
	f.Add("POST", "/callback", "localhost:8765", "application/x-www-form-urlencoded", "code=abc&state=state-0123456789")
	f.Add("POST", "/callback", "evil.example", "application/x-www-form-urlencoded", "code=abc&state=state-0123456789")
	f.Add("GET", "/favicon.ico", "127.0.0.1:8765", "", "")
	f.Add("PUT", "/callback?code=1", "[::1]:8765", "text/plain", "x")
	f.Fuzz(func(t *testing.T, method, target, host, contentType, body string) {
		l, _ := fuzzListener(t)
		r, err := http.NewRequest(method, "http://127.0.0.1:8765/", strings.NewReader(body))
		if err != nil {
			return
		}
		if r.URL, err = r.URL.Parse(target); err != nil {
			return
		}
		r.Host = host
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		l.serveHTTP(w, r)
		if l.capturedAny() && (r.URL.Path != l.target.path || !l.hostOK(host)) {
			t.Fatalf("%s %s (Host %q) ended the wait", method, target, host)
		}
		if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("response without the security headers: %v", w.Header())
		}
	})
}

// FuzzRelayPost fuzzes the fragment relay POST: its secret header, Origin
// and body. Without the per-run secret nothing is captured.
func FuzzRelayPost(f *testing.F) {
	f.Add("relay-secret-0123", "http://127.0.0.1:8765", "access_token=x&id_token=a.b.c&state=state-0123456789")
	f.Add("relay-secret-0123", "", "")
	f.Add("relay-secret-0123", "null", "state=1")
	f.Add("wrong", "http://127.0.0.1:8765", "state=state-0123456789&code=1")
	f.Add("relay-secret-0123", "http://evil.example", "error=access_denied&state=state-0123456789")
	f.Add("relay-secret-0123", "http://127.0.0.1:8765", "%%%&&&==;state")
	f.Fuzz(func(t *testing.T, secret, origin, body string) {
		l, req := fuzzListener(t)
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8765/callback", strings.NewReader(body))
		r.Header.Set(relayHeader, secret)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		l.serveHTTP(w, r)
		if l.capturedAny() && secret != l.secret {
			t.Fatalf("captured with secret %q", secret)
		}
		if l.capturedAny() {
			l.mu.Lock()
			verdict := l.verdict
			resp := l.resp
			l.mu.Unlock()
			checkVerdictMessage(t, verdict)
			if verdict == nil && resp.Get("state") != req.State {
				t.Fatal("a response with another state passed")
			}
		}
	})
}

// FuzzJARMResponse fuzzes a JARM response as it arrives (JARM section
// 2.3): reading the unverified state that ties it to the run, and the
// rules around the response JWT, with a verifier that accepts anything.
func FuzzJARMResponse(f *testing.F) {
	for _, s := range []string{
		"response=" + responseJWT(map[string]any{"state": "state-0123456789"}),
		"response=eyJhbGciOiJSUzI1NiJ9.eyJzdGF0ZSI6MX0.c2ln",
		"response=a.b.c.d.e",
		"response=x&code=injected",
		"response=a&response=b",
		"state=state-0123456789&code=plain",
		"state=state-0123456789&error=access_denied",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, ok, err := parseParams(modeQuery, raw)
		checkVerdictMessage(t, err)
		if !ok || err != nil {
			return
		}
		for _, jwt := range p.Params[jarmParam] {
			if _, readable := jarmState(jwt); readable && strings.Count(jwt, ".") != 2 {
				t.Fatalf("read the state of %q, which is no compact JWS", jwt)
			}
		}
		req := &Request{State: "state-0123456789", Issuer: "https://idp.example", ResponseType: "code", ResponseMode: modeQueryJWT}
		verify := func(context.Context, *Request, string) (url.Values, error) {
			return url.Values{"state": {req.State}, "code": {"c"}}, nil
		}
		resp, err := jarmResponse(context.Background(), req, verify, modeQuery, p.Params)
		checkVerdictMessage(t, err)
		if err == nil && (len(p.Params) != 1 || !p.Params.Has(jarmParam) || resp.Params.Has(jarmParam)) {
			t.Fatalf("accepted %q", raw)
		}
	})
}
