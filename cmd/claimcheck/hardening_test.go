package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/internal/testsupport/leakcheck"
)

// countingIssuer is a provider address that records whether anything was
// sent to it: usage errors must be found before that.
func countingIssuer(t *testing.T) (string, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestUsageNothingSent: configuration errors are usage (2), in one line,
// and are found before any request reaches the provider (RFC 8252 §7.3 and
// §8.3 for the redirect URI; DESIGN's exit classes).
func TestUsageNothingSent(t *testing.T) {
	issuer, sent := countingIssuer(t)
	base := []string{"--issuer", issuer, "--client-id", "x", "--no-browser", "--timeout", "5s"}
	// A suite whose snapshot directory does not exist (issue 11, item 4).
	suiteFile := filepath.Join(t.TempDir(), "claimcheck.yaml")
	os.WriteFile(suiteFile, []byte("defaults: {issuer: "+issuer+", client_id: x, grant: client_credentials, client_secret_env: S}\n"+
		"cases:\n  - {name: a, snapshot: missing-dir/a.json}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed issuer", []string{"--issuer", "http://[::1", "--client-id", "x"}, "--issuer"},
		{"issuer with a query", []string{"--issuer", issuer + "?tenant=1", "--client-id", "x"}, "--issuer"},
		{"redirect URI off loopback", append(base, "--redirect-uri", "http://example.com:8765/callback"), "loopback"},
		{"redirect URI on all interfaces", append(base, "--redirect-uri", "http://0.0.0.0:8765/callback"), "loopback"},
		{"https redirect URI", append(base, "--redirect-uri", "https://127.0.0.1:8765/callback"), "http"},
		{"custom scheme redirect URI", append(base, "--redirect-uri", "com.example.app:/callback"), "redirect"},
		{"redirect URI with user info", append(base, "--redirect-uri", "http://127.0.0.1:80@evil.example/callback"), "redirect"},
		{"unknown flow", append(base, "--flow", "device"), "--flow"},
		{"unknown response type word", append(base, "--response-type", "code bogus"), "bogus"},
		{"unknown response mode", append(base, "--response-mode", "web_message"), "web_message"},
		{"JUnit file in a missing directory", append(base, "--junit", "/nonexistent/dir/report.xml"), "--junit"},
		{"unreadable CA file", append(base, "--ca-file", "/nonexistent/ca.pem"), "CA file"},
		{"zero --http-timeout (no deadline at all)", append(base, "--http-timeout", "0s"), "--http-timeout"},
		{"negative --http-timeout", append(base, "--http-timeout", "-1s"), "--http-timeout"},
		{"negative --clock-skew", append(base, "--clock-skew", "-5m"), "--clock-skew"},
		{"--clock-skew above the limit", append(base, "--clock-skew", "240h"), "limit of 10m0s"},
		{"verify: --clock-skew above the limit", append([]string{"verify", "--kind", "access_token", "a.b.c", "--clock-skew", "11m"}, base[:4]...), "limit of 10m0s"},
		{"verify -: --clock-skew above the limit", append([]string{"verify", "-", "--clock-skew", "11m"}, base[:4]...), "limit of 10m0s"},
		{"test: --clock-skew above the limit", []string{"test", "/nonexistent/claimcheck.yaml", "--clock-skew", "1h"}, "limit of 10m0s"},
		{"non-positive timeout", append(base[:len(base)-2], "--timeout", "0s"), "--timeout"},
		{"test --update-snapshots: snapshot directory missing", []string{"test", suiteFile, "--update-snapshots"}, "claimcheck.yaml:3: snapshot: cannot write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent.Store(0)
			code, stdout, stderr := runMain(t, nil, tt.args...)
			checkUsageNothingSent(t, tt.name, tt.want, code, stdout, stderr, sent)
		})
	}
}

// checkUsageNothingSent fails t unless a run ended as a usage error (2)
// with one line that contains want, and sent counted no request.
func checkUsageNothingSent(t *testing.T, name, want string, code int, stdout, stderr string, sent *atomic.Int64) {
	t.Helper()
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		msg = failLine(stdout)
	}
	t.Logf("CASE usage: %s | want usage (2) | got %d | %.200s", name, code, msg)
	if code != 2 {
		t.Fatalf("exit %d, want 2\nstdout: %.2000s\nstderr: %.2000s", code, stdout, stderr)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("message lacks %q: %.500s", want, msg)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %.500q", msg)
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d request(s) reached the provider before the usage error", n)
	}
}

// TestLocalFiles: a suite or configuration file past a limit (1 MiB,
// 1,000 items in a list), a suite that selects more cases than --max-cases
// (1,000 unless raised, also from the configuration file), and a key twice
// in a mapping of either file are usage errors (2) in one line naming the
// file and the limit or both lines, found before anything is sent (issue
// 11: a 100 MB suite once took 6.5 GB and started 1.42 million cases; a
// second issuer: once sent a run to another host).
func TestLocalFiles(t *testing.T) {
	issuer, sent := countingIssuer(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pad := "#" + strings.Repeat("x", 1<<20) + "\n"
	head := "defaults: {issuer: " + issuer + ", client_id: x, grant: password, user: u, password_env: P}\ncases:\n"
	cases := func(n int) string {
		var b strings.Builder
		b.WriteString(head)
		for i := range n {
			b.WriteString("  - name: case " + itoa(i) + "\n")
		}
		return b.String()
	}
	many, three := write("many.yaml", cases(1001)), write("three.yaml", cases(3))
	groups := "[" + strings.Repeat("g,", 1000) + "g]"
	run := []string{"--issuer", issuer, "--client-id", "x", "--no-browser", "--timeout", "5s"}
	tests := []struct {
		name   string
		config string // the working directory's .claimcheck.yaml, if any
		args   []string
		want   string
	}{
		{"suite file over 1 MiB", "", []string{"test", write("big.yaml", cases(1)+pad)}, "big.yaml: larger than 1048576 bytes (1 MiB), the limit of a suite file"},
		{"suite file over 1 MiB, --list", "", []string{"test", "--list", filepath.Join(dir, "big.yaml")}, "the limit of a suite file"},
		{"suite list over 1,000 items", "", []string{"test", write("groups.yaml", cases(1)+"    expect_groups: "+groups+"\n")}, "groups.yaml:4: cases[0].expect_groups: a list of 1001 items, more than the limit of 1000"},
		{"suite with more cases than the default --max-cases", "", []string{"test", many}, "--max-cases: " + many + " selects 1001 cases, more than the limit of 1000"},
		{"suite with more cases than --max-cases", "", []string{"test", three, "--max-cases", "2"}, "selects 3 cases, more than the limit of 2"},
		{"suite with more cases than max_cases in the file", "max_cases: 2\n", []string{"test", three}, "selects 3 cases, more than the limit of 2"},
		{"--max-cases 0", "", []string{"test", three, "--max-cases", "0"}, "--max-cases: must be at least 1"},
		{"suite with a key twice", "", []string{"test", write("dup.yaml", "defaults:\n  issuer: "+issuer+"\n  client_id: x\n  issuer: https://elsewhere.example\ncases:\n  - {name: a, user: u, password_env: P}\n")}, `dup.yaml:4: defaults.issuer: duplicate key "issuer" (first at line 2)`},
		{"suite with a field spelt twice", "", []string{"test", "--list", write("dup2.yaml", head+"  - name: a\n    client_id: x\n    client-id: y\n")}, `dup2.yaml:5: cases[0].client-id: duplicate key "client-id" (first at line 4 as "client_id")`},
		{"configuration with a key twice", "issuer: " + issuer + "\nclient_id: x\nissuer: https://elsewhere.example\n", []string{"--no-browser", "--timeout", "5s"}, `.claimcheck.yaml:3: issuer: duplicate key "issuer" (first at line 1)`},
		{"configuration with a flag spelt twice", "client_id: a\nclient-id: b\n", run, `.claimcheck.yaml:2: client-id: duplicate key "client-id" (first at line 1 as "client_id")`},
		{"configuration file over 1 MiB", "issuer: " + issuer + "\n" + pad, run, ".claimcheck.yaml: larger than 1048576 bytes (1 MiB), the limit of a configuration file"},
		{"configuration list over 1,000 items", "expect_groups: " + groups + "\n", run, ".claimcheck.yaml:1: expect_groups: a list of 1001 items, more than the limit of 1000"},
		{"suite with a second document", "", []string{"test", "--list", write("docs.yaml", head+"  - name: a\n---\ndefaults: {issuer: https://elsewhere.example}\n")},
			"claimcheck: " + filepath.Join(dir, "docs.yaml") + ":4: a second YAML document starts here; a suite file holds one document"},
		{"configuration with a second document", "issuer: " + issuer + "\nclient_id: x\n---\nissuer: https://elsewhere.example\n", []string{"--no-browser", "--timeout", "5s"},
			"/.claimcheck.yaml:3: a second YAML document starts here; a configuration file holds one document"},
		{"configuration with a flag spelt twice in a profile not chosen", "profiles:\n  a: {client_id: x}\n  b:\n    client_id: y\n    client-id: z\n", append([]string{"--profile", "a"}, run...),
			`/.claimcheck.yaml:5: profiles.b.client-id: duplicate key "client-id" (first at line 4 as "client_id")`},
		{"configuration with an unknown key in a profile not chosen", "profiles:\n  a: {client_id: x}\n  b:\n    expect_grups: [IT]\n", append([]string{"--profile", "a"}, run...),
			"/.claimcheck.yaml:4: profiles.b.expect_grups: unknown setting (not a flag of any claimcheck command); did you mean expect_groups?"},
		{"configuration with an unknown key in a profile, none chosen", "client_id: x\nprofiles:\n  b:\n    isuer: https://elsewhere.example\n", run,
			"/.claimcheck.yaml:4: profiles.b.isuer: unknown setting (not a flag of any claimcheck command); did you mean issuer?"},
		{"configuration with an unknown key in the chosen profile", "profiles:\n  b:\n    colour: blue\n", append([]string{"--profile", "b"}, run...),
			"/.claimcheck.yaml:3: profiles.b.colour: unknown setting (not a flag of any claimcheck command)"},
		{"configuration with a list for one value in a profile not chosen", "profiles:\n  a: {}\n  b:\n    timeout: [1m, 2m]\n", append([]string{"--profile", "a"}, run...),
			"/.claimcheck.yaml:4: profiles.b.timeout: takes one value, not a list"},
		{"configuration with a list for another command's flag of one value", "max_cases: [1, 2]\n", run,
			"/.claimcheck.yaml:1: max_cases: takes one value, not a list"},
		{"configuration with a secret in a profile not chosen", "profiles:\n  a: {}\n  b:\n    client_secret: hunter2\n", append([]string{"--profile", "a"}, run...),
			"/.claimcheck.yaml:4: profiles.b.client_secret: secrets are never written in the configuration file; set CLAIMCHECK_CLIENT_SECRET or name a variable with client_secret_env: NAME"},
		{"configuration comma-separated list over 1,000 items", "scopes: " + strings.Trim(groups, "[]") + "\n", run, ".claimcheck.yaml:1: scopes: a list of 1001 items, more than the limit of 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wd := t.TempDir()
			t.Chdir(wd)
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(wd, ".claimcheck.yaml"), []byte(tt.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sent.Store(0)
			code, stdout, stderr := runMain(t, nil, tt.args...)
			checkUsageNothingSent(t, tt.name, tt.want, code, stdout, stderr, sent)
		})
	}
}

// failLine is the text report's FAIL line.
func failLine(report string) string {
	for _, l := range strings.Split(report, "\n") {
		if strings.Contains(l, "FAIL") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// TestPortInUse: a redirect URI whose port another program holds is a
// usage error naming the port, with no silent fallback to another port
// (RFC 8252 §7.3: the redirect URI is registered exactly).
func TestPortInUse(t *testing.T) {
	before := leakcheck.Take()
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	held, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	code, stdout, stderr := runMain(t, nil, "--issuer", p.Issuer(), "--client-id", demo.PublicClientID,
		"--redirect-uri", "http://127.0.0.1:"+itoa(port)+"/callback", "--no-browser", "--timeout", "5s")
	msg := failLine(stdout) + strings.TrimSpace(stderr)
	t.Logf("CASE usage: port already in use | want usage (2) | got %d | %s", code, msg)
	if code != 2 || !strings.Contains(msg, itoa(port)) || !strings.Contains(msg, "in use") {
		t.Fatalf("exit %d, %q; want 2 naming port %d", code, msg, port)
	}
	held.Close()
	p.Close()
	before.Check(t, 5*time.Second)
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSecretFlagWarning: a client secret given as a flag value is visible
// in the process list; claimcheck warns and names the environment variable,
// and never prints the secret itself (RFC 8252 §8.5: native apps' secrets
// are not secret, but a CI's are).
func TestSecretFlagWarning(t *testing.T) {
	const secret = "s3cr3t-from-the-flag"
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantWarn bool
	}{
		{"flag", nil, []string{"--client-secret", secret}, true},
		{"environment", map[string]string{"CLAIMCHECK_CLIENT_SECRET": secret}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A usage error after the secret is read keeps the run offline.
			args := append([]string{"--issuer", "https://idp.example", "--client-id", "x", "--timeout", "0s"}, tt.args...)
			_, stdout, stderr := runMain(t, tt.env, args...)
			warned := strings.Contains(stderr, "CLAIMCHECK_CLIENT_SECRET")
			if warned != tt.wantWarn {
				t.Errorf("warning naming CLAIMCHECK_CLIENT_SECRET: %v, want %v\n%s", warned, tt.wantWarn, stderr)
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("the secret was printed:\n%s\n%s", stdout, stderr)
			}
		})
	}
}

// TestTLSFlags: an https issuer with a certificate no system CA signed is a
// provider failure (5) naming the certificate problem; --ca-file makes the
// same command pass; nothing retries without verification. RFC 9700 §4.1.1
// (TLS for every request), OpenID Core §16.17.
func TestTLSFlags(t *testing.T) {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := hostile.New(p.Issuer(), hostile.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.Certificate(), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"url", "--issuer", s.Issuer(), "--client-id", demo.PublicClientID}
	code, _, stderr := runMain(t, nil, args...)
	t.Logf("CASE provider: https self-signed via the CLI | want provider (5) | got %d | %s", code, strings.TrimSpace(stderr))
	if code != 5 || !strings.Contains(stderr, "certificate") {
		t.Errorf("self-signed: exit %d, %q", code, stderr)
	}
	if n := s.Count(hostile.DiscoveryEndpoint); n != 0 {
		t.Errorf("%d discovery request(s) got through without a trusted certificate", n)
	}
	code, stdout, stderr := runMain(t, nil, append(args, "--ca-file", ca)...)
	t.Logf("CASE pass: https with --ca-file via the CLI | want pass (0) | got %d", code)
	if code != 0 || !strings.Contains(stdout, s.Issuer()+"/authorize?") {
		t.Errorf("with --ca-file: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// TestSignInTimeout: --timeout bounds the wait for the redirect; the
// message names the redirect URI to register (RFC 8252 §7.3).
func TestSignInTimeout(t *testing.T) {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	code, stdout, stderr := runMain(t, nil, "--issuer", p.Issuer(), "--client-id", demo.PublicClientID,
		"--redirect-uri", "http://127.0.0.1:0/callback", "--no-browser", "--timeout", "300ms")
	msg := failLine(stdout)
	t.Logf("CASE flow: --timeout expires via the CLI | want flow (3) | got %d | %s", code, msg)
	if code != 3 || !strings.Contains(msg, "timed out") || !strings.Contains(msg, "registered exactly") {
		t.Errorf("exit %d, %q\n%s", code, msg, stderr)
	}
}

// TestVerifyBadTokens: tokens given to verify that are not three base64url
// segments, in JSON serialization, or 1 MB long are verification failures
// (4) found before discovery (RFC 7519 §7.2), as an argument and on stdin
// alike, where a bad line is that line's failure (README: Verifying a
// stream of tokens): the token is the input under test (issue 11, item 7).
// No token at all is a usage error (2).
func TestVerifyBadTokens(t *testing.T) {
	issuer, sent := countingIssuer(t)
	huge := strings.Repeat("a", 1<<20) + ".b.c"
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"two segments", "", []string{"abc.def"}},
		{"four segments", "", []string{"a.b.c.d"}},
		{"not base64url", "", []string{"a.b!.c"}},
		{"JWS JSON serialization", "", []string{`{"protected":"e30","payload":"e30","signature":""}`}},
		{"1 MB argument", "", []string{huge}},
		{"1 MB on stdin", huge + "\n", []string{"-"}},
		{"two segments on stdin", "abc.def\n", []string{"-"}},
		{"access token not b64token", "", []string{"--kind", "access_token", "not a token"}},
		{"access token with an escape", "", []string{"--kind", "access_token", "tok\x1b[31m"}},
		{"opaque token without --kind", "", []string{"opaque-token"}},
		{"no token", "", nil},
	}
	want := func(name string) int {
		if name == "no token" {
			return 2
		}
		return 4
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent.Store(0)
			ios, out, errOut := testIO(tt.stdin, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := Main(ctx, ios, append([]string{"verify", "--issuer", issuer, "--client-id", "x"}, tt.args...))
			msg := strings.TrimSpace(errOut.String())
			t.Logf("CASE verification: verify %s | want %d | got %d | %.120s", tt.name, want(tt.name), code, msg)
			if code != want(tt.name) || strings.Contains(msg, "\n") || len(msg) > 300 {
				t.Errorf("exit %d, message %.300q", code, msg)
			}
			if tt.stdin == huge+"\n" && (!strings.Contains(out.String(), "longer than 65536 bytes") || out.Len() > 1000) {
				t.Errorf("stream result %.300q", out.String())
			}
			if n := sent.Load(); n != 0 {
				t.Errorf("%d request(s) sent", n)
			}
		})
	}
}

// blockingReader is a stdin nobody types into; it says when it is first
// read.
type blockingReader struct {
	reading chan struct{}
	once    sync.Once
	release chan struct{}
}

func (b *blockingReader) Read([]byte) (int, error) {
	b.once.Do(func() { close(b.reading) })
	<-b.release
	return 0, io.EOF
}

// TestVerifyStdin: verify - streams (issue 6): any number of tokens is
// verified as it is read, in bounded memory — 1,001 tokens naming no
// issuer give 1,001 result lines and no request — and Ctrl-C while
// claimcheck waits for input ends it as interrupted (130) at once.
func TestVerifyStdin(t *testing.T) {
	issuer, sent := countingIssuer(t)
	args := []string{"verify", "--issuer", issuer, "--client-id", "x", "-"}

	many := strings.Repeat("eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n", 1001)
	ios, out, errOut := testIO(many, nil)
	code := Main(context.Background(), ios, args)
	t.Logf("CASE stream: 1,001 tokens naming no issuer on stdin | want verification (4), 1,001 lines | got %d | %s", code, strings.TrimSpace(errOut.String()))
	if code != 4 || strings.Count(out.String(), "\n") != 1001 || !strings.Contains(errOut.String(), "1001 tokens, 0 ok") {
		t.Errorf("exit %d, %d lines, %q", code, strings.Count(out.String(), "\n"), errOut.String())
	}

	in := &blockingReader{reading: make(chan struct{}), release: make(chan struct{})}
	defer close(in.release)
	ios, _, errOut = testIO("", nil)
	ios.In = in
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-in.reading
		cancel()
	}()
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, ios, args) }()
	select {
	case code = <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("verify - did not end within 10s of Ctrl-C")
	}
	t.Logf("CASE interrupted: Ctrl-C while verify reads stdin | want interrupted (130) | got %d | %s", code, strings.TrimSpace(errOut.String()))
	if code != 130 {
		t.Errorf("exit %d, want 130: %s", code, errOut.String())
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d request(s) sent", n)
	}
}

// TestBadMetadataNotUsage: an endpoint in the discovery document that is
// not an http(s) URL is the provider's metadata failing verification (4),
// naming the document and the field, for every command that discovers;
// never a usage error (2) that reads like a flag problem, and nothing is
// sent to any endpoint (issue 11, item 4).
func TestBadMetadataNotUsage(t *testing.T) {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tests := []struct {
		name, field, value string
		args               []string
	}{
		{"run: authorization_endpoint javascript:", "authorization_endpoint", "javascript:alert(1)", []string{"--no-browser", "--timeout", "5s"}},
		{"run: token_endpoint file:", "token_endpoint", "file:///etc/passwd", []string{"--no-browser", "--timeout", "5s"}},
		{"url: authorization_endpoint javascript:", "authorization_endpoint", "javascript:alert(1)", []string{"url"}},
		{"client_credentials: token_endpoint file:", "token_endpoint", "file:///etc/passwd", []string{"--grant", "client_credentials"}},
		// The endpoints flow refuses as the caller's input (failure.Usage)
		// when a Config is built by hand: from discovery they are the
		// provider's (issue 11 hardening, second round).
		{"run --par: pushed_authorization_request_endpoint javascript:", "pushed_authorization_request_endpoint", "javascript:alert(1)", []string{"--par", "--no-browser", "--timeout", "5s"}},
		{"device_code: device_authorization_endpoint with a fragment", "device_authorization_endpoint", "http://127.0.0.1:1/device#x", []string{"--grant", "device_code", "--no-browser", "--timeout", "5s"}},
		{"url --par: pushed_authorization_request_endpoint relative", "pushed_authorization_request_endpoint", "/par", []string{"url", "--par"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := hostile.New(p.Issuer(), hostile.Options{Discovery: func(d map[string]any) { d[tt.field] = tt.value }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			args := append(append([]string{}, tt.args...), "--issuer", s.Issuer(), "--client-id", demo.ConfidentialClientID)
			code, stdout, stderr := runMain(t, map[string]string{"CLAIMCHECK_CLIENT_SECRET": demo.ConfidentialClientSecret}, args...)
			msg := failLine(stdout) + strings.TrimSpace(stderr)
			t.Logf("CASE verification: %s | want verification (4) | got %d | %s", tt.name, code, msg)
			if code != 4 {
				t.Fatalf("exit %d, want 4\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range []string{tt.field, s.Issuer() + "/.well-known/openid-configuration"} {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q: %s", w, msg)
				}
			}
			for _, e := range []hostile.Endpoint{hostile.AuthorizeEndpoint, hostile.TokenEndpoint, hostile.JWKSEndpoint} {
				if n := s.Count(e); n != 0 {
					t.Errorf("%d request(s) to the %s", n, e)
				}
			}
		})
	}
}
