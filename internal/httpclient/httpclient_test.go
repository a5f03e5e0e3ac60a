package httpclient

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
