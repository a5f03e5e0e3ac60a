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

	"github.com/claimcheck/claimcheck/internal/testsupport/leakcheck"
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

// TestRedirects: a GET follows a redirect within the same scheme; a
// request with a body (a token or introspection POST, whatever the status)
// and a downgrade from https to http are never followed, so the form with
// its secret reaches no second server.
func TestRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.WriteString(w, "elsewhere")
	}))
	defer other.Close()
	redirecting := func(status int, to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/here" {
				io.WriteString(w, "here")
				return
			}
			http.Redirect(w, r, to, status)
		}
	}
	plainSrv := httptest.NewServer(redirecting(http.StatusFound, "/here"))
	defer plainSrv.Close()
	tlsSrv := httptest.NewTLSServer(redirecting(http.StatusFound, other.URL+"/x?token=secret"))
	defer tlsSrv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writeCertPEM(t, ca, tlsSrv)
	c, err := New(Options{Timeout: 5 * time.Second, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	resp, err := c.Get(plainSrv.URL + "/start")
	if err != nil {
		t.Fatalf("GET redirect within http: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "here" {
		t.Fatalf("GET redirect: body %q", b)
	}

	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewServer(redirecting(status, other.URL+"/token"))
		_, err := c.Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("client_secret=s3cret&code_verifier=v"))
		srv.Close()
		if err == nil || !strings.Contains(StripURL(err).Error(), "redirect") || !strings.Contains(err.Error(), "POST") {
			t.Errorf("POST answered %d: err %v, want a refused redirect", status, err)
		}
	}

	_, err = c.Get(tlsSrv.URL + "/doc")
	if err == nil || !strings.Contains(err.Error(), "from https") {
		t.Errorf("https to http: err %v, want a refused downgrade", err)
	}
	if err != nil && strings.Contains(StripURL(err).Error(), "secret") {
		t.Errorf("the error shows the Location's query: %v", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d request(s) reached the redirect target", n)
	}
}
