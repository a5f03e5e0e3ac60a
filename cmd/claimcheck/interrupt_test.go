package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// TestInterruptWhileWaiting runs the real binary, waits until its listener
// serves, sends SIGINT (Ctrl-C) and expects exit 130, a JSON report of
// class interrupted, and the redirect URI's port free again (RFC 8252 §7.3:
// the loopback listener lives only as long as the authorization).
func TestInterruptWhileWaiting(t *testing.T) {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	free, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "run", "--issuer", p.Issuer(), "--client-id", demo.PublicClientID,
		"--redirect-uri", "http://"+addr+"/callback", "--no-browser", "--timeout", "50s", "-o", "json")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The listener serves once "waiting for the redirect" is printed.
	lines := bufio.NewScanner(stderr)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if strings.Contains(lines.Text(), "waiting for the redirect") {
			break
		}
	}
	if c, err := net.Dial("tcp4", addr); err != nil {
		t.Fatalf("listener not serving at %s: %v\n%s", addr, err, strings.Join(seen, "\n"))
	} else {
		c.Close()
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		seen = append(seen, lines.Text())
	}
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("CASE interrupted: SIGINT while waiting | want interrupted (130) | got %d", code)
	if code != 130 {
		t.Fatalf("exit %d, want 130\nstdout: %s\nstderr: %s", code, stdout.String(), strings.Join(seen, "\n"))
	}
	r := decodeReport(t, stdout.String())
	if r.Error == nil || r.Error.Class != "interrupted" || r.ExitCode != 130 {
		t.Errorf("report error %+v exit_code %d, want class interrupted and 130", r.Error, r.ExitCode)
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatalf("port %s still bound after the interrupt: %v", addr, err)
	}
	ln.Close()
}
