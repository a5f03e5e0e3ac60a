package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cmdSuite = `defaults:
  issuer: %s
  client_id: claimcheck-public
  grant: password
  scopes: [openid, groups]
cases:
  - name: alice
    user: alice
    password_env: ALICE_PASSWORD
    expect_groups: [IT, Everyone]
    snapshot: alice.json
  - name: bob
    user: bob
    password_env: BOB_PASSWORD
    expect_groups: [Everyone]
    forbid_groups: [IT]
    snapshot: bob.json
`

func TestTestCommand(t *testing.T) {
	issuer := startDemo(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "claimcheck.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(cmdSuite, issuer)), 0o644)
	env := map[string]string{"ALICE_PASSWORD": "alice-demo", "BOB_PASSWORD": "bob-demo"}

	// The snapshots do not exist yet: a usage error per case.
	code, stdout, stderr := runMain(t, env, "test", file, "--parallel", "2")
	if code != 2 || !strings.Contains(stdout, "alice.json") {
		t.Fatalf("missing snapshots: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runMain(t, env, "test", file, "--update-snapshots")
	if code != 0 {
		t.Fatalf("update: exit %d\n%s\n%s", code, stdout, stderr)
	}
	junit := filepath.Join(dir, "junit.xml")
	code, stdout, stderr = runMain(t, env, "test", file, "-o", "json", "--junit", junit)
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res struct {
		OK    bool `json:"ok"`
		Total int  `json:"total"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || !res.OK || res.Total != 2 {
		t.Fatalf("JSON %v %+v\n%s", err, res, stdout)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("JUnit %v %+v", err, doc)
	}

	// Swap the snapshots: each case now drifts (exit 1).
	a, _ := os.ReadFile(filepath.Join(dir, "alice.json"))
	bb, _ := os.ReadFile(filepath.Join(dir, "bob.json"))
	os.WriteFile(filepath.Join(dir, "alice.json"), bb, 0o644)
	os.WriteFile(filepath.Join(dir, "bob.json"), a, 0o644)
	code, stdout, _ = runMain(t, env, "test", file)
	if code != 1 || !strings.Contains(stdout, `groups \"IT\"`) && !strings.Contains(stdout, `groups "IT"`) {
		t.Fatalf("drift: exit %d\n%s", code, stdout)
	}

	// Shards split the two cases between them.
	seen := 0
	for _, sh := range []string{"1/2", "2/2"} {
		code, stdout, _ = runMain(t, env, "test", file, "--update-snapshots", "--shard", sh, "-o", "json")
		var r struct{ Total int }
		json.Unmarshal([]byte(stdout), &r)
		seen += r.Total
		if code != 0 {
			t.Errorf("shard %s: exit %d", sh, code)
		}
	}
	if seen != 2 {
		t.Errorf("shards ran %d cases in all, want 2", seen)
	}
}

func TestTestCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("cases:\n  - name: a\n    password: x\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"test", bad}, "bad.yaml:3: cases[0].password: secrets are never written"},
		{[]string{"test", filepath.Join(dir, "none.yaml")}, "no such file"},
		{[]string{"test", bad, "--shard", "3/2"}, "--shard"},
		{[]string{"test", bad, "--shard", "x"}, "--shard"},
		{[]string{"test", bad, "--parallel", "0"}, "--parallel"},
		{[]string{"test", bad, "-o", "yaml"}, "--output"},
		{[]string{"test", bad, "--rate", "-1"}, "--rate"},
		{[]string{"test", bad, "--run", "("}, "--run: not a regular expression"},
		{[]string{"test", bad, "--list", "--junit", filepath.Join(dir, "j.xml")}, "--junit: has no meaning with --list"},
		{[]string{"test", bad, "--list", "--update-snapshots"}, "--update-snapshots: has no meaning with --list"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runMain(t, nil, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stderr %q stdout %q, want 2 and one line with %q", tt.args, code, stderr, stdout, tt.want)
		}
	}
}

// TestTestCommandProgress: on a terminal a live line counts the cases and
// is cleared before the summary.
func TestTestCommandProgress(t *testing.T) {
	issuer := startDemo(t)
	file := filepath.Join(t.TempDir(), "claimcheck.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf("defaults: {issuer: %s, client_id: claimcheck-public, scopes: [openid, groups]}\ncases:\n  - {name: a, user: alice, password_env: P, expect_groups: IT}\n  - {name: b, user: alice, password_env: P}\n", issuer)), 0o644)
	ios, out, errOut := testIO("", map[string]string{"P": "alice-demo"})
	ios.ErrTTY = true
	if code := Main(context.Background(), ios, []string{"test", file, "--parallel", "1"}); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	e := errOut.String()
	if !strings.Contains(e, "\r\x1b[K1/2 cases done, 0 not passed") || !strings.Contains(e, "2/2 cases done") || !strings.HasSuffix(e, "\r\x1b[K") {
		t.Errorf("progress line %q", e)
	}
	if !strings.Contains(out.String(), "2 cases: 2 passed, 0 failed, 0 errored") {
		t.Errorf("summary %q", out)
	}
}

// TestTestCommandSelect: --run and --shard choose the cases, --list shows
// which without running any, and a --run that matches no case of the file
// is a usage error rather than a pipeline that passes having run nothing.
func TestTestCommandSelect(t *testing.T) {
	issuer := startDemo(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "claimcheck.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`defaults:
  issuer: %s
  client_id: claimcheck-public
  grant: password
  scopes: [openid, groups]
cases:
  - {name: alice in IT, user: alice, password_env: ALICE_PASSWORD, expect_groups: [IT]}
  - {name: alice in Everyone, user: alice, password_env: ALICE_PASSWORD, expect_groups: [Everyone]}
  - {name: bob in IT, user: bob, password_env: BOB_PASSWORD, expect_groups: [IT]}
`, issuer)), 0o644)
	env := map[string]string{"ALICE_PASSWORD": "alice-demo", "BOB_PASSWORD": "bob-demo"}

	// Listing runs nothing: no password is needed.
	code, stdout, stderr := runMain(t, nil, "test", file, "--list")
	if code != 0 || stdout != "alice in IT\nalice in Everyone\nbob in IT\n" {
		t.Errorf("--list: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runMain(t, nil, "test", file, "--list", "--run", "^alice", "-o", "json")
	var list struct {
		File  string
		Cases []string
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || list.File != file || strings.Join(list.Cases, "|") != "alice in IT|alice in Everyone" {
		t.Errorf("--list --run -o json: exit %d %v %+v", code, err, list)
	}
	// The shards' lists partition the cases.
	var all []string
	for _, sh := range []string{"1/2", "2/2"} {
		_, stdout, _ = runMain(t, nil, "test", file, "--list", "--shard", sh)
		all = append(all, strings.Fields(strings.ReplaceAll(stdout, " ", "_"))...)
	}
	if len(all) != 3 {
		t.Errorf("shards list %q, want the 3 cases between them", all)
	}

	// Only bob's case runs, and fails: exit 1, and the summary says why
	// there is one case.
	code, stdout, _ = runMain(t, env, "test", file, "--run", "bob")
	if code != 1 || !strings.Contains(stdout, `1 cases (matching "bob"): 0 passed, 1 failed`) || strings.Contains(stdout, "alice in") {
		t.Errorf("--run bob: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runMain(t, env, "test", file, "--run", "IT$", "-o", "json")
	var res struct {
		Run   string
		Total int
	}
	if err := json.Unmarshal([]byte(stdout), &res); code != 1 || err != nil || res.Run != "IT$" || res.Total != 2 {
		t.Errorf("--run IT$ -o json: exit %d %v %+v", code, err, res)
	}
	code, stdout, stderr = runMain(t, env, "test", file, "--run", "carol")
	if code != 2 || stdout != "" || !strings.Contains(stderr, `--run: "carol" matches no case of `) {
		t.Errorf("--run carol: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

// TestTestCommandMaxCases: --max-cases bounds the cases a run selects
// (after --run and --shard), from a flag, the environment or the
// configuration file; raised to the count, or with --run selecting fewer,
// the run goes ahead; --list is never bounded (it sends nothing).
func TestTestCommandMaxCases(t *testing.T) {
	issuer := startDemo(t)
	dir := t.TempDir()
	t.Chdir(dir)
	var b strings.Builder
	fmt.Fprintf(&b, "defaults: {issuer: %s, client_id: claimcheck-public, grant: password, user: alice, password_env: P, scopes: [openid, groups]}\ncases:\n", issuer)
	for i := range 3 {
		fmt.Fprintf(&b, "  - {name: case %d, expect_groups: [IT]}\n", i)
	}
	file := filepath.Join(dir, "claimcheck.yaml")
	os.WriteFile(file, []byte(b.String()), 0o644)
	env := map[string]string{"P": "alice-demo"}
	tests := []struct {
		name   string
		env    map[string]string
		config string
		args   []string
		want   int
	}{
		{"over the flag", env, "", []string{"--max-cases", "2"}, 2},
		{"raised to the count", env, "", []string{"--max-cases", "3"}, 0},
		{"fewer selected", env, "", []string{"--max-cases", "2", "--run", "case [01]"}, 0},
		{"over the environment's", map[string]string{"P": "alice-demo", "CLAIMCHECK_MAX_CASES": "2"}, "", nil, 2},
		{"over the configuration file's", env, "max_cases: 2\n", nil, 2},
		{"a flag over the configuration file's", env, "max_cases: 2\n", []string{"--max-cases", "3"}, 0},
		{"--list over the limit", nil, "", []string{"--max-cases", "1", "--list"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, ".claimcheck.yaml"))
			if tt.config != "" {
				os.WriteFile(filepath.Join(dir, ".claimcheck.yaml"), []byte(tt.config), 0o644)
			}
			code, stdout, stderr := runMain(t, tt.env, append([]string{"test", file}, tt.args...)...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.want, stdout, stderr)
			}
			if code == 2 && (!strings.Contains(stderr, "selects 3 cases, more than the limit of 2") || stdout != "") {
				t.Errorf("stdout %q stderr %q", stdout, stderr)
			}
		})
	}
}
