package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/e2e/harness"
)

const deviceURL = "http://127.0.0.1:5556/device?user_code=ABCD-EFGH"

const authURL = "http://127.0.0.1:5556/dex/auth?client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&response_type=code"

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, o *options)
	}{
		{
			name: "defaults and the redirect URI from the authorize URL",
			args: []string{"--user", "alice", authURL},
			check: func(t *testing.T, o *options) {
				if o.redirectURI != "http://127.0.0.1:8765/callback" {
					t.Errorf("redirectURI %q", o.redirectURI)
				}
				if o.passwordEnv != "CCBROWSER_PASSWORD" || o.consent != "approve" || o.timeout != 60*time.Second {
					t.Errorf("defaults: %+v", o)
				}
			},
		},
		{
			name: "explicit redirect URI wins",
			args: []string{"--redirect-uri", "http://127.0.0.1:9/cb", "--consent", "cancel", authURL},
			check: func(t *testing.T, o *options) {
				if o.redirectURI != "http://127.0.0.1:9/cb" || o.consent != "cancel" {
					t.Errorf("%+v", o)
				}
			},
		},
		{
			name: "device mode needs no redirect_uri",
			args: []string{"--device", "--user", "alice", deviceURL},
			check: func(t *testing.T, o *options) {
				if !o.device || o.redirectURI != "" || o.authorizeURL != deviceURL {
					t.Errorf("%+v", o)
				}
			},
		},
		{name: "device mode and --redirect-uri", args: []string{"--device", "--redirect-uri", "http://127.0.0.1:9/cb", deviceURL}, wantErr: "no meaning with --device"},
		{name: "device mode and --wait-text", args: []string{"--device", "--wait-text", "x", deviceURL}, wantErr: "no meaning with --device"},
		{name: "device mode, bad timeout", args: []string{"--device", "--timeout", "0s", deviceURL}, wantErr: "positive"},
		{name: "device mode, bad consent", args: []string{"--device", "--consent", "maybe", deviceURL}, wantErr: "approve or cancel"},
		{name: "no URL", args: []string{"--user", "alice"}, wantErr: "exactly one argument"},
		{name: "two URLs", args: []string{authURL, authURL}, wantErr: "exactly one argument"},
		{name: "relative URL", args: []string{"/auth?redirect_uri=x"}, wantErr: "not an absolute"},
		{name: "no redirect_uri", args: []string{"http://127.0.0.1:5556/auth?client_id=c"}, wantErr: "no redirect_uri"},
		{name: "bad consent", args: []string{"--consent", "maybe", authURL}, wantErr: "approve or cancel"},
		{name: "bad timeout", args: []string{"--timeout", "0s", authURL}, wantErr: "positive"},
		{name: "unknown flag", args: []string{"--password", "x", authURL}, wantErr: "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestAtRedirect(t *testing.T) {
	r := &run{opts: &options{redirectURI: "http://127.0.0.1:8765/callback"}}
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8765/callback?code=x&state=y", true},
		{"http://127.0.0.1:8765/callback#id_token=x", true},
		{"http://127.0.0.1:8765/callback", true},
		{"http://127.0.0.1:8766/callback", false},
		{"http://127.0.0.1:8765/callback/x", false},
		{"https://127.0.0.1:8765/callback", false},
		{"http://localhost:8765/callback", false},
		{"http://127.0.0.1:5556/dex/auth?redirect_uri=http://127.0.0.1:8765/callback", false},
		{"chrome-error://chromewebdata/", false},
	}
	for _, tt := range tests {
		if got := r.atRedirect(tt.url); got != tt.want {
			t.Errorf("atRedirect(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"http://127.0.0.1:8765/callback?code=secret&state=s": "http://127.0.0.1:8765/callback?…",
		"http://127.0.0.1:8765/callback#access_token=secret": "http://127.0.0.1:8765/callback#…",
		"http://127.0.0.1:8765/callback":                     "http://127.0.0.1:8765/callback",
	}
	for in, want := range tests {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(redact(in), "secret") {
			t.Errorf("redact(%q) leaks the secret", in)
		}
	}
}

func TestKindWhenSettled(t *testing.T) {
	tests := []struct {
		kind, readyState, want string
	}{
		{"dex-error", "loading", "other"},
		{"dex-error", "interactive", "other"},
		{"dex-error", "complete", "dex-error"},
		{"op-error", "interactive", "other"},
		{"op-error", "complete", "op-error"},
		{"dex-approval", "interactive", "dex-approval"},
		{"dex-approval", "loading", "other"},
		{"dex-login", "complete", "dex-login"},
		{"dex-login", "loading", "other"},
		{"op-login", "loading", "other"},
		{"login-error", "interactive", "login-error"},
		{"dex-device-input", "loading", "other"},
		{"op-device-success", "interactive", "other"},
		{"op-device-success", "complete", "op-device-success"},
		{"op-device-confirm", "interactive", "op-device-confirm"},
		{"dex-device-success", "interactive", "other"},
		{"dex-device-success", "complete", "dex-device-success"},
		{"dex-device-input", "interactive", "dex-device-input"},
	}
	for _, tt := range tests {
		st := pageState{Kind: tt.kind, ReadyState: tt.readyState}
		if got := st.kindWhenSettled(); got != tt.want {
			t.Errorf("%s while %s: got %s, want %s", tt.kind, tt.readyState, got, tt.want)
		}
	}
}

func TestTrustCert(t *testing.T) {
	dir := t.TempDir()
	pki, err := harness.NewPKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	hash := func(file string) string {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var hashes []string
		for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
			hashes = append(hashes, base64.StdEncoding.EncodeToString(sum[:]))
		}
		return strings.Join(hashes, ",")
	}
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	keyOnly, err := os.ReadFile(pki.ServerKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    string
		want    string
		wantErr string
	}{
		{name: "the CA", file: pki.CAFile, want: hash(pki.CAFile)},
		{name: "a chain: each certificate's key", file: pki.ServerCertFile, want: hash(pki.ServerCertFile)},
		{name: "missing", file: filepath.Join(dir, "nope.pem"), wantErr: "--trust-cert: open"},
		{name: "a key, no certificate", file: write("key.pem", string(keyOnly)), wantErr: "no PEM certificate"},
		{name: "not PEM", file: write("junk.pem", "junk"), wantErr: "no PEM certificate"},
		{name: "a broken certificate", file: write("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), wantErr: "broken.pem: x509"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags([]string{"--trust-cert", tt.file, authURL}, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.trustSPKI != tt.want || strings.Count(o.trustSPKI, ",") != strings.Count(tt.want, ",") {
				t.Errorf("trustSPKI %q, want %q", o.trustSPKI, tt.want)
			}
		})
	}
	if o, err := parseFlags([]string{authURL}, io.Discard); err != nil || o.trustSPKI != "" {
		t.Errorf("without --trust-cert: %v, %q", err, o.trustSPKI)
	}
}
