package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigFile(t *testing.T) {
	issuer := startDemo(t)
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile(filepath.Join(dir, ".claimcheck.yaml"), []byte(fmt.Sprintf(`issuer: %s
client_id: claimcheck-public
scopes: [openid, groups]
grant: password
username: alice
output: json
# Settings for the browser runs of the same profile: a grant leaves them
# aside when they come from the file (given on the command line, refused).
redirect_uri: http://127.0.0.1:8250/callback
no_browser: true
response_mode: form_post
param: [prompt=login]
expect_groups: [IT, Everyone]
profiles:
  bob:
    username: bob
  conf:
    client_id: claimcheck-confidential
    client_secret_env: DEMO_SECRET
    grant: client_credentials
    scopes: openid
    expect_groups: []
`, issuer)), 0o644)
	env := map[string]string{"CLAIMCHECK_PASSWORD": "alice-demo"}

	// The everyday command: everything from the file.
	code, stdout, stderr := runMain(t, env)
	if code != 0 {
		t.Fatalf("file only: exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := decodeReport(t, stdout)
	if r.Issuer != issuer || r.Flow != "password" {
		t.Errorf("issuer %s flow %s", r.Issuer, r.Flow)
	}
	// A flag beats the file.
	if code, stdout, _ = runMain(t, env, "--expect-groups", "Admins"); code != 1 {
		t.Errorf("flag over file: exit %d\n%s", code, stdout)
	}
	// The environment beats the file, and a flag beats the environment.
	env2 := map[string]string{"CLAIMCHECK_PASSWORD": "alice-demo", "CLAIMCHECK_EXPECT_GROUPS": "Admins"}
	if code, _, _ = runMain(t, env2); code != 1 {
		t.Errorf("env over file: exit %d", code)
	}
	if code, _, _ = runMain(t, env2, "--expect-groups", "IT"); code != 0 {
		t.Errorf("flag over env: exit %d", code)
	}
	// A profile overrides the top level.
	if code, stdout, _ = runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": "bob-demo"}, "--profile", "bob"); code != 1 || !strings.Contains(stdout, `"group IT"`) {
		t.Errorf("profile bob: exit %d\n%s", code, stdout)
	}
	if code, _, _ = runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": "bob-demo", "CLAIMCHECK_PROFILE": "bob"}); code != 1 {
		t.Errorf("CLAIMCHECK_PROFILE=bob: exit %d", code)
	}
	code, stdout, stderr = runMain(t, map[string]string{"DEMO_SECRET": "claimcheck-demo-secret"}, "--profile", "conf")
	if code != 0 {
		t.Errorf("profile conf: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runMain(t, nil, "--profile", "conf")
	if code != 2 || !strings.Contains(stderr, ".claimcheck.yaml:19: profiles.conf.client_secret_env: names the environment variable DEMO_SECRET, which is not set") {
		t.Errorf("unset secret variable: exit %d %s", code, stderr)
	}
	code, _, stderr = runMain(t, env, "--profile", "nope")
	if code != 2 || !strings.Contains(stderr, `no profile "nope" (it has: bob, conf)`) {
		t.Errorf("unknown profile: exit %d %s", code, stderr)
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{"client_secret: hunter2\n", ".claimcheck.yaml:1: client_secret: secrets are never written"},
		{"issuer: x\nisuer: y\n", ".claimcheck.yaml:2: isuer: unknown setting (not a flag of any claimcheck command); did you mean issuer?"},
		{"expect_group: [IT]\n", ".claimcheck.yaml:1: expect_group: unknown setting (not a flag of any claimcheck command); did you mean expect_groups?"},
		{"parralel: 4\n", ".claimcheck.yaml:1: parralel: unknown setting (not a flag of any claimcheck command); did you mean parallel?"},
		{"colour: blue\n", ".claimcheck.yaml:1: colour: unknown setting (not a flag of any claimcheck command)\n"},
		{"timeout: soon\n", ".claimcheck.yaml:1: timeout: invalid argument"},
		{"issuer: [a, b]\n", ".claimcheck.yaml:1: issuer: takes one value"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		t.Chdir(dir)
		os.WriteFile(filepath.Join(dir, ".claimcheck.yaml"), []byte(tt.body), 0o644)
		code, stdout, stderr := runMain(t, nil, "--issuer", "http://127.0.0.1:1", "--client-id", "c")
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stdout+stderr, "hunter2") {
			t.Errorf("%q: exit %d stderr %q, want 2 with %q", tt.body, code, stderr, tt.want)
		}
	}
	// No file and a profile asked for.
	t.Chdir(t.TempDir())
	if code, _, stderr := runMain(t, nil, "--profile", "x"); code != 2 || !strings.Contains(stderr, "no configuration file") {
		t.Errorf("profile without file: exit %d %s", code, stderr)
	}
}
