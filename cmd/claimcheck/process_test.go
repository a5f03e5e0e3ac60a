package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds claimcheck once per test process, so the tests below run
// the real executable: its exit status, its streams, its signal handling.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "claimcheck-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "claimcheck")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building claimcheck: %v", buildErr)
	}
	return binPath
}

func TestProcess(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"alice passes", []string{"demo", "--no-browser", "-o", "json"}, 0},
		{"bob fails a check", []string{"demo", "--no-browser", "-o", "json", "--user", "bob"}, 1},
		{"usage", []string{"--bogus"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary(t), tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if tt.wantCode != 2 {
				r := decodeReport(t, stdout.String())
				if r.ExitCode != code {
					t.Fatalf("exit_code %d in JSON, process exit %d", r.ExitCode, code)
				}
			}
		})
	}
}
