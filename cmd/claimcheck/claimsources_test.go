package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/verify"
)

// Groups from claim sources through the command: found via the aggregated
// source (exit 0), a broken signature (exit 4), and the flags' usage
// errors (exit 2).
func TestClaimSourcesCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Users: append(demo.DefaultUsers(), demo.ClaimSourceUsers()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	run := func(user string, extra ...string) (int, string, string) {
		env := map[string]string{"CLAIMCHECK_PASSWORD": user + "-demo", "NO_COLOR": "1"}
		args := []string{"--issuer", p.Issuer(), "--client-id", demo.PublicClientID, "--grant", "password", "--username", user,
			"--scopes", "openid,groups", "--expect-groups", "IT", "-o", "json"}
		return runMain(t, env, append(args, extra...)...)
	}

	code, stdout, stderr := run("carol")
	r := decodeReport(t, stdout)
	if code != 0 || !hasCheck(r.Checks, "group IT", "found in id_token → aggregated src1") || !hasCheck(r.Checks, "id_token claim source src1", "aggregated claims signed by") {
		t.Fatalf("carol: exit %d checks %+v\n%s", code, r.Checks, stderr)
	}
	code, stdout, stderr = run("dave")
	r = decodeReport(t, stdout)
	if code != 0 || !hasCheck(r.Checks, "group IT", "found in id_token → distributed src1") || strings.Contains(stdout, "access_token\":\"") && !strings.Contains(stdout, "[redacted claim source access token]") {
		t.Fatalf("dave: exit %d checks %+v\n%s", code, r.Checks, stderr)
	}
	code, stdout, _ = run("erin")
	r = decodeReport(t, stdout)
	if code != 4 || r.Error == nil || r.Error.Class != "verification" || !strings.Contains(r.Error.Message, "claim source src1") {
		t.Fatalf("erin: exit %d error %+v", code, r.Error)
	}
	for _, args := range [][]string{{"--claims-source-token", "mine"}, {"--trusted-claims-issuer", "not a url"}} {
		if code, stdout, stderr := run("carol", args...); code != 2 || !strings.Contains(stdout+stderr, args[0]) {
			t.Errorf("%v: exit %d, %s%s", args, code, stdout, stderr)
		}
	}
}

func hasCheck(checks []verify.Check, name, detail string) bool {
	for _, c := range checks {
		if c.Name == name && strings.Contains(c.Detail, detail) {
			return true
		}
	}
	return false
}

// claimcheck verify TOKEN resolves a given ID token's aggregated groups,
// calls a distributed endpoint only with --claims-source-token run, and
// refuses the claim source flags for a token stream.
func TestVerifyClaimSourcesCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Users: demo.ClaimSourceUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	idToken := func(user string) string {
		env := map[string]string{"CLAIMCHECK_PASSWORD": user + "-demo"}
		_, stdout, _ := runMain(t, env, "--issuer", p.Issuer(), "--client-id", demo.PublicClientID, "--grant", "password",
			"--username", user, "--scopes", "openid,groups", "-o", "json", "--show-tokens")
		tok := decodeReport(t, stdout).Tokens["id_token"]
		if tok == nil || tok.Raw == "" {
			t.Fatalf("%s: no ID token in %s", user, stdout)
		}
		return tok.Raw
	}
	verifyArgs := []string{"verify", "--issuer", p.Issuer(), "--client-id", demo.PublicClientID, "--expect-groups", "IT", "-o", "json"}
	tests := []struct {
		name     string
		args     []string
		code     int
		check    string
		detail   string
		noOutput string
	}{
		{"aggregated", []string{idToken("carol")}, 0, "group IT", "found in id_token → aggregated src1", ""},
		{"forged", []string{idToken("erin")}, 4, "id_token claim source src1", "signature", ""},
		{"distributed not asked", []string{idToken("dave")}, 1, "id_token claim source src1", "only when asked (--claims-source-token run)", ""},
		{"distributed asked", []string{"--claims-source-token", "run", idToken("dave")}, 0, "group IT", "found in id_token → distributed src1", ""},
		{"bad value", []string{"--claims-source-token", "mine", idToken("carol")}, 2, "", "", ""},
		{"bad issuer", []string{"--trusted-claims-issuer", "ftp://x", idToken("carol")}, 2, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, append(verifyArgs, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			r := decodeReport(t, stdout)
			if tt.check != "" && !hasCheck(r.Checks, tt.check, tt.detail) {
				t.Errorf("no check %q with %q: %+v", tt.check, tt.detail, r.Checks)
			}
			if strings.Contains(stdout, tt.args[len(tt.args)-1]) {
				t.Errorf("the token is in the output")
			}
		})
	}
	for _, flag := range [][]string{{"--claims-source-token", "run"}, {"--claims-source-graph"}, {"--trusted-claims-issuer", "https://claims.example"}} {
		args := append([]string{"verify", "--issuer", p.Issuer(), "--client-id", demo.PublicClientID}, flag...)
		code, _, stderr := runMainStdin(t, idToken("carol")+"\n", nil, append(args, "-")...)
		if code != 2 || !strings.Contains(stderr, flag[0]) || !strings.Contains(stderr, "token stream") {
			t.Errorf("%v with -: exit %d, %s", flag, code, stderr)
		}
	}
}
