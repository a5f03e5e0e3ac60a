package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	binDirOnce sync.Once
	binDir     string
	binDirErr  error

	builds sync.Map // binary name -> *build
)

type build struct {
	once sync.Once
	path string
	err  error
}

// Main runs the tests and then removes the binaries built for them. Call it
// from TestMain: os.Exit(harness.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	return code
}

func binaries() (string, error) {
	binDirOnce.Do(func() {
		binDir, binDirErr = os.MkdirTemp("", "claimcheck-e2e-bin-")
	})
	return binDir, binDirErr
}

// goBuild builds pkg from the module in dir into the process's binary
// directory as name, once per test process.
func goBuild(t testing.TB, name, dir, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() {
		bins, err := binaries()
		if err != nil {
			b.err = err
			return
		}
		out := filepath.Join(bins, name)
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = dir
		start := time.Now()
		if output, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build -o %s %s (in %s): %v\n%s", out, pkg, dir, err, output)
			return
		}
		t.Logf("built %s in %v", name, time.Since(start).Round(time.Millisecond))
		b.path = out
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// BuildClaimcheck builds the claimcheck binary from the main module (the
// repository root) and returns its path. It is built once per test process.
func BuildClaimcheck(t testing.TB) string {
	t.Helper()
	repo, err := RepoDir()
	if err != nil {
		t.Fatal(err)
	}
	return goBuild(t, "claimcheck", repo, "github.com/claimcheck/claimcheck/cmd/claimcheck")
}

// BuildCCBrowser builds e2e/cmd/ccbrowser and returns its path. It is built
// once per test process.
func BuildCCBrowser(t testing.TB) string {
	t.Helper()
	dir, err := E2EDir()
	if err != nil {
		t.Fatal(err)
	}
	return goBuild(t, "ccbrowser", dir, "./cmd/ccbrowser")
}

// PasswordEnv is the environment variable through which [BrowserCommand]
// hands the password to ccbrowser.
const PasswordEnv = "CCBROWSER_PASSWORD"

// BrowserCommand returns a claimcheck --browser-command value that signs u
// in at p through ccbrowser (the path from [BuildCCBrowser]), with extra
// ccbrowser arguments appended (for example "--consent", "cancel"), each
// quoted as a shell would need, and the environment entry that carries the
// password; add it to the environment of the claimcheck process. claimcheck
// appends the authorize URL.
func BrowserCommand(ccbrowser string, p *Provider, u User, extra ...string) (command, env string) {
	words := append([]string{ccbrowser, "--user", p.LoginName(u), "--password-env", PasswordEnv}, extra...)
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
	}
	return strings.Join(quoted, " "), PasswordEnv + "=" + u.Password
}

// shellQuote returns w as one shell word: unchanged when it is made of safe
// characters only, else in single quotes.
func shellQuote(w string) string {
	safe := w != ""
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
