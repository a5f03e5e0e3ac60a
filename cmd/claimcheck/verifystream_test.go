package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestVerifyStreamUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"trusted issuer without a stream", []string{"verify", "--issuer", "https://example.com", "--client-id", "x", "--trusted-issuer", "https://b.example", "a.b.c"}, "applies only to a token stream"},
		{"parallel without a stream", []string{"verify", "--issuer", "https://example.com", "--client-id", "x", "--parallel", "2", "a.b.c"}, "applies only to a token stream"},
		{"text output", []string{"verify", "-", "--issuer", "https://example.com", "--client-id", "x", "-o", "text"}, "JSON lines"},
		{"junit", []string{"verify", "-", "--issuer", "https://example.com", "--client-id", "x", "--junit", "x.xml"}, "--junit"},
		{"no issuer", []string{"verify", "-", "--client-id", "x"}, "--issuer"},
		{"plain http issuer", []string{"verify", "-", "--client-id", "x", "--trusted-issuer", "http://example.com"}, "loopback"},
		{"no client id", []string{"verify", "-", "--issuer", "https://example.com"}, "--client-id"},
		{"secret from stdin", []string{"verify", "-", "--issuer", "https://example.com", "--client-id", "x", "--client-secret", "-"}, "stdin"},
		{"negative parallel", []string{"verify", "-", "--issuer", "https://example.com", "--client-id", "x", "--parallel", "-1"}, "--parallel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, nil, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 && !strings.Contains(out, "{") {
				t.Errorf("stderr is not one line: %q", errOut)
			}
		})
	}
}

// TestVerifyStreamCommand runs claimcheck verify - on lines that need no
// provider: a stream of tokens from an untrusted issuer and garbage, which
// are rejected without any request (the issuer does not exist).
func TestVerifyStreamCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	foreign := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL290aGVyLmV4YW1wbGUiLCJzdWIiOiJlIn0.c2ln"
	ios, out, errOut := testIO("garbage\n\n"+foreign+"\n", nil)
	code := Main(ctx, ios, []string{"verify", "-", "--issuer", "https://issuer.invalid", "--client-id", "x"})
	if code != 4 {
		t.Fatalf("exit %d, want 4; stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out)
	}
	for i, wantIndex := range []float64{1, 3} {
		var l map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
			t.Fatal(err)
		}
		if l["index"] != wantIndex || l["ok"] != false || l["class"] != "verification" || l["exit_code"] != 4.0 {
			t.Errorf("line %d: %s", i+1, lines[i])
		}
	}
	if !strings.Contains(lines[1], `not trusted`) {
		t.Errorf("untrusted issuer not named: %s", lines[1])
	}
	if want := "claimcheck verify: 2 tokens, 0 ok, 2 failed (verification 2); exit status 4\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}
