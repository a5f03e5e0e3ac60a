package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/testsupport/testpki"
)

// TestClientCertUsage: every bad --client-cert is exit 2 with one line
// naming the file (both files for a key that is not the certificate's),
// nothing on stdout, no file content, and no request sent.
func TestClientCertUsage(t *testing.T) {
	// Nothing may connect: a request would show as an accepted connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	mine := testpki.IssueNow(t, ca, dir, "mine")
	other := testpki.IssueNow(t, ca, dir, "other")
	expired := testpki.Issue(t, ca, dir, "expired", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	encrypted := filepath.Join(dir, "enc.key")
	testpki.Write(t, encrypted, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	keyPEM, _ := os.ReadFile(mine.KeyFile)
	base := []string{"--issuer", "https://" + ln.Addr().String(), "--client-id", "x", "--client-auth", "tls_client_auth"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"key of another certificate", []string{"--client-cert", mine.CertFile, "--client-key", other.KeyFile}, []string{mine.CertFile, other.KeyFile, "does not match"}},
		{"unreadable certificate", []string{"--client-cert", filepath.Join(dir, "nope.crt"), "--client-key", mine.KeyFile}, []string{"nope.crt", "cannot be read"}},
		{"a key given as the certificate", []string{"--client-cert", mine.KeyFile, "--client-key", mine.KeyFile}, []string{mine.KeyFile, "no PEM CERTIFICATE"}},
		{"a certificate given as the key", []string{"--client-cert", mine.CertFile, "--client-key", mine.CertFile}, []string{mine.CertFile, "no private key"}},
		{"encrypted key", []string{"--client-cert", mine.CertFile, "--client-key", encrypted}, []string{encrypted, "encrypted"}},
		{"expired certificate", []string{"--client-cert", expired.CertFile, "--client-key", expired.KeyFile}, []string{expired.CertFile, "expired"}},
		{"no key", []string{"--client-cert", mine.CertFile}, []string{"--client-cert", "--client-key"}},
		{"certificate inline", []string{"--client-cert", "-----BEGIN CERTIFICATE-----", "--client-key", mine.KeyFile}, []string{"--client-cert", "name of a file"}},
		{"tls_client_auth without a certificate", nil, []string{"tls_client_auth", "--client-cert"}},
		{"with a secret too", []string{"--client-cert", mine.CertFile, "--client-key", mine.KeyFile, "--client-secret", "-"}, []string{"drop one of them"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env map[string]string
			args := append(append([]string{}, base...), tc.args...)
			code, stdout, stderr := runMainStdin(t, "s3cret\n", env, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, stderr)
				}
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 || stdout != "" {
				t.Errorf("want one line on stderr and nothing on stdout: %q / %q", stderr, stdout)
			}
			if strings.Contains(stderr, string(keyPEM[40:80])) {
				t.Errorf("stderr shows key material: %s", stderr)
			}
		})
	}
	select {
	case <-accepted:
		t.Error("a usage error sent a request")
	default:
	}
}
