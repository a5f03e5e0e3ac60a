package flow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// helperEnv makes the test binary act as a browser command (see TestMain).
const helperEnv = "CLAIMCHECK_FLOW_TEST_BROWSER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(browserHelper(mode, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

// browserHelper is a browser command: "fail" exits 3 at once, "deliver"
// answers the authorize URL as a provider would, with a code, and exits
// when the listener has answered.
func browserHelper(mode, authorizeURL string) int {
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "helper: failing on purpose")
		return 3
	case "deliver":
		u, err := url.Parse(authorizeURL)
		if err != nil {
			return 10
		}
		q := u.Query()
		back := q.Get("redirect_uri") + "?" + url.Values{"code": {"helper-code"}, "state": {q.Get("state")}}.Encode()
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(back)
		if err != nil {
			return 11
		}
		resp.Body.Close()
		fmt.Println("helper: delivered")
		return 0
	}
	return 12
}

func helperCommand(t *testing.T, mode string) string {
	t.Setenv(helperEnv, mode)
	return "'" + os.Args[0] + "' -test.run=^$"
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"chromium", []string{"chromium"}, false},
		{"  chromium   --headless  ", []string{"chromium", "--headless"}, false},
		{`open -a "Google Chrome"`, []string{"open", "-a", "Google Chrome"}, false},
		{`sh -c 'echo "$0"'`, []string{"sh", "-c", `echo "$0"`}, false},
		{`a\ b c`, []string{"a b", "c"}, false},
		{`"a \"q\" \\ b"`, []string{`a "q" \ b`}, false},
		{`''`, []string{""}, false},
		{"", nil, false},
		{`"open`, nil, true},
		{`'open`, nil, true},
		{`open\`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestCommandBrowserFails(t *testing.T) {
	var stderr bytes.Buffer
	b := &CommandBrowser{Command: helperCommand(t, "fail"), Stderr: &stderr}
	err := b.Open(testContext(t), "http://127.0.0.1:1/authorize")
	if failure.ClassOf(err) != failure.Flow || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("%v, want a flow error naming exit status 3", err)
	}
	if !strings.Contains(stderr.String(), "failing on purpose") {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestCommandBrowserNotFound(t *testing.T) {
	b := &CommandBrowser{Command: "claimcheck-no-such-browser --flag"}
	err := b.Open(testContext(t), "http://127.0.0.1:1/authorize")
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "claimcheck-no-such-browser") {
		t.Fatalf("%v, want a usage error naming the command", err)
	}
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("%v: the cause (exec.ErrNotFound) is not wrapped", err)
	}
	for _, bad := range []string{"", "   ", `"unterminated`} {
		if err := (&CommandBrowser{Command: bad}).Open(testContext(t), "x"); failure.ClassOf(err) != failure.Usage {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}

// TestRunCommandBrowserFailing: a browser command that exits non-zero ends
// the run at once instead of after the (long) timeout.
func TestRunCommandBrowserFailing(t *testing.T) {
	c := baseConfig()
	c.RedirectURI = "http://127.0.0.1:0/callback"
	_, err := Run(testContext(t), c, RunOptions{
		Opener:  &CommandBrowser{Command: helperCommand(t, "fail")},
		Timeout: time.Hour,
	})
	if failure.ClassOf(err) != failure.Flow || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("%v, want the browser command's failure", err)
	}
}

// TestRunCommandBrowserWarning: with OpenerError set, the failure is a
// warning and the person can still finish by hand.
func TestRunCommandBrowserWarning(t *testing.T) {
	te := newTokenEndpoint(t, goodTokens)
	c := baseConfig()
	c.RedirectURI = "http://127.0.0.1:0/callback"
	c.TokenEndpoint = te.URL
	var authorizeURL string
	warned := make(chan error, 1)
	res, err := Run(testContext(t), c, RunOptions{
		Opener:      &CommandBrowser{Command: helperCommand(t, "fail")},
		OnListening: func(_, u string, _ time.Time) { authorizeURL = u },
		OpenerError: func(err error) {
			warned <- err
			// The person opens the URL by hand.
			if code := browserHelper("deliver", authorizeURL); code != 0 {
				t.Errorf("delivery by hand: %d", code)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if w := <-warned; !strings.Contains(w.Error(), "exit status 3") {
		t.Errorf("warning %v", w)
	}
	if res.Response.Get("code") != "helper-code" || res.Tokens == nil || res.Tokens.AccessToken != "at-1" {
		t.Errorf("result %+v", res)
	}
}

// TestRunCommandBrowserDelivers runs a command that waits for the
// redirect: it only works if the listener serves while the command runs.
func TestRunCommandBrowserDelivers(t *testing.T) {
	te := newTokenEndpoint(t, goodTokens)
	c := baseConfig()
	c.RedirectURI = "http://127.0.0.1:0/callback"
	c.TokenEndpoint = te.URL
	var stdout bytes.Buffer
	res, err := Run(testContext(t), c, RunOptions{
		Opener: &CommandBrowser{Command: helperCommand(t, "deliver"), Stdout: &stdout},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Response.Get("code") != "helper-code" || res.Tokens.AccessToken != "at-1" {
		t.Errorf("result %+v", res)
	}
}

func TestPrintURL(t *testing.T) {
	var b bytes.Buffer
	if err := (&PrintURL{W: &b}).Open(context.Background(), "https://issuer.example/authorize?x=1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "https://issuer.example/authorize?x=1\n") {
		t.Errorf("printed %q", b.String())
	}
	if err := (&PrintURL{}).Open(context.Background(), "u"); failure.ClassOf(err) != failure.Usage {
		t.Errorf("nil writer: %v", err)
	}
}

// TestSystemBrowserOutput puts a fake xdg-open first on PATH: its output
// must reach the writers given, never the process's stdout.
func TestSystemBrowserOutput(t *testing.T) {
	if runtime.GOOS != "linux" {
		// pkg/browser runs other programs elsewhere; the check below is
		// about the Linux one.
		return
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"opened $1\"\necho complaint >&2\n[ \"$1\" != fail ] || exit 4\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	var out, errOut bytes.Buffer
	s := &SystemBrowser{Stdout: &out, Stderr: &errOut}
	if err := s.Open(testContext(t), "http://127.0.0.1:1/x"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "opened http://127.0.0.1:1/x\n" || errOut.String() != "complaint\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if err := s.Open(testContext(t), "fail"); failure.ClassOf(err) != failure.Flow {
		t.Errorf("failing xdg-open: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if err := s.Open(testContext(t), "http://127.0.0.1:1/x"); err == nil {
		t.Error("no error without any opener program")
	}
}
