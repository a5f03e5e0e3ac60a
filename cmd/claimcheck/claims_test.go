package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

func TestClaimsDrift(t *testing.T) {
	issuer := startDemo(t)
	dir := t.TempDir()
	snap := filepath.Join(dir, "alice.json")
	args := func(user string, extra ...string) []string {
		return append([]string{"--issuer", issuer, "--client-id", demo.PublicClientID, "--scopes", "openid,groups,email",
			"--grant", "password", "--username", user, "--password-stdin", "-o", "json"}, extra...)
	}
	code, stdout, stderr := runMainStdin(t, "alice-demo\n", nil, args("alice", "--save-claims", snap)...)
	if code != 0 {
		t.Fatalf("save: exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`"iat"`, `"exp"`, `"jti"`, `"auth_time"`} {
		if strings.Contains(string(b), v) {
			t.Errorf("snapshot holds volatile %s:\n%s", v, b)
		}
	}
	if !strings.Contains(string(b), `"Everyone",`) {
		t.Errorf("snapshot lacks sorted groups:\n%s", b)
	}

	code, stdout, _ = runMainStdin(t, "alice-demo\n", nil, args("alice", "--expect-claims-like", snap)...)
	if code != 0 {
		t.Fatalf("same user: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runMainStdin(t, "bob-demo\n", nil, args("bob", "--expect-claims-like", snap)...)
	if code != 1 {
		t.Fatalf("other user: exit %d, want 1\n%s", code, stdout)
	}
	r := decodeReport(t, stdout)
	var details []string
	for _, c := range r.Checks {
		if !c.OK {
			details = append(details, c.Detail)
		}
	}
	joined := strings.Join(details, "\n")
	for _, want := range []string{`id_token: groups "IT" removed`, `access_token: groups "IT" removed`, `claim "sub" changed`} {
		if !strings.Contains(joined, want) {
			t.Errorf("no failed check mentioning %s in:\n%s", want, joined)
		}
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("not json"), 0o644)
	code, stdout, _ = runMainStdin(t, "alice-demo\n", nil, args("alice", "--expect-claims-like", bad)...)
	if code != 2 {
		t.Fatalf("bad snapshot: exit %d, want 2\n%s", code, stdout)
	}
}
