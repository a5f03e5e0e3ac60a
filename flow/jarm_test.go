package flow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
)

// responseJWT is a JWT-shaped response parameter carrying claims; its
// signature is nothing, as these tests stand in for the verifier.
func responseJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "RS256"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + ".c2ln"
}

// jarmVerifier returns params (or err) for every response JWT, counting
// the calls.
type jarmVerifier struct {
	calls  atomic.Int32
	params func(req *Request) url.Values
	err    error
}

func (v *jarmVerifier) verify(_ context.Context, req *Request, raw string) (url.Values, error) {
	v.calls.Add(1)
	if raw == "" {
		return nil, errors.New("empty response JWT")
	}
	if v.err != nil {
		return nil, v.err
	}
	return v.params(req), nil
}

func codeParams(req *Request) url.Values {
	return url.Values{"state": {req.State}, "code": {"the-code"}, "iss": {req.Issuer}}
}

func TestListenerJARMModes(t *testing.T) {
	tests := []struct {
		name, responseType, mode, arrives string
		params                            func(*Request) url.Values
		deliver                           func(t *testing.T, l *Listener, body string) reply
	}{
		{"query.jwt", "code", "query.jwt", "query.jwt", codeParams, deliverQuery},
		{"jwt for code is query.jwt", "code", "jwt", "query.jwt", codeParams, deliverQuery},
		{"fragment.jwt", "id_token token", "fragment.jwt", "fragment.jwt", func(req *Request) url.Values {
			return url.Values{"state": {req.State}, "id_token": {"the.id.token"}, "access_token": {"the-access-token"}, "token_type": {"Bearer"}}
		}, deliverFragment},
		{"jwt for code id_token is fragment.jwt", "code id_token", "jwt", "fragment.jwt", func(req *Request) url.Values {
			return url.Values{"state": {req.State}, "id_token": {"the.id.token"}, "code": {"the-code"}}
		}, deliverFragment},
		{"form_post.jwt", "code", "form_post.jwt", "form_post.jwt", codeParams, deliverForm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &jarmVerifier{params: tt.params}
			l, req := startListener(t, "http://127.0.0.1:0/callback", func(c *Config) { c.ResponseType, c.ResponseMode = tt.responseType, tt.mode })
			l.VerifyResponseJWT(v.verify)
			if !strings.Contains(req.URL, "response_mode="+url.QueryEscape(tt.mode)) {
				t.Errorf("authorize URL %s does not ask for response_mode %s", req.URL, tt.mode)
			}
			ch := waitAsync(testContext(t), l, req)
			jwt := responseJWT(map[string]any{"state": req.State})
			r := tt.deliver(t, l, url.Values{"response": {jwt}}.Encode())
			if r.status != http.StatusOK || !strings.Contains(r.body, "Sign-in response received") {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if strings.Contains(r.body, jwt) || strings.Contains(r.body, "the-code") {
				t.Errorf("result page shows the response: %s", r.body)
			}
			got := result(t, ch)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if got.resp.Mode != tt.arrives || got.resp.Get("state") != req.State || got.resp.Params.Has("response") {
				t.Errorf("response %+v, want mode %s and the verified parameters", got.resp, tt.arrives)
			}
			if n := v.calls.Load(); n != 1 {
				t.Errorf("verifier called %d times", n)
			}
		})
	}
}

func deliverQuery(t *testing.T, l *Listener, body string) reply {
	return send(t, "GET", l.RedirectURI()+"?"+body, "", nil, "")
}

func deliverFragment(t *testing.T, l *Listener, body string) reply {
	secret := relaySecret(t, l.RedirectURI())
	return send(t, "POST", l.RedirectURI(), "", relayHeaders(secret, ""), body)
}

func deliverForm(t *testing.T, l *Listener, body string) reply {
	return send(t, "POST", l.RedirectURI(), "", formHeader, body)
}

func TestListenerJARMRefused(t *testing.T) {
	bad := failure.New(failure.Verification, "response JWT", "signature does not verify")
	tests := []struct {
		name string
		// body is the response's query; it gets the run's request.
		body      func(req *Request) url.Values
		v         *jarmVerifier
		wantClass failure.Class
		wantMsg   string
		// wantCalls is how often the verifier must have run.
		wantCalls int32
	}{
		{name: "the verifier refuses", v: &jarmVerifier{err: bad},
			wantClass: failure.Verification, wantMsg: "signature does not verify", wantCalls: 1},
		{name: "a verifier error without a class is a verification failure", v: &jarmVerifier{err: errors.New("no good")},
			wantClass: failure.Verification, wantMsg: "no good", wantCalls: 1},
		{name: "plain parameters though JARM was asked for",
			body: func(req *Request) url.Values {
				return url.Values{"state": {req.State}, "code": {"the-code"}}
			},
			wantClass: failure.Verification, wantMsg: "has no response parameter: its parameters are not signed"},
		{name: "a plain error is the provider's, marked unsigned",
			body: func(req *Request) url.Values {
				return url.Values{"state": {req.State}, "error": {"invalid_request"}}
			},
			wantClass: failure.Flow, wantMsg: "error=invalid_request (unsigned: outside a response JWT"},
		{name: "a parameter beside the response JWT",
			body: func(req *Request) url.Values {
				return url.Values{"response": {responseJWT(map[string]any{"state": req.State})}, "code": {"injected"}}
			},
			wantClass: failure.Verification, wantMsg: "parameters beside the response JWT (code)"},
		{name: "the verified state is another",
			v:         &jarmVerifier{params: func(*Request) url.Values { return url.Values{"state": {"other"}, "code": {"c"}} }},
			wantClass: failure.Flow, wantMsg: "state does not match", wantCalls: 1},
		{name: "a signed error response",
			v: &jarmVerifier{params: func(req *Request) url.Values {
				return url.Values{"state": {req.State}, "error": {"access_denied"}, "error_description": {"no"}}
			}},
			wantClass: failure.Flow, wantMsg: `error=access_denied error_description="no"`, wantCalls: 1},
		{name: "a verifier that gives a parameter twice",
			v:         &jarmVerifier{params: func(req *Request) url.Values { return url.Values{"state": {req.State}, "code": {"a", "b"}} }},
			wantClass: failure.Verification, wantMsg: "gives code 2 times", wantCalls: 1},
		{name: "an encrypted response is judged, not ignored",
			body:      func(*Request) url.Values { return url.Values{"response": {"eyJ.a.b.c.d"}} },
			v:         &jarmVerifier{err: failure.New(failure.Verification, "response JWT", "the response is encrypted")},
			wantClass: failure.Verification, wantMsg: "encrypted", wantCalls: 1},
		{name: "a response JWT without state is judged",
			body:      func(*Request) url.Values { return url.Values{"response": {responseJWT(map[string]any{"code": "c"})}} },
			v:         &jarmVerifier{err: failure.New(failure.Verification, "response JWT", "no state claim")},
			wantClass: failure.Verification, wantMsg: "no state claim", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			if v == nil {
				v = &jarmVerifier{params: codeParams}
			}
			l, req := startListener(t, "http://127.0.0.1:0/callback", func(c *Config) { c.ResponseMode = "query.jwt" })
			l.VerifyResponseJWT(v.verify)
			ch := waitAsync(testContext(t), l, req)
			body := url.Values{"response": {responseJWT(map[string]any{"state": req.State})}}
			if tt.body != nil {
				body = tt.body(req)
			}
			r := deliverQuery(t, l, body.Encode())
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			got := result(t, ch)
			if got.err == nil {
				t.Fatalf("accepted: %+v", got.resp)
			}
			if c := failure.ClassOf(got.err); c != tt.wantClass {
				t.Errorf("class %s, want %s: %v", c, tt.wantClass, got.err)
			}
			if !strings.Contains(got.err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", got.err, tt.wantMsg)
			}
			if strings.Contains(got.err.Error(), "the-code") || strings.Contains(got.err.Error(), req.State) {
				t.Errorf("error shows a secret: %v", got.err)
			}
			if n := v.calls.Load(); n != tt.wantCalls {
				t.Errorf("verifier called %d times, want %d", n, tt.wantCalls)
			}
		})
	}
}

// A response JWT whose (unverified) state is another run's is stray
// traffic: ignored without being verified, and the run's own ends the wait.
func TestListenerJARMIgnoresForeignState(t *testing.T) {
	v := &jarmVerifier{params: codeParams}
	l, req := startListener(t, "http://127.0.0.1:0/callback", func(c *Config) { c.ResponseMode = "query.jwt" })
	l.VerifyResponseJWT(v.verify)
	var ignored atomic.Int32
	l.OnIgnored(func(error) { ignored.Add(1) })
	ch := waitAsync(testContext(t), l, req)
	stray := url.Values{"response": {responseJWT(map[string]any{"state": "not-this-run"})}}
	if r := deliverQuery(t, l, stray.Encode()); r.status != http.StatusBadRequest {
		t.Fatalf("stray response: status %d: %s", r.status, r.body)
	}
	if v.calls.Load() != 0 || ignored.Load() != 1 {
		t.Errorf("stray response: %d verifications, %d ignored", v.calls.Load(), ignored.Load())
	}
	own := url.Values{"response": {responseJWT(map[string]any{"state": req.State})}}
	deliverQuery(t, l, own.Encode())
	if got := result(t, ch); got.err != nil || got.resp.Get("code") != "the-code" {
		t.Fatalf("got %+v, %v", got.resp, got.err)
	}
}

// A form POST is the response of a form_post.jwt run, and ignored in a
// query.jwt one.
func TestListenerJARMFormPostOnlyWhenAsked(t *testing.T) {
	v := &jarmVerifier{params: codeParams}
	l, req := startListener(t, "http://127.0.0.1:0/callback", func(c *Config) { c.ResponseMode = "query.jwt" })
	l.VerifyResponseJWT(v.verify)
	waitAsync(testContext(t), l, req)
	body := url.Values{"response": {responseJWT(map[string]any{"state": req.State})}}
	if r := deliverForm(t, l, body.Encode()); r.status != http.StatusBadRequest {
		t.Fatalf("form POST to a query.jwt run: status %d: %s", r.status, r.body)
	}
	if v.calls.Load() != 0 {
		t.Errorf("verified an ignored response")
	}
}

func TestJARMConfig(t *testing.T) {
	tests := []struct {
		responseType, mode string
		wantMode           string
		wantErr            string
	}{
		{"code", "jwt", "query.jwt", ""},
		{"id_token", "jwt", "fragment.jwt", ""},
		{"code id_token token", "jwt", "fragment.jwt", ""},
		{"code", "form_post.jwt", "form_post.jwt", ""},
		{"id_token token", "form_post.jwt", "form_post.jwt", ""},
		{"code", "fragment.jwt", "fragment.jwt", ""},
		{"id_token", "query.jwt", "", "response_mode query.jwt is forbidden with response_type \"id_token\""},
		{"code token", "query.jwt", "", "unless the response is encrypted (JARM section 2.3.1)"},
		{"code", "query.JWT", "", `unknown response_mode "query.JWT"`},
	}
	for _, tt := range tests {
		t.Run(tt.responseType+" "+tt.mode, func(t *testing.T) {
			c := baseConfig()
			c.ResponseType, c.ResponseMode = tt.responseType, tt.mode
			req, err := NewRequest(c)
			if tt.wantErr != "" {
				if err == nil || failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want a usage error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(req.URL)
			if req.ResponseMode != tt.wantMode || u.Query().Get("response_mode") != tt.mode {
				t.Errorf("mode %s, response_mode sent %q; want %s and %s", req.ResponseMode, u.Query().Get("response_mode"), tt.wantMode, tt.mode)
			}
		})
	}
}

func TestRunJARMNeedsAVerifier(t *testing.T) {
	c := baseConfig()
	c.ResponseMode = "jwt"
	_, err := Run(testContext(t), c, RunOptions{Opener: &PrintURL{}})
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "VerifyResponseJWT") {
		t.Fatalf("error %v, want a usage error naming VerifyResponseJWT", err)
	}
}
