package suite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/testsupport/demotokens"
)

const exchangeSuite = `defaults:
  issuer: %s
  client_id: claimcheck-confidential
  client_secret_env: DEMO_SECRET
  grant: token_exchange
  subject_token_type: access_token
  audience: claimcheck-public
  expect_groups: [IT]
cases:
  - name: alice exchanged
    subject_token_env: ALICE_AT
  - name: bob exchanged
    subject_token_env: BOB_AT
  - name: alice as an ID token
    subject_token_env: ALICE_AT
    requested_token_type: id_token
`

func TestRunTokenExchange(t *testing.T) {
	p := startDemo(t)
	env := map[string]string{"DEMO_SECRET": demo.ConfidentialClientSecret}
	for user, name := range map[string]string{"alice": "ALICE_AT", "bob": "BOB_AT"} {
		env[name] = demotokens.Get(t, p.Issuer(), user, user+"-demo", "openid", "groups").AccessToken
	}
	s, err := Load(writeSuite(t, fmt.Sprintf(exchangeSuite, p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), s, Options{Parallel: 2, Getenv: func(k string) string { return env[k] },
		HTTPTimeout: 10 * time.Second, Timeout: 30 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]failure.Class{"alice exchanged": "", "bob exchanged": failure.Expectation, "alice as an ID token": ""}
	for _, c := range res.Cases {
		if c.Class != want[c.Name] {
			t.Errorf("%s: class %q, want %q; error %+v checks %+v", c.Name, c.Class, want[c.Name], c.Report.Error, c.Report.Checks)
		}
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ALICE_AT", "BOB_AT"} {
		if strings.Contains(text.String(), env[k][:len(env[k])/2]) {
			t.Errorf("the summary shows a subject token")
		}
	}
}

func TestParseTokenExchange(t *testing.T) {
	head := "defaults:\n  issuer: https://issuer.example\n  client_id: c\n  client_secret_env: S\n  grant: token_exchange\ncases:\n"
	for _, tt := range []struct{ body, want string }{
		{head + "  - {name: a, subject_token_type: access_token}\n", "cases[0].subject_token_env: the token_exchange grant needs"},
		{head + "  - {name: a, subject_token_env: T}\n", "cases[0].subject_token_env: the token_exchange grant needs"},
		{head + "  - {name: a, subject_token_env: T, subject_token_type: bogus}\n", "cases[0].subject_token_type: "},
		{head + "  - {name: a, subject_token: eyJhbGciOi}\n", "cases[0].subject_token: secrets are never written"},
		{head + "  - {name: a, subject_token_env: T, subject_token_type: jwt, actor_token_env: A}\n", "actor_token_env and actor_token_type go together"},
	} {
		if _, err := Parse("claimcheck.yaml", []byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err %v, want %q", err, tt.want)
		}
	}
	c, err := Parse("claimcheck.yaml", []byte(head+"  - {name: a, subject_token_env: T, subject_token_type: id_token, resource: [https://api.example/]}\n"))
	if err != nil {
		t.Fatalf("resource with token_exchange: %v", err)
	}
	if got := c.Cases[0].SubjectTokenType; got != flow.TokenTypeIDToken {
		t.Errorf("subject_token_type %q", got)
	}
}
