package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/e2e/harness"
)

// The matrix (README.md, "The matrix"): the claimcheck binary as a process,
// signing the test users in through ccbrowser at each provider, for every
// flow the provider supports. Each cell has its own redirect port, registered
// at the one provider start that its group shares, so the cells run in
// parallel (capped by matrixSlots).

// matrixSlots caps how many claimcheck runs (each with its own Chromium) are
// in flight at once: the machine has 2 cores.
var matrixSlots = make(chan struct{}, 4)

// runTimeout is the deadline of one claimcheck process (its own --timeout
// is shorter, so it reports before being killed).
const runTimeout = 2 * time.Minute

// ccReport is the part of claimcheck's JSON report (-o json) the cells read.
type ccReport struct {
	OK       bool   `json:"ok"`
	ExitCode int    `json:"exit_code"`
	Issuer   string `json:"issuer"`
	Flow     string `json:"flow"`
	Request  struct {
		ClientID     string `json:"client_id"`
		ClientAuth   string `json:"client_auth"`
		ResponseType string `json:"response_type"`
		ResponseMode string `json:"response_mode"`
		AuthorizeURL string `json:"authorize_url"`
		PAR          *struct {
			RequestURI string `json:"request_uri"`
			ExpiresIn  int64  `json:"expires_in"`
		} `json:"par"`
		RequestObject *struct {
			Alg   string `json:"alg"`
			KeyID string `json:"kid"`
		} `json:"request_object"`
		DPoP *struct {
			JKT string `json:"jkt"`
			Alg string `json:"alg"`
		} `json:"dpop"`
		JARM *struct {
			Mode  string `json:"mode"`
			Alg   string `json:"alg"`
			KeyID string `json:"kid"`
		} `json:"jarm"`
		ClientAssertion *struct {
			Alg      string `json:"alg"`
			KeyID    string `json:"kid"`
			Audience string `json:"aud"`
		} `json:"client_assertion"`
		ClientCertificate *struct {
			X5tS256 string `json:"x5t#S256"`
			Subject string `json:"subject"`
			File    string `json:"file"`
		} `json:"client_certificate"`
	} `json:"request"`
	Tokens map[string]struct {
		Verified bool           `json:"verified"`
		Claims   map[string]any `json:"claims"`
		Header   map[string]any `json:"header"`
		Note     string         `json:"note"`
		Error    string         `json:"error"`
		Raw      string         `json:"raw"`
	} `json:"tokens"`
	Checks []ccCheck `json:"checks"`
	Notes  []string  `json:"notes"`
	Error  *struct {
		Class   string `json:"class"`
		Message string `json:"message"`
	} `json:"error"`
}

// ccCheck is one of the report's checks.
type ccCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Source string `json:"source"`
	Detail string `json:"detail"`
}

// ccRun is one finished claimcheck process.
type ccRun struct {
	Exit   int
	Stdout string
	Stderr string
	Report ccReport
}

// cell is one claimcheck run of the matrix.
type cell struct {
	// name of the subtest.
	name string
	// client signs in; its secret goes in CLAIMCHECK_CLIENT_SECRET.
	client harness.Client
	// args are the flow flags (--flow, --response-type, --response-mode,
	// --client-auth, ...).
	args []string
	// scopes replaces openid,groups.
	scopes string
	// browser are extra ccbrowser arguments.
	browser []string
	// grant, when set, is claimcheck's --grant: no browser is run, except
	// for device_code (claimcheck opens it at verification_uri_complete;
	// give ccbrowser --device in browser).
	grant string
	// noExpect leaves out --expect-groups (a token about no user).
	noExpect bool
	// env is added to claimcheck's environment (CLAIMCHECK_REFRESH_TOKEN,
	// CLAIMCHECK_PASSWORD).
	env []string
}

// claimcheck runs the claimcheck binary against p as u through ccbrowser,
// with its redirect URI on port, and returns its exit status and report. A
// run that does not end within runTimeout, or whose stdout is not one JSON
// report, fails the test; every failure prints claimcheck's stderr and the
// provider's log (the harness adds the log tail).
func claimcheck(t *testing.T, p *harness.Provider, port int, u harness.User, c cell) ccRun {
	t.Helper()
	bin := harness.BuildClaimcheck(t)
	ccb := harness.BuildCCBrowser(t)
	extra := []string{"--timeout", "60s"}
	if c.grant == "" {
		// A pushed request's authorize URL carries only client_id and
		// request_uri (RFC 9126): ccbrowser is told where it should arrive.
		extra = append(extra, "--redirect-uri", harness.RedirectURI(port))
	}
	browser, pwEnv := harness.BrowserCommand(ccb, p, u, append(extra, c.browser...)...)
	scopes := c.scopes
	if scopes == "" {
		scopes = "openid,groups"
	}
	args := []string{"run",
		"--issuer", p.Issuer,
		"--client-id", c.client.ID,
		"--scopes", scopes,
		"--timeout", "90s",
		"-o", "json",
	}
	if !c.noExpect {
		args = append(args, "--expect-groups", "IT,Everyone")
	}
	if c.grant != "" {
		// A grant makes no authorization request: claimcheck refuses
		// --redirect-uri with it (exit 2).
		args = append(args, "--grant", c.grant)
	} else {
		args = append(args, "--redirect-uri", harness.RedirectURI(port))
	}
	if c.grant == "" || c.grant == "device_code" {
		args = append(args, "--browser-command", browser)
	}
	args = append(args, c.args...)

	matrixSlots <- struct{}{}
	defer func() { <-matrixSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 5 * time.Second
	env := []string{pwEnv, "HOME=" + t.TempDir()}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLAIMCHECK_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	if c.client.Secret != "" {
		env = append(env, "CLAIMCHECK_CLIENT_SECRET="+c.client.Secret)
	}
	env = append(env, c.env...)
	cmd.Env = env
	cmd.Dir = t.TempDir() // no .claimcheck.yaml from the working directory
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	run := ccRun{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		run.Exit = exitErr.ExitCode()
	default:
		t.Fatalf("claimcheck %s as %s: %v (deadline %v)\nstderr:\n%s", c.name, u.Login, err, runTimeout, run.Stderr)
	}
	t.Logf("claimcheck as %s at %s: exit %d in %v", u.Login, p.Name, run.Exit, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("claimcheck args: %q\nstdout:\n%s\nstderr:\n%s", args, run.Stdout, run.Stderr)
		}
	})
	if err := json.Unmarshal(stdout.Bytes(), &run.Report); err != nil {
		t.Fatalf("claimcheck's stdout is not a JSON report: %v", err)
	}
	msg := ""
	if run.Report.Error != nil {
		msg = string(run.Report.Error.Class) + ": " + run.Report.Error.Message
	}
	t.Logf("report: exit_code %d, response_type %q, response_mode %q, tokens %v, error %q, notes %q",
		run.Report.ExitCode, run.Report.Request.ResponseType, run.Report.Request.ResponseMode, keys(run.Report.Tokens), msg, run.Report.Notes)
	if run.Report.ExitCode != run.Exit {
		t.Errorf("the report says exit_code %d, the process exited %d", run.Report.ExitCode, run.Exit)
	}
	if strings.Contains(run.Stdout+run.Stderr, u.Password) || (c.client.Secret != "" && strings.Contains(run.Stdout+run.Stderr, c.client.Secret)) {
		t.Errorf("claimcheck printed the password or the client secret")
	}
	return run
}

// wantPass asserts exit 0: every token verified, every check passed.
func wantPass(t *testing.T, r ccRun, tokens ...string) {
	t.Helper()
	if r.Exit != 0 || !r.Report.OK || r.Report.Error != nil {
		t.Fatalf("want exit 0, got %d (error %+v)", r.Exit, r.Report.Error)
	}
	wantVerified(t, r, tokens...)
	for _, c := range r.Report.Checks {
		if !c.OK {
			t.Errorf("check %q failed: %s", c.Name, c.Detail)
		}
	}
}

// wantMissingIT asserts exit 1: error class expectation naming the failed
// check, every token verified, and exactly one failed check, "group IT".
func wantMissingIT(t *testing.T, r ccRun, tokens ...string) {
	t.Helper()
	if r.Exit != 1 || r.Report.OK || r.Report.Error == nil || r.Report.Error.Class != "expectation" {
		t.Fatalf("want exit 1 (expectation), got %d (error %+v)", r.Exit, r.Report.Error)
	}
	if !strings.Contains(r.Report.Error.Message, "group IT") {
		t.Errorf("the error message %q does not name group IT", r.Report.Error.Message)
	}
	wantVerified(t, r, tokens...)
	var failed []string
	for _, c := range r.Report.Checks {
		if !c.OK {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) != 1 || failed[0] != "group IT" {
		t.Fatalf("want exactly one failed check, %q; got %q", "group IT", failed)
	}
}

// wantVerified asserts that each named token kind is in the report, verified.
func wantVerified(t *testing.T, r ccRun, tokens ...string) {
	t.Helper()
	for _, kind := range tokens {
		tok, ok := r.Report.Tokens[kind]
		if !ok {
			t.Errorf("the report has no %s (it has %v)", kind, keys(r.Report.Tokens))
			continue
		}
		if !tok.Verified {
			t.Errorf("the %s is not verified: %s %s", kind, tok.Error, tok.Note)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// wantError asserts an exit status, its class, and that the error message
// contains each of words.
func wantError(t *testing.T, r ccRun, exit int, class string, words ...string) {
	t.Helper()
	if r.Exit != exit || r.Report.Error == nil || r.Report.Error.Class != class {
		t.Fatalf("want exit %d (%s), got %d (error %+v)", exit, class, r.Exit, r.Report.Error)
	}
	for _, w := range words {
		if !strings.Contains(r.Report.Error.Message, w) {
			t.Errorf("the error message %q does not contain %q", r.Report.Error.Message, w)
		}
	}
}
