package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/report"
)

// testIO returns streams for a test and the buffers behind them.
func testIO(stdin string, env map[string]string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{
		In: strings.NewReader(stdin), Out: out, ErrOut: errOut,
		Getenv: func(k string) string { return env[k] },
	}, out, errOut
}

func runMain(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ios, out, errOut := testIO("", env)
	code := Main(ctx, ios, args)
	return code, out.String(), errOut.String()
}

func decodeReport(t *testing.T, s string) report.Report {
	t.Helper()
	var r report.Report
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout:\n%s", s)
	}
	return r
}

func TestDemo(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantFail string // a failed check whose name contains this
		tokens   []string
	}{
		{"alice code", nil, 0, "", []string{"id_token", "access_token"}},
		{"bob lacks IT", []string{"--user", "bob"}, 1, "IT", nil},
		{"confidential client", []string{"--client", "confidential"}, 0, "", []string{"id_token"}},
		{"implicit id_token", []string{"--flow", "implicit"}, 0, "", []string{"id_token"}},
		{"implicit id_token token", []string{"--response-type", "id_token token"}, 0, "", []string{"id_token", "access_token"}},
		{"form_post", []string{"--response-mode", "form_post"}, 0, "", []string{"id_token"}},
		{"implicit form_post", []string{"--flow", "implicit", "--response-mode", "form_post"}, 0, "", []string{"id_token"}},
		{"forbid", []string{"--forbid-groups", "IT"}, 1, "IT", nil},
		{"exact passes", []string{"--exact-groups"}, 0, "", nil},
		{"exact fails", []string{"--exact-groups", "--expect-groups", "IT"}, 1, "exact", nil},
		{"forbid without the groups claim", []string{"--scopes", "openid", "--expect-groups", "", "--forbid-groups", "Admins"}, 1, "Admins", nil},
		{"exact without the groups claim", []string{"--scopes", "openid", "--exact-groups"}, 1, "exact", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"demo", "--no-browser", "-o", "json", "--timeout", "30s"}, tt.args...)
			code, stdout, stderr := runMain(t, nil, args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			r := decodeReport(t, stdout)
			if r.ExitCode != code || r.OK != (code == 0) {
				t.Fatalf("report says ok=%v exit_code=%d, process %d", r.OK, r.ExitCode, code)
			}
			if (r.Error == nil) != (code == 0) {
				t.Fatalf("error %+v with exit %d", r.Error, code)
			}
			for _, k := range tt.tokens {
				if tok := r.Tokens[k]; tok == nil || !tok.Verified {
					t.Errorf("token %s not verified: %+v", k, tok)
				}
			}
			if tt.wantFail != "" {
				found := false
				for _, c := range r.Checks {
					if !c.OK && strings.Contains(c.Name, tt.wantFail) {
						found = true
					}
				}
				if !found {
					t.Fatalf("no failed check naming %q: %+v", tt.wantFail, r.Checks)
				}
				if r.Error == nil || r.Error.Class != "expectation" || !strings.Contains(r.Error.Message, tt.wantFail) {
					t.Fatalf("an expectation failure must be an expectation error naming the check: %+v", r.Error)
				}
			}
			for _, tok := range r.Tokens {
				if tok.Raw != "" {
					t.Fatal("raw token in the report without --show-tokens")
				}
			}
		})
	}
}

func TestDemoText(t *testing.T) {
	code, stdout, stderr := runMain(t, map[string]string{"NO_COLOR": "1"}, "demo", "--no-browser", "--user", "bob")
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"ID token", "✓ verified", "Checks", "✗", "IT", "FAIL (expectation, exit 1)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Error("colour in output that is not a terminal")
	}
}

func TestDemoJUnit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	code, stdout, stderr := runMain(t, nil, "demo", "--no-browser", "--user", "bob", "--junit", path)
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, data)
	}
	if doc.Failures != 1 || doc.Tests < 3 {
		t.Fatalf("tests=%d failures=%d\n%s", doc.Tests, doc.Failures, data)
	}
}

// A failed browser command ends the run at once. The run's --timeout is far
// beyond runMain's own deadline: had the run waited it out, that deadline
// would interrupt it (exit 130) and the test would fail on the exit status.
func TestBrowserCommandFailureEndsRun(t *testing.T) {
	code, stdout, stderr := runMain(t, nil, "demo", "-o", "json", "--timeout", "1h", "--browser-command", "false")
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	r := decodeReport(t, stdout)
	if r.Error == nil || !strings.Contains(r.Error.Message, "browser command") {
		t.Fatalf("error %+v does not name the browser command", r.Error)
	}
}

func TestShowTokens(t *testing.T) {
	code, stdout, _ := runMain(t, nil, "demo", "--no-browser", "-o", "json", "--show-tokens")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	r := decodeReport(t, stdout)
	if r.Tokens["id_token"].Raw == "" || strings.Count(r.Tokens["id_token"].Raw, ".") != 2 {
		t.Fatal("--show-tokens did not show the ID token")
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown flag", nil, []string{"--nope"}, "unknown flag: --nope (see 'claimcheck --help')"},
		{"misspelt flag", nil, []string{"--expect-group", "IT"}, "unknown flag: --expect-group; did you mean --expect-groups? (see 'claimcheck --help')"},
		{"misspelt flag of a command", nil, []string{"verify", "--trusted-isuer", "x", "-"}, "unknown flag: --trusted-isuer; did you mean --trusted-issuer? (see 'claimcheck verify --help')"},
		{"misspelt inherited flag", nil, []string{"test", "--proflie", "x"}, "did you mean --profile?"},
		{"misspelt command", nil, []string{"tset"}, `unknown command "tset" for "claimcheck"; did you mean test?`},
		{"unknown word", nil, []string{"xyzzy"}, `unknown command "xyzzy" for "claimcheck"` + "\n"},
		{"no issuer", nil, []string{"--client-id", "x"}, "--issuer"},
		{"bad issuer", nil, []string{"--issuer", "ftp://x", "--client-id", "x"}, "--issuer"},
		{"http issuer off loopback", nil, []string{"--issuer", "http://example.com", "--client-id", "x"}, "https"},
		{"http issuer looking like loopback", nil, []string{"--issuer", "http://127.evil.example", "--client-id", "x"}, "https"},
		{"no client", nil, []string{"--issuer", "https://127.0.0.1:9"}, "--client-id"},
		{"bad output", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "-o", "yaml"}, "--output"},
		{"bad groups-from", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--groups-from", "cookie"}, "--groups-from"},
		{"bad env duration", map[string]string{"CLAIMCHECK_TIMEOUT": "soon"}, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x"}, "CLAIMCHECK_TIMEOUT"},
		{"reserved param", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--param", "state=1"}, "state"},
		{"unreadable ca file", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--ca-file", "/nonexistent.pem"}, "CA file"},
		{"demo unknown user", nil, []string{"demo", "--user", "mallory"}, "mallory"},
		{"verify no token", nil, []string{"verify", "--issuer", "https://127.0.0.1:9", "--client-id", "x"}, "no token"},
		// A malformed token is exit 4, not 2: TestVerifyBadTokens.
		{"unknown command args", nil, []string{"version", "extra"}, "unknown command"},
		{"demo zero timeout", nil, []string{"demo", "--timeout", "0s"}, "--timeout"},
		{"zero timeout", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--timeout", "0s"}, "--timeout"},
		{"url zero timeout", nil, []string{"url", "--issuer", "https://127.0.0.1:9", "--client-id", "x", "--timeout", "0s"}, "--timeout"},
		{"verify stdin twice", nil, []string{"verify", "--issuer", "https://127.0.0.1:9", "--client-id", "x", "--client-secret", "-", "-"}, "CLAIMCHECK_CLIENT_SECRET"},
		{"unknown flow", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--flow", "hybrid"}, "--flow"},
		{"implicit flow with a code response type", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--flow", "implicit", "--response-type", "code"}, "contradicts"},
		{"code flow with an implicit response type", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--flow", "code", "--response-type", "id_token token"}, "contradicts"},
		{"code flow from the environment, implicit response type", map[string]string{"CLAIMCHECK_FLOW": "code"}, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--response-type", "id_token"}, "contradicts"},
		{"demo implicit flow with a code response type", nil, []string{"demo", "--flow", "implicit", "--response-type", "code"}, "contradicts"},
		{"unknown response type word", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--response-type", "code idtoken"}, "idtoken"},
		{"demo unknown flow", nil, []string{"demo", "--flow", "hybrid"}, "--flow"},
		{"authorization details not an array", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--authorization-details", `{"type":"a"}`}, "--authorization-details"},
		{"authorization details without type", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--authorization-details", `[{"actions":["read"]}]`}, "type"},
		{"relative resource", nil, []string{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--resource", "/api"}, "--resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.env, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Fatalf("stderr lacks %q: %s", tt.want, stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 {
				t.Fatalf("error is not one line: %q", stderr)
			}
			if stdout != "" {
				t.Fatalf("a usage error wrote to stdout: %q", stdout)
			}
		})
	}
}

// The demo provider has no pushed_authorization_request_endpoint: --par is
// a usage error naming the field, before any authorization request.
func TestDemoPARWithoutEndpoint(t *testing.T) {
	code, stdout, stderr := runMain(t, nil, "demo", "--par")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "--par: the provider's metadata has no pushed_authorization_request_endpoint") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestUsageErrorJSON(t *testing.T) {
	code, stdout, _ := runMain(t, nil, "--client-id", "x", "-o", "json")
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	r := decodeReport(t, stdout)
	if r.Error == nil || r.Error.Class != "usage" || r.ExitCode != 2 || r.OK {
		t.Fatalf("report %+v", r)
	}
}

func TestEnvironmentFillsFlags(t *testing.T) {
	env := map[string]string{"CLAIMCHECK_USER": "bob", "CLAIMCHECK_OUTPUT": "json"}
	code, stdout, _ := runMain(t, env, "demo", "--no-browser")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (bob from CLAIMCHECK_USER)", code)
	}
	decodeReport(t, stdout)
	// Flags win over the environment.
	code, _, _ = runMain(t, env, "demo", "--no-browser", "--user", "alice")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (--user alice over the environment)", code)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runMain(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "claimcheck ") {
		t.Fatalf("exit %d, %q", code, stdout)
	}
}

func TestSecretFlagWarns(t *testing.T) {
	for _, args := range [][]string{
		{"--issuer", "https://127.0.0.1:9", "--client-id", "x", "--client-secret", "s3cret", "-o", "yaml"},
		{"run", "--issuer", "https://127.0.0.1:9", "--client-id", "x", "--client-secret", "s3cret", "--timeout", "0s"},
	} {
		_, _, stderr := runMain(t, nil, args...)
		if args[0] == "run" && !strings.Contains(stderr, "CLAIMCHECK_CLIENT_SECRET") {
			t.Errorf("%v: no warning naming CLAIMCHECK_CLIENT_SECRET: %s", args, stderr)
		}
		if strings.Contains(stderr, "s3cret") {
			t.Errorf("%v: the secret is printed: %s", args, stderr)
		}
	}
	_, _, stderr := runMain(t, map[string]string{"CLAIMCHECK_CLIENT_SECRET": "s3cret"}, "run", "--issuer", "https://127.0.0.1:9", "--client-id", "x", "--timeout", "0s")
	if strings.Contains(stderr, "warning") {
		t.Errorf("warning for a secret from the environment: %s", stderr)
	}
}
