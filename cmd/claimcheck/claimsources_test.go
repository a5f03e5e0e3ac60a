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
