package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/testsupport/demotokens"
)

func TestTokenExchangeCommand(t *testing.T) {
	issuer := startDemo(t)
	alice := demotokens.Get(t, issuer, "alice", "alice-demo", "openid", "groups").AccessToken
	bob := demotokens.Get(t, issuer, "bob", "bob-demo", "openid", "groups").AccessToken
	base := []string{"--issuer", issuer, "--client-id", demo.ConfidentialClientID, "-o", "json", "--grant", "token_exchange"}
	env := func(kv ...string) map[string]string {
		m := map[string]string{"CLAIMCHECK_CLIENT_SECRET": demo.ConfidentialClientSecret}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	with := func(args ...string) []string { return append(append([]string{}, base...), args...) }
	tests := []struct {
		name     string
		stdin    string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
		secrets  []string
	}{
		{"alice from env", "", env("CLAIMCHECK_SUBJECT_TOKEN", alice), with("--subject-token-type", "access_token", "--audience", demo.PublicClientID, "--expect-groups", "IT"), 0, "", []string{alice}},
		{"bob from stdin lacks IT", bob + "\n", env(), with("--subject-token-type", "urn:ietf:params:oauth:token-type:access_token", "--audience", demo.PublicClientID, "--expect-groups", "IT"), 1, "", []string{bob}},
		{"alice ID token for two audiences", "", env("CLAIMCHECK_SUBJECT_TOKEN", alice), with("--subject-token-type", "access_token", "--requested-token-type", "id_token",
			"--audience", demo.PublicClientID, "--audience", demo.ConfidentialClientID, "--expect-groups", "IT"), 0, "", []string{alice}},
		{"no subject token, empty stdin", "", env(), with("--subject-token-type", "access_token"), 2, "no subject token in CLAIMCHECK_SUBJECT_TOKEN or on stdin", nil},
		{"no subject token type", "", env("CLAIMCHECK_SUBJECT_TOKEN", alice), with(), 2, "--subject-token-type", []string{alice}},
		{"unknown subject token type", "", env("CLAIMCHECK_SUBJECT_TOKEN", alice), with("--subject-token-type", "bogus"), 2, "unknown token type", []string{alice}},
		{"unknown requested token type", "", env("CLAIMCHECK_SUBJECT_TOKEN", alice), with("--subject-token-type", "access_token", "--requested-token-type", "nope"), 2, "--requested-token-type", []string{alice}},
		{"actor token without its type", "", env("CLAIMCHECK_SUBJECT_TOKEN", alice, "CLAIMCHECK_ACTOR_TOKEN", bob), with("--subject-token-type", "access_token"), 2, "--actor-token-type", []string{alice, bob}},
		{"subject token, stdin already used", demo.ConfidentialClientSecret + "\n", env("CLAIMCHECK_SUBJECT_TOKEN", "", "CLAIMCHECK_CLIENT_SECRET", ""), with("--client-secret", "-", "--subject-token-type", "access_token"), 2, "stdin already carries the client secret", nil},
		{"provider refuses the audience", "", env("CLAIMCHECK_SUBJECT_TOKEN", alice), with("--subject-token-type", "access_token", "--audience", "nobody"), 3, "invalid_target", []string{alice}},
		{"provider refuses the subject token", "", env("CLAIMCHECK_SUBJECT_TOKEN", "garbage-token-value"), with("--subject-token-type", "access_token"), 3, "invalid_request", []string{"garbage-token-value"}},
		{"token type flags without the grant", "", env(), []string{"--issuer", issuer, "--client-id", demo.ConfidentialClientID, "--grant", "client_credentials", "--subject-token-type", "access_token"}, 2, "applies only to --grant token_exchange", nil},
		{"two audiences without token exchange", "", env(), []string{"--issuer", issuer, "--client-id", demo.ConfidentialClientID, "--grant", "client_credentials", "--audience", "a", "--audience", "b"}, 2, "only --grant token_exchange", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMainStdin(t, tt.stdin, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tt.wantCode, out, errOut)
			}
			if tt.wantErr != "" && !strings.Contains(out+errOut, tt.wantErr) {
				t.Errorf("output does not mention %q\nstdout %s\nstderr %s", tt.wantErr, out, errOut)
			}
			for _, s := range tt.secrets {
				if strings.Contains(out+errOut, s) {
					t.Errorf("a token it sent is in the output")
				}
			}
			if code > 1 || !strings.Contains(strings.Join(tt.args, " "), "-o json") {
				return
			}
			var r struct {
				Request struct {
					Grant         string `json:"grant"`
					TokenExchange struct {
						SubjectTokenType string   `json:"subject_token_type"`
						IssuedTokenType  string   `json:"issued_token_type"`
						Audience         []string `json:"audience"`
					} `json:"token_exchange"`
				} `json:"request"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if r.Request.Grant != "token_exchange" || r.Request.TokenExchange.SubjectTokenType != flow.TokenTypeAccessToken ||
				r.Request.TokenExchange.IssuedTokenType == "" || len(r.Request.TokenExchange.Audience) == 0 {
				t.Errorf("request %+v", r.Request)
			}
		})
	}
}
