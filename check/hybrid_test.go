package check_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/internal/testsupport/leakcheck"
	"github.com/claimcheck/claimcheck/report"
)

// TestHybridFlows runs the three hybrid response types (OpenID Core 3.3)
// through check.Run, the stand-in browser and the hostile provider's hybrid
// emulation: the front channel carries an ID token and/or an access token
// minted and signed (RS256) by the hostile provider, the code is redeemed at
// the demo provider. A bad front channel must end the run before any token
// or userinfo request.
func TestHybridFlows(t *testing.T) {
	const badHash = "AAAAAAAAAAAAAAAAAAAAAA"
	v := failure.Verification
	cases := []struct {
		name         string
		responseType string
		opts         hostile.Options
		wantClass    failure.Class
		wantMsg      string
		// backChannel: whether the code may be redeemed.
		backChannel bool
		check       func(*testing.T, outcome)
	}{
		{name: "code id_token: good c_hash", responseType: "code id_token", backChannel: true, check: frontAndBackID},
		{name: "code token", responseType: "code token", backChannel: true, check: noFrontID},
		{name: "code id_token token: good c_hash and at_hash", responseType: "code id_token token", backChannel: true, check: frontAndBackID},
		// A bad front channel: no token request.
		{name: "code id_token: wrong c_hash", responseType: "code id_token", opts: idClaim("c_hash", badHash), wantClass: v, wantMsg: "c_hash"},
		{name: "code id_token: c_hash missing", responseType: "code id_token", opts: idClaim("c_hash", nil), wantClass: v, wantMsg: "c_hash"},
		{name: "code id_token token: c_hash missing", responseType: "code id_token token", opts: idClaim("c_hash", nil), wantClass: v, wantMsg: "c_hash"},
		{name: "code id_token token: wrong at_hash", responseType: "code id_token token", opts: idClaim("at_hash", badHash), wantClass: v, wantMsg: "at_hash"},
		{name: "code id_token token: at_hash missing", responseType: "code id_token token", opts: idClaim("at_hash", nil), wantClass: v, wantMsg: "at_hash"},
		// OpenID Core 3.3.3.6: iss and sub of both ID tokens MUST match.
		{name: "code id_token: back-channel sub differs", responseType: "code id_token", opts: hostile.Options{HybridSubject: "user-bob"}, wantClass: v, wantMsg: "sub", backChannel: true, check: frontOnlyVerified},
		{name: "code id_token token: back-channel sub differs", responseType: "code id_token token", opts: hostile.Options{HybridSubject: "user-bob"}, wantClass: v, wantMsg: "sub", backChannel: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := leakcheck.Take()
			s, err := hostile.New(demoIssuer, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			o := runHostile(ctx, t, s, hostileCase{name: c.name, responseType: c.responseType}, nil)
			hung := ctx.Err() != nil
			cancel()
			s.Close()
			if hung {
				t.Fatal("the run outlived its 20s context")
			}
			r := o.r
			got, msg := failure.Class(""), ""
			if r.Error != nil {
				got, msg = r.Error.Class, r.Error.Message
			}
			if got != c.wantClass {
				t.Fatalf("class %q (exit %d), want %q\n%s", got, r.ExitCode, c.wantClass, o.text)
			}
			if c.wantClass == "" && r.ExitCode != 0 {
				t.Fatalf("exit %d, want 0\n%s", r.ExitCode, o.text)
			}
			if c.wantClass != "" && r.ExitCode != c.wantClass.ExitCode() {
				t.Errorf("exit %d, want %d", r.ExitCode, c.wantClass.ExitCode())
			}
			if !strings.Contains(strings.ToLower(msg), c.wantMsg) {
				t.Errorf("message %q does not name the problem (%q)", msg, c.wantMsg)
			}
			if n := s.Count(hostile.AuthorizeEndpoint); n == 0 {
				t.Errorf("the authorize endpoint was never asked")
			}
			tokenRequests := s.Count(hostile.TokenEndpoint)
			if !c.backChannel && tokenRequests+s.Count(hostile.UserInfoEndpoint) != 0 {
				t.Errorf("%d token and %d userinfo request(s) after a bad front channel",
					tokenRequests, s.Count(hostile.UserInfoEndpoint))
			}
			if c.backChannel && tokenRequests != 1 {
				t.Errorf("%d token requests, want 1", tokenRequests)
			}
			if c.check != nil {
				c.check(t, o)
			}
			portFree(t, r)
			noSecrets(t, s, o)
			before.Check(t, 5*time.Second)
		})
	}
}

// idClaim sets (or, with nil, drops) a claim of every ID token.
func idClaim(name string, v any) hostile.Options {
	if v == nil {
		return hostile.Options{IDToken: drop(name)}
	}
	return hostile.Options{IDToken: claim(name, v)}
}

// frontAndBackID: a passing hybrid run reports a verified ID token and a
// verified access token (the token endpoint's, which replaces the front
// channel's), and the groups from them; the authorization response's ID
// token is reported too, verified, with its claims, as front_id_token.
func frontAndBackID(t *testing.T, o outcome) {
	t.Helper()
	r := o.r
	for _, name := range []string{report.IDToken, report.FrontIDToken, report.AccessToken} {
		if tok := r.Tokens[name]; tok == nil || !tok.Verified {
			t.Errorf("%s not reported verified: %+v", name, tok)
		}
	}
	front, back := r.Tokens[report.FrontIDToken], r.Tokens[report.IDToken]
	if front == nil || back == nil {
		return
	}
	// Only the front channel's ID token binds the code (OpenID Core 3.3.2.11).
	if front.Claims["c_hash"] == nil || front.Claims["sub"] == nil || front.Claims["nonce"] == nil {
		t.Errorf("front_id_token lacks its claims (c_hash, sub, nonce): %v", front.Claims)
	}
	// The hostile provider mints the front channel's ID token with the
	// protocol claims alone; the token endpoint's comes from the demo
	// provider, with azp and the groups.
	if back.Claims["azp"] == nil || back.Claims["groups"] == nil || front.Claims["groups"] != nil {
		t.Errorf("id_token is not the token endpoint's or front_id_token not the authorization response's:\nid_token %v\nfront_id_token %v", back.Claims, front.Claims)
	}
	if n := countChecks(r, "id_token verified", true); n != 2 {
		t.Errorf("%d passed \"id_token verified\" checks, want 2 (front and back channel)", n)
	}
	if !strings.Contains(o.text, "ID token (authorization response)") {
		t.Errorf("the text report has no front-channel ID token:\n%s", o.text)
	}
	if !strings.Contains(o.json, `"front_id_token"`) {
		t.Errorf("the JSON report has no front_id_token:\n%s", o.json)
	}
}

// noFrontID: without an ID token in the authorization response there is
// no front_id_token.
func noFrontID(t *testing.T, o outcome) {
	t.Helper()
	if tok, ok := o.r.Tokens[report.FrontIDToken]; ok {
		t.Errorf("front_id_token reported without one in the authorization response: %+v", tok)
	}
}

// frontOnlyVerified: when the token endpoint's ID token is about another
// user, the front channel's stays reported as verified and id_token is not.
func frontOnlyVerified(t *testing.T, o outcome) {
	t.Helper()
	if tok := o.r.Tokens[report.FrontIDToken]; tok == nil || !tok.Verified || tok.Claims["sub"] == nil {
		t.Errorf("front_id_token not reported verified with its claims: %+v", tok)
	}
	if tok := o.r.Tokens[report.IDToken]; tok == nil || tok.Verified {
		t.Errorf("id_token reported verified though its sub differs: %+v", tok)
	}
}

func countChecks(r *report.Report, name string, ok bool) int {
	n := 0
	for _, c := range r.Checks {
		if c.Name == name && c.OK == ok {
			n++
		}
	}
	return n
}
