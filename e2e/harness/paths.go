// Package harness runs the third-party OpenID providers (Dex and
// oidc-provider), the ccbrowser helper and the claimcheck binary for the e2e
// tests, all on loopback, each stopped when its test ends.
//
// The test binary must call [Main] from TestMain, which removes the binaries
// that [BuildClaimcheck] and [BuildCCBrowser] build:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
package harness

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// e2eModule is the module path of the e2e module, whose root holds go.mod.
const e2eModule = "github.com/claimcheck/claimcheck/e2e"

var (
	e2eDirOnce sync.Once
	e2eDir     string
	e2eDirErr  error
)

// E2EDir returns the root directory of the e2e module, found by walking up
// from the working directory (go test runs a package's tests in its
// directory).
func E2EDir() (string, error) {
	e2eDirOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			e2eDirErr = err
			return
		}
		for {
			if modulePath(filepath.Join(dir, "go.mod")) == e2eModule {
				e2eDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				e2eDirErr = errors.New("no directory above the working directory holds the go.mod of " + e2eModule)
				return
			}
			dir = parent
		}
	})
	return e2eDir, e2eDirErr
}

// RepoDir returns the root of the claimcheck repository (the main module),
// the parent of the e2e module.
func RepoDir() (string, error) {
	dir, err := E2EDir()
	if err != nil {
		return "", err
	}
	return filepath.Dir(dir), nil
}

// modulePath returns the module path declared in the go.mod file at path, or
// "" when it cannot be read.
func modulePath(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// CacheDir returns the directory where scripts/e2e-deps.sh keeps the Dex and
// Hydra builds: $CLAIMCHECK_E2E_CACHE, else $XDG_CACHE_HOME/claimcheck-e2e, else
// $HOME/.cache/claimcheck-e2e, else e2e/.cache. The script applies the same
// rule; the harness also passes the result to it explicitly.
func CacheDir() (string, error) {
	if d := os.Getenv("CLAIMCHECK_E2E_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "claimcheck-e2e"), nil
	}
	if d := os.Getenv("HOME"); d != "" {
		return filepath.Join(d, ".cache", "claimcheck-e2e"), nil
	}
	dir, err := E2EDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %w", err)
	}
	return filepath.Join(dir, ".cache"), nil
}
