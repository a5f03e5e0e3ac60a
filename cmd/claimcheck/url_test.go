package main

import (
	"context"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// TestURLNeedsFixedPort: url cannot print an authorize URL for a redirect
// URI with port 0 (only a listener picks a port); the message says why in
// the user's terms, as a usage error.
func TestURLNeedsFixedPort(t *testing.T) {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	code, stdout, stderr := runMain(t, nil, "url", "--issuer", p.Issuer(), "--client-id", demo.PublicClientID,
		"--redirect-uri", "http://127.0.0.1:0/cb")
	if code != 2 || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing on stdout", code, stdout)
	}
	for _, want := range []string{"needs a fixed port", "exact redirect URI"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("stderr is not one line: %q", stderr)
	}
}
