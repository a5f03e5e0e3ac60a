package runner_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/hostile"
	"github.com/claimcheck/claimcheck/internal/leakcheck"
	"github.com/claimcheck/claimcheck/internal/report"
)

// TestHybridFlows runs the three hybrid response types (OpenID Core 3.3)
// through runner.Run, the stand-in browser and the hostile provider's hybrid
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
		check       func(*testing.T, *report.Report)
	}{
		{name: "code id_token: good c_hash", responseType: "code id_token", backChannel: true, check: frontAndBackID},
		{name: "code token", responseType: "code token", backChannel: true},
		{name: "code id_token token: good c_hash and at_hash", responseType: "code id_token token", backChannel: true, check: frontAndBackID},
		// A bad front channel: no token request.
		{name: "code id_token: wrong c_hash", responseType: "code id_token", opts: idClaim("c_hash", badHash), wantClass: v, wantMsg: "c_hash"},
		{name: "code id_token: c_hash missing", responseType: "code id_token", opts: idClaim("c_hash", nil), wantClass: v, wantMsg: "c_hash"},
		{name: "code id_token token: c_hash missing", responseType: "code id_token token", opts: idClaim("c_hash", nil), wantClass: v, wantMsg: "c_hash"},
		{name: "code id_token token: wrong at_hash", responseType: "code id_token token", opts: idClaim("at_hash", badHash), wantClass: v, wantMsg: "at_hash"},
		{name: "code id_token token: at_hash missing", responseType: "code id_token token", opts: idClaim("at_hash", nil), wantClass: v, wantMsg: "at_hash"},
		// OpenID Core 3.3.3.6: iss and sub of both ID tokens MUST match.
		{name: "code id_token: back-channel sub differs", responseType: "code id_token", opts: hostile.Options{HybridSubject: "user-bob"}, wantClass: v, wantMsg: "sub", backChannel: true},
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
				c.check(t, r)
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
// channel's), and the groups from them.
func frontAndBackID(t *testing.T, r *report.Report) {
	t.Helper()
	for _, name := range []string{report.IDToken, report.AccessToken} {
		if tok := r.Tokens[name]; tok == nil || !tok.Verified {
			t.Errorf("%s not reported verified: %+v", name, tok)
		}
	}
}
