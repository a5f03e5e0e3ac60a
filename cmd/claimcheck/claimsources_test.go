package main

import (
	"context"
	"os"
	"path/filepath"
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
			if code == 2 {
				// A bad flag value is refused as the flags are parsed.
				if !strings.Contains(stderr, tt.args[0]) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
					t.Errorf("stderr %q does not name %s in one line", stderr, tt.args[0])
				}
				return
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

// The claim source flags as configuration file keys: claims_source_token
// run lets claimcheck verify call a distributed endpoint, the list and
// boolean keys are taken, and each bad value is refused with its line.
func TestClaimSourcesConfigKeys(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Users: demo.ClaimSourceUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	_, stdout, _ := runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": "dave-demo"}, "--issuer", p.Issuer(), "--client-id", demo.PublicClientID,
		"--grant", "password", "--username", "dave", "--scopes", "openid,groups", "-o", "json", "--show-tokens")
	daveID := decodeReport(t, stdout).Tokens["id_token"].Raw

	tests := []struct {
		name, body string
		code       int
		want       string // in stdout for a report, in stderr for exit 2
	}{
		{"token run", "claims_source_token: run\n", 0, "found in id_token → distributed src1"},
		{"no token key", "claims_source_graph: false\n", 1, "only when asked (--claims-source-token run)"},
		{"all keys", "claims_source_token: run\nclaims_source_graph: true\ntrusted_claims_issuer: [https://claims.example, http://127.0.0.1:9]\n", 0, "found in id_token → distributed src1"},
		{"kebab case", "claims-source-token: run\n", 0, "found in id_token → distributed src1"},
		{"bad token", "claims_source_token: mine\n", 2, ".claimcheck.yaml:1: claims_source_token: invalid argument"},
		{"token list", "claims_source_token: [run, run]\n", 2, ".claimcheck.yaml:1: claims_source_token: takes one value"},
		{"bad graph", "claims_source_graph: maybe\n", 2, ".claimcheck.yaml:1: claims_source_graph: invalid argument"},
		{"bad issuer", "trusted_claims_issuer: [https://claims.example, ftp://claims.example]\n", 2, `.claimcheck.yaml:1: trusted_claims_issuer: invalid argument "…" for "--trusted-claims-issuer" flag: "…" is not an http(s) issuer URL`},
		{"duplicate", "claims_source_token: run\nclaims-source-token: run\n", 2, ".claimcheck.yaml:2"},
		{"misspelt", "claims_source_tokn: run\n", 2, "did you mean claims_source_token?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			os.WriteFile(filepath.Join(dir, ".claimcheck.yaml"), []byte(tt.body), 0o644)
			code, stdout, stderr := runMain(t, nil, "verify", "--issuer", p.Issuer(), "--client-id", demo.PublicClientID, "--expect-groups", "IT", "-o", "json", daveID)
			out := stdout
			if tt.code == 2 {
				out = stderr
			}
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}
