package suite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// TestClaimSourceKeys: trusted_claims_issuer, claims_source_token and
// claims_source_graph in defaults and cases reach the run: a distributed
// source without its own access_token is asked with the case's access
// token only with claims_source_token: run, and a Graph source is skipped
// unless claims_source_graph says otherwise (not exercised: it would leave
// the machine).
func TestClaimSourceKeys(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	users := []demo.User{{Username: "rita", Password: "rita-demo", Groups: []string{"Everyone", "IT"},
		ClaimSource: &demo.ClaimSource{Kind: demo.SourceDistributed, RunToken: true}}}
	p, err := demo.Start(ctx, demo.Options{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, err := Load(writeSuite(t, fmt.Sprintf(`
defaults:
  issuer: %s
  client_id: claimcheck-public
  grant: password
  user: rita
  password_env: RITA_PASSWORD
  scopes: [openid, groups]
  expect_groups: [IT]
  trusted_claims_issuers: [https://claims.example]
  claims_source_token: run
cases:
  - name: with the case's token
  - name: graph allowed too
    claims_source_graph: true
    trusted_claims_issuer: https://claims.example, http://127.0.0.1:9
`, p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Cases[1].TrustedClaimsIssuers; len(got) != 2 || s.Cases[0].TrustedClaimsIssuers[0] != "https://claims.example" {
		t.Errorf("trusted issuers %v / %v", s.Cases[0].TrustedClaimsIssuers, got)
	}
	if g := s.Cases[1].ClaimsSourceGraph; g == nil || !*g || s.Cases[0].ClaimsSourceGraph != nil {
		t.Errorf("claims_source_graph %v / %v", s.Cases[0].ClaimsSourceGraph, g)
	}
	getenv := func(k string) string { return map[string]string{"RITA_PASSWORD": "rita-demo"}[k] }
	res, err := Run(context.Background(), s, Options{Parallel: 1, Getenv: getenv, HTTPTimeout: 10 * time.Second, Timeout: 30 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cases {
		if c.Class != "" || !strings.Contains(fmt.Sprint(c.Report.Checks), "the run's access token") {
			t.Errorf("%s: class %q checks %+v", c.Name, c.Class, c.Report.Checks)
		}
	}

	// Without the key the source has no token to be asked with.
	s, err = Load(writeSuite(t, fmt.Sprintf("defaults:\n  issuer: %s\n  client_id: claimcheck-public\n  grant: password\n  user: rita\n  password_env: RITA_PASSWORD\n  scopes: [openid, groups]\n  expect_groups: [IT]\ncases:\n  - name: no token\n", p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	res, err = Run(context.Background(), s, Options{Parallel: 1, Getenv: getenv, HTTPTimeout: 10 * time.Second, Timeout: 30 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Cases[0]; c.Class != failure.Provider || !strings.Contains(c.Report.Error.Message, "--claims-source-token run") {
		t.Errorf("no token: class %q error %+v", c.Class, c.Report.Error)
	}
}

func TestParseClaimSourceKeysErrors(t *testing.T) {
	head := "defaults:\n  issuer: http://127.0.0.1:1\n  client_id: c\n  grant: password\ncases:\n  - name: a\n    user: x\n    password_env: P\n"
	tests := []struct{ name, body, want string }{
		{"bad token", head + "    claims_source_token: mine\n", `claimcheck.yaml:9: cases[0].claims_source_token: unknown "mine" (want run`},
		{"token list", head + "    claims_source_token: [run]\n", "claimcheck.yaml:9: cases[0].claims_source_token: must be a single value"},
		{"bad graph", head + "    claims_source_graph: yes please\n", "claimcheck.yaml:9: cases[0].claims_source_graph: must be true or false"},
		{"bad issuer", head + "    trusted_claims_issuer: [https://ok.example, 'not a url']\n", `claimcheck.yaml:9: cases[0].trusted_claims_issuer: "not a url" is not an http(s) issuer URL`},
		{"issuer without host", "defaults:\n  trusted_claims_issuer: https://\n" + head[len("defaults:\n"):], `claimcheck.yaml:2: defaults.trusted_claims_issuer: "https://" is not an http(s) issuer URL`},
		{"both spellings", head + "    trusted_claims_issuer: https://a.example\n    trusted_claims_issuers: https://b.example\n", `claimcheck.yaml:10: cases[0].trusted_claims_issuers: duplicate key "trusted_claims_issuers" (first at line 9`},
		{"misspelt", head + "    claims_source_tokens: run\n", "did you mean claims_source_token?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("claimcheck.yaml", []byte(tt.body))
			if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want usage error with %q", err, tt.want)
			}
		})
	}
}
