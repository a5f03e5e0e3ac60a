package main

import (
	"strings"
	"testing"
)

// TestBrowserCommandHelp: the help of --browser-command warns that the
// authorize URL travels in argv, where the process list shows it.
func TestBrowserCommandHelp(t *testing.T) {
	code, stdout, stderr := runMain(t, nil, "run", "--help")
	var line string
	for _, l := range strings.Split(stdout+stderr, "\n") {
		if strings.Contains(l, "--browser-command") {
			line = l
		}
	}
	if code != 0 || line == "" {
		t.Fatalf("run --help: exit %d, no --browser-command line", code)
	}
	if !strings.Contains(line, "process list") {
		t.Errorf("--browser-command help %q does not warn about the process list", strings.TrimSpace(line))
	}
}
