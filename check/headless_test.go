package check_test

import (
	"context"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/verify"
)

// TestHeadlessBrowserPushedRequest: a library caller's HeadlessBrowser
// signs in for a pushed request, whose authorize URL names no redirect URI
// (RFC 9126 §4), without being told the listener's: Run tells its own
// copy, and the caller's value is left as it was.
func TestHeadlessBrowserPushedRequest(t *testing.T) {
	s, err := hostile.New(demoIssuer, hostile.Options{PAR: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	b := &check.HeadlessBrowser{Username: "alice", Password: "alice-demo"}
	for _, user := range []struct {
		name, password string
		wantErr        bool
	}{{"alice", "alice-demo", false}, {"bob", "bob-demo", true}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		b.Username, b.Password = user.name, user.password
		r, err := check.Run(ctx, check.Config{
			Issuer: s.Issuer(), ClientID: demo.PublicClientID, PAR: true, RedirectURI: "http://127.0.0.1:0" + callbackPath,
			Scopes: []string{"openid", "groups"}, Expect: verify.Expectations{ExpectGroups: []string{"IT"}},
			Opener: b, Timeout: 20 * time.Second,
		})
		cancel()
		if (err != nil) != user.wantErr || r.ExitCode != map[bool]int{false: 0, true: 1}[user.wantErr] {
			t.Fatalf("%s: exit %d, err %v", user.name, r.ExitCode, err)
		}
		if r.Request.PAR == nil || r.Request.PAR.RequestURI == "" {
			t.Errorf("%s: request.par %+v, want a pushed request", user.name, r.Request.PAR)
		}
		if b.RedirectURI != "" {
			t.Errorf("the caller's HeadlessBrowser was changed: RedirectURI %q", b.RedirectURI)
		}
	}
	if n := s.Count(hostile.PAREndpoint); n != 2 {
		t.Errorf("%d pushed requests, want 2", n)
	}
}
