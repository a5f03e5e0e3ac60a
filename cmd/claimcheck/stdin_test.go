package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// firstRead closes started on the first Read, so that a test knows the
// command is blocked reading stdin.
type firstRead struct {
	r       *os.File
	once    sync.Once
	started chan struct{}
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { close(f.started) })
	return f.r.Read(p)
}

// TestStdinReadInterrupted feeds stdin a pipe that sends a few bytes and
// never a newline nor EOF, cancels the command's context once the read has
// started (Ctrl-C), and expects exit 130, class interrupted, one line on
// stderr — and no hang: the test's own deadline catches one.
func TestStdinReadInterrupted(t *testing.T) {
	base := []string{"--issuer", "https://127.0.0.1:9", "--client-id", "c"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"client secret", append([]string{"run", "--client-secret", "-"}, base...), "--client-secret -"},
		{"verify client secret", append([]string{"verify", "--client-secret", "-", "--kind", "access_token", "a.b.c"}, base...), "--client-secret -"},
		{"password", append([]string{"run", "--grant", "password", "--username", "alice", "--password-stdin"}, base...), "--password-stdin"},
		{"refresh token", append([]string{"run", "--grant", "refresh_token"}, base...), "--grant refresh_token"},
	}
	for _, tt := range tests {
		for _, output := range []string{"text", "json"} {
			t.Run(tt.name+" "+output, func(t *testing.T) {
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer pr.Close()
				defer pw.Close()
				if _, err := pw.WriteString("no newline yet"); err != nil {
					t.Fatal(err)
				}
				in := &firstRead{r: pr, started: make(chan struct{})}
				var out, errOut bytes.Buffer
				ios := &IOStreams{In: in, Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan int, 1)
				go func() { done <- Main(ctx, ios, append(tt.args, "-o", output)) }()
				deadline := time.After(30 * time.Second)
				select {
				case <-in.started:
				case code := <-done:
					t.Fatalf("exit %d before reading stdin\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
				case <-deadline:
					t.Fatal("stdin never read")
				}
				cancel()
				var code int
				select {
				case code = <-done:
				case <-deadline:
					t.Fatal("the read of stdin did not end when the context was cancelled")
				}
				t.Logf("CASE %s: cancelled while reading stdin | want interrupted (130) | got %d", tt.name, code)
				if code != 130 {
					t.Fatalf("exit %d, want 130\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
				}
				if output == "json" {
					r := decodeReport(t, out.String())
					if r.Error == nil || r.Error.Class != "interrupted" || !strings.Contains(r.Error.Message, tt.want) {
						t.Fatalf("error %+v, want class interrupted naming %s", r.Error, tt.want)
					}
					return
				}
				msg := errOut.String()
				if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "interrupted") || !strings.Contains(msg, tt.want) {
					t.Fatalf("stderr %q, want one line: interrupted, naming %s", msg, tt.want)
				}
				if strings.Contains(msg, "no newline yet") {
					t.Fatalf("stderr shows what was read: %q", msg)
				}
			})
		}
	}
}

func TestReadLineBlocking(t *testing.T) {
	long := strings.Repeat("s", maxLine)
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"line", "secret\nrest", "secret", ""},
		{"crlf", "secret\r\n", "secret", ""},
		{"no newline", "secret", "secret", ""},
		{"exactly the limit", long + "\n", long, ""},
		{"the limit at EOF", long, long, ""},
		{"one byte over", long + "x\n", "", "longer than 64 KiB"},
		{"far over, no newline", long + long, "", "longer than 64 KiB"},
		{"empty", "\n", "", "empty"},
		{"nothing", "", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLineBlocking(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %d bytes, err %v; want an error with %q", len(got), err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %d bytes, err %v; want %d bytes", len(got), err, len(tt.want))
			}
		})
	}
}

// TestStdinSecretTooLong: an oversized secret on stdin is refused before
// anything is sent, and none of it is printed.
func TestStdinSecretTooLong(t *testing.T) {
	secret := strings.Repeat("k", maxLine+1)
	code, stdout, stderr := runMainStdin(t, secret+"\n", nil, "run", "--issuer", "https://127.0.0.1:9", "--client-id", "c", "--client-secret", "-")
	if code != 2 || !strings.Contains(stderr, "--client-secret -: reading the secret from stdin: the line is longer than 64 KiB") {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "kkkk") {
		t.Error("part of the secret was printed")
	}
}
