package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

func startDemo(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Issuer()
}

func runMainStdin(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ios, out, errOut := testIO(stdin, env)
	code := Main(ctx, ios, args)
	return code, out.String(), errOut.String()
}

func TestGrantCommand(t *testing.T) {
	issuer := startDemo(t)
	base := []string{"--issuer", issuer, "--client-id", demo.PublicClientID, "--scopes", "openid,groups", "-o", "json"}
	conf := []string{"--issuer", issuer, "--client-id", demo.ConfidentialClientID, "-o", "json"}
	secret := map[string]string{"CLAIMCHECK_CLIENT_SECRET": demo.ConfidentialClientSecret}
	tests := []struct {
		name     string
		stdin    string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string // in stderr or the JSON error
	}{
		{"password env", "", map[string]string{"CLAIMCHECK_PASSWORD": "alice-demo"}, append(base, "--grant", "password", "--username", "alice", "--expect-groups", "IT,Everyone"), 0, ""},
		{"password stdin", "bob-demo\n", nil, append(base, "--grant", "password", "--username", "bob", "--password-stdin", "--expect-groups", "IT"), 1, ""},
		{"password missing", "", nil, append(base, "--grant", "password", "--username", "bob"), 2, "CLAIMCHECK_PASSWORD"},
		{"password no username", "", map[string]string{"CLAIMCHECK_PASSWORD": "x"}, append(base, "--grant", "password"), 2, "--username"},
		{"password-stdin without password grant", "", nil, append(base, "--grant", "refresh_token", "--username", "u", "--password-stdin"), 2, "only with --grant password"},
		{"password-stdin without username", "", nil, append(base, "--password-stdin"), 2, "needs --username"},
		{"client credentials", "", secret, append(conf, "--grant", "client_credentials"), 0, ""},
		{"client credentials without secret", "", nil, append(conf, "--grant", "client_credentials"), 2, "client secret"},
		{"refresh from stdin, unknown", "bogus\n", nil, append(base, "--grant", "refresh_token"), 3, "invalid_grant"},
		{"refresh none", "", nil, append(base, "--grant", "refresh_token"), 2, "CLAIMCHECK_REFRESH_TOKEN"},
		{"unknown grant", "", nil, append(base, "--grant", "magic"), 2, "unknown grant"},
		// Flags that shape the browser flow would be silently ignored by a grant.
		{"grant with a response type", "", nil, append(base, "--grant", "refresh_token", "--response-type", "code"), 2, "--response-type"},
		{"grant with a response mode", "", nil, append(base, "--grant", "refresh_token", "--response-mode", "form_post"), 2, "--response-mode"},
		{"grant with the implicit flow", "", nil, append(base, "--grant", "refresh_token", "--flow", "implicit"), 2, "--flow"},
		{"grant with a param", "", nil, append(base, "--grant", "refresh_token", "--param", "prompt=login"), 2, "--param"},
		{"grant with a redirect URI", "", nil, append(base, "--grant", "refresh_token", "--redirect-uri", "http://127.0.0.1:8250/cb"), 2, "--redirect-uri"},
		{"grant with a redirect URI from the environment", "", map[string]string{"CLAIMCHECK_REDIRECT_URI": "http://127.0.0.1:8250/cb"}, append(base, "--grant", "client_credentials"), 2, "--redirect-uri"},
		{"device grant with a redirect URI", "", nil, append(base, "--grant", "device_code", "--redirect-uri", "http://127.0.0.1:8250/cb"), 2, "--redirect-uri"},
		{"grant with the code flow named", "", map[string]string{"CLAIMCHECK_PASSWORD": "alice-demo"}, append(base, "--grant", "password", "--username", "alice", "--flow", "code"), 0, ""},
		{"password grant with a browser command", "", map[string]string{"CLAIMCHECK_PASSWORD": "alice-demo"}, append(base, "--grant", "password", "--username", "alice", "--browser-command", "true"), 2, "--browser-command"},
		// "Open no browser" holds for every grant: never refused.
		{"password grant with --no-browser", "", map[string]string{"CLAIMCHECK_PASSWORD": "alice-demo"}, append(base, "--grant", "password", "--username", "alice", "--no-browser"), 0, ""},
		{"client credentials with CLAIMCHECK_NO_BROWSER", "", map[string]string{"CLAIMCHECK_CLIENT_SECRET": demo.ConfidentialClientSecret, "CLAIMCHECK_NO_BROWSER": "true"}, append(conf, "--grant", "client_credentials"), 0, ""},
		{"client credentials with CLAIMCHECK_BROWSER_COMMAND", "", map[string]string{"CLAIMCHECK_CLIENT_SECRET": demo.ConfidentialClientSecret, "CLAIMCHECK_BROWSER_COMMAND": "true"}, append(conf, "--grant", "client_credentials"), 2, "--browser-command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMainStdin(t, tt.stdin, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			r := decodeReport(t, stdout)
			if tt.wantErr != "" && (r.Error == nil || !strings.Contains(r.Error.Message, tt.wantErr)) {
				t.Errorf("error %+v, want it to mention %q", r.Error, tt.wantErr)
			}
			for _, s := range []string{"alice-demo", "bob-demo", demo.ConfidentialClientSecret} {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("secret %q in the output", s)
				}
			}
		})
	}
}

// TestGrantRefreshRoundTrip: a device grant with --print-refresh-token
// prints a refresh token that the refresh grant then accepts from the
// environment.
func TestGrantRefreshRoundTrip(t *testing.T) {
	issuer := startDemo(t)
	// The browser command is this test binary, which approves the device
	// through the demo's form (TestHelperApproveDevice).
	t.Setenv("CLAIMCHECK_TEST_APPROVE_DEVICE", "1")
	approve := os.Args[0] + " -test.run=^TestHelperApproveDevice$"
	code, stdout, stderr := runMainStdin(t, "", nil, "--issuer", issuer, "--client-id", demo.PublicClientID,
		"--scopes", "openid,groups,offline_access", "--grant", "device_code", "--browser-command", approve,
		"--print-refresh-token", "--expect-groups", "IT", "-o", "json", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("device: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "enter the code") {
		t.Errorf("no user code shown: %s", stderr)
	}
	_, rt, ok := strings.Cut(stderr, "CLAIMCHECK_REFRESH_TOKEN): ")
	rt, _, _ = strings.Cut(rt, "\n")
	if !ok || rt == "" {
		t.Fatalf("no refresh token printed: %s", stderr)
	}
	code, stdout, stderr = runMainStdin(t, "", map[string]string{"CLAIMCHECK_REFRESH_TOKEN": rt},
		"--issuer", issuer, "--client-id", demo.PublicClientID, "--grant", "refresh_token", "--expect-groups", "IT,Everyone", "-o", "json")
	if code != 0 {
		t.Fatalf("refresh: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, rt) {
		t.Errorf("refresh token printed without being asked")
	}
}

// TestHelperApproveDevice is not a test: run as --browser-command by
// TestGrantRefreshRoundTrip, it approves the device whose complete
// verification URI is its last argument, as alice.
func TestHelperApproveDevice(t *testing.T) {
	if os.Getenv("CLAIMCHECK_TEST_APPROVE_DEVICE") != "1" {
		return
	}
	u, err := url.Parse(os.Args[len(os.Args)-1])
	if err != nil {
		t.Fatal(err)
	}
	code := u.Query().Get("user_code")
	u.RawQuery = ""
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := demo.ApproveDevice(ctx, http.DefaultClient, u.String(), code, "alice", "alice-demo", false); err != nil {
		t.Fatal(err)
	}
}

// TestPrintRefreshTokenWithoutOne: asked to print a refresh token where the
// provider gives none (the demo's password grant), the report says why
// nothing was printed.
func TestPrintRefreshTokenWithoutOne(t *testing.T) {
	issuer := startDemo(t)
	code, stdout, stderr := runMainStdin(t, "", map[string]string{"CLAIMCHECK_PASSWORD": "alice-demo"},
		"--issuer", issuer, "--client-id", demo.PublicClientID, "--scopes", "openid,groups,offline_access",
		"--grant", "password", "--username", "alice", "--print-refresh-token", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "refresh token (store it") {
		t.Errorf("a refresh token was printed: %s", stderr)
	}
	var r struct{ Notes []string }
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool {
		return strings.HasPrefix(n, "no refresh token was issued: ask for offline_access")
	}) {
		t.Errorf("notes %q do not say that no refresh token came", r.Notes)
	}
}
