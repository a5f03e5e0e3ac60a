package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

var (
	depsOnce sync.Once
	depsErr  error
	depsLog  []byte
)

// EnsureDeps makes sure that what the e2e tests run is in place, once per
// test process: it runs `scripts/e2e-deps.sh npm dex hydra` (npm ci for
// oidc-provider and the Dex and Hydra builds, each only when missing or stale) and checks
// that Chromium is installed. Installing Chromium needs root and apt, so that
// is left to the README's test command, which runs scripts/e2e-deps.sh
// (all steps) first; a missing Chromium fails the test with that advice.
func EnsureDeps(t testing.TB) {
	t.Helper()
	depsOnce.Do(func() {
		depsErr = ensureDeps()
	})
	if depsErr != nil {
		t.Fatalf("e2e dependencies: %v\n%s", depsErr, depsLog)
	}
}

func ensureDeps() error {
	repo, err := RepoDir()
	if err != nil {
		return err
	}
	cache, err := CacheDir()
	if err != nil {
		return err
	}
	script := filepath.Join(repo, "scripts", "e2e-deps.sh")
	cmd := exec.Command("bash", script, "npm", "dex", "hydra")
	cmd.Env = append(os.Environ(), "CLAIMCHECK_E2E_CACHE="+cache)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	depsLog = out.Bytes()
	if err != nil {
		return fmt.Errorf("%s npm dex hydra: %v (after %v)", script, err, time.Since(start).Round(time.Millisecond))
	}
	if _, err := os.Stat(ChromiumPath); err != nil {
		return fmt.Errorf("no Chromium at %s: run `sudo scripts/e2e-deps.sh` (it runs apt-get install chromium): %v", ChromiumPath, err)
	}
	return nil
}

// DexBinary returns the path of the cached Dex binary, building it first if
// needed (see [EnsureDeps]).
func DexBinary(t testing.TB) string {
	t.Helper()
	EnsureDeps(t)
	cache, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(cache, "dex", "dex")
}

// HydraBinary returns the path of the cached Hydra binary, building it
// first if needed (see [EnsureDeps]).
func HydraBinary(t testing.TB) string {
	t.Helper()
	EnsureDeps(t)
	cache, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(cache, "hydra", "hydra")
}

// OIDCProviderDir returns e2e/oidc-provider, with its node_modules installed
// (see [EnsureDeps]).
func OIDCProviderDir(t testing.TB) string {
	t.Helper()
	EnsureDeps(t)
	dir, err := E2EDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "oidc-provider")
}
