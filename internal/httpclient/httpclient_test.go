package httpclient

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/leakcheck"
)

func TestBodyLimit(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name    string
		size    int
		chunked bool
		wantErr bool
	}{
		{"under", limit - 1, false, false},
		{"exact", limit, false, false},
		{"over with length", limit + 1, false, true},
		{"exact chunked", limit, true, false},
		{"over chunked", limit * 5, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body := strings.Repeat("x", tt.size)
				if tt.chunked {
					w.(http.Flusher).Flush()
				}
				io.WriteString(w, body)
			}))
			defer srv.Close()
			c, err := New(Options{Timeout: 5 * time.Second, MaxBody: limit})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Get(srv.URL + "/doc?token=secret")
			var got []byte
			if err == nil {
				got, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			var tooLarge *BodyTooLargeError
			if tt.wantErr {
				if !errors.As(err, &tooLarge) {
					t.Fatalf("err = %v, want BodyTooLargeError", err)
				}
				if strings.Contains(StripURL(err).Error(), "secret") {
					t.Fatalf("error leaks the query: %v", err)
				}
				return
			}
			if err != nil || len(got) != tt.size {
				t.Fatalf("read %d bytes, err %v", len(got), err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err := New(Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Get(srv.URL)
	if err == nil {
		t.Fatal("no timeout")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("timeout not honoured")
	}
}

func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(Options{CAFile: filepath.Join(dir, "missing.pem")}); err == nil {
		t.Fatal("missing CA file accepted")
	}
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("not pem"), 0o600)
	if _, err := New(Options{CAFile: empty}); err == nil {
		t.Fatal("CA file without certificates accepted")
	}

	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	plain, _ := New(Options{Timeout: 5 * time.Second})
	if _, err := plain.Get(srv.URL); err == nil {
		t.Fatal("self-signed certificate accepted without CA file")
	}
	ca := filepath.Join(dir, "ca.pem")
	writeCertPEM(t, ca, srv)
	trusting, err := New(Options{Timeout: 5 * time.Second, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := trusting.Get(srv.URL)
	if err != nil {
		t.Fatalf("with CA file: %v", err)
	}
	resp.Body.Close()
}

// TestNoTLSDowngrade: a redirect from https to plain http is refused, so a
// discovery document or JWKS asked for over TLS never arrives without it
// (RFC 9700 4.1.1, OpenID Core 16.17); https to https is followed.
func TestNoTLSDowngrade(t *testing.T) {
	var plainHits atomic.Int64
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		io.WriteString(w, `{"keys":[]}`)
	}))
	defer plain.Close()
	var secure *httptest.Server
	secure = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Redirect(w, r, plain.URL+"/jwks", http.StatusFound)
		case "/same":
			http.Redirect(w, r, secure.URL+"/ok", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer secure.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writeCertPEM(t, ca, secure)
	c, err := New(Options{Timeout: 5 * time.Second, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Get(secure.URL + "/down"); err == nil || !strings.Contains(err.Error(), "https to http") {
		t.Errorf("https->http redirect: %v, want a refusal", err)
	}
	if n := plainHits.Load(); n != 0 {
		t.Errorf("%d request(s) reached the plain http server", n)
	}
	resp, err := c.Get(secure.URL + "/same")
	if err != nil {
		t.Fatalf("https->https redirect: %v", err)
	}
	resp.Body.Close()
}

// TestNoPostToAnotherOrigin: a 307 or 308 answer to a POST (a token
// request: code, PKCE verifier, maybe the client secret in the body) is not
// followed to another origin; a 303 (which turns into a GET) and a
// same-origin 307 are (RFC 9700 4.11, open redirectors).
func TestNoPostToAnotherOrigin(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.WriteString(w, "{}")
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/307-away":
			http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
		case "/308-away":
			http.Redirect(w, r, other.URL+"/token", http.StatusPermanentRedirect)
		case "/307-here":
			http.Redirect(w, r, "/token", http.StatusTemporaryRedirect)
		default:
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "{}")
		}
	}))
	defer srv.Close()
	c, err := New(Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	body := "grant_type=authorization_code&code=c&client_secret=s"
	for _, path := range []string{"/307-away", "/308-away"} {
		if _, err := c.Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(body)); err == nil || !strings.Contains(err.Error(), "another origin") {
			t.Errorf("%s: %v, want a refusal", path, err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d POST(s) resent to another origin", n)
	}
	resp, err := c.Post(srv.URL+"/307-here", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatalf("same-origin 307: %v", err)
	}
	resp.Body.Close()
}

// TestCloseIdleConnections: http.Client.CloseIdleConnections reaches the
// transport under the body cap, so a kept-alive connection (and its two
// goroutines) ends when the caller is done.
func TestCloseIdleConnections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	before := leakcheck.Take()
	c, err := New(Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	c.CloseIdleConnections()
	before.Check(t, 5*time.Second)
}
