package flow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// echoServer answers every POST 400 invalid_request with an
// error_description that echoes the request after padding that puts its
// Authorization header across the 300-character cut of a description, and
// an error_uri that carries the form body encoded once more. /device answers
// the device authorization request properly, so that the poll is the
// request echoed.
func echoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/device" {
			json.NewEncoder(w).Encode(map[string]any{"device_code": "device-code-f00d-7e57", "user_code": "ABCD-EFGH",
				"verification_uri": "http://127.0.0.1/device", "interval": 1, "expires_in": 60})
			return
		}
		form, _ := url.ParseQuery(string(body))
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{
			"error": "invalid_request",
			"error_description": strings.Repeat("x", 250) + " Authorization: " + r.Header.Get("Authorization") +
				" body " + string(body) + " decoded " + strings.Join(form["client_secret"], ""),
			"error_uri": "https://idp.example/e?echo=" + url.QueryEscape(string(body)),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEchoedSecretsScrubbed: a provider's error text that echoes the
// request shows none of the secrets that request carried (the code, the
// PKCE verifier, the client secret in the form and as HTTP Basic, the
// refresh token, the password, the device code), and says where it
// redacted them; the error keeps its class (issue 11, item 3).
func TestEchoedSecretsScrubbed(t *testing.T) {
	const (
		secret   = "client-s3cret/with+chars&more"
		code     = "auth-code-0123456789"
		refresh  = "refresh-token-abcdefgh"
		password = "p@ss word-123"
	)
	srv := echoServer(t)
	config := func(method string) Config {
		c := baseConfig()
		c.TokenEndpoint = srv.URL + "/token"
		c.ClientSecret, c.AuthMethod = secret, method
		c.HTTPClient = srv.Client()
		return c
	}
	ctx := context.Background()
	var verifier string
	tests := []struct {
		name   string
		run    func() error
		marker string
	}{
		{"code exchange, client_secret_basic", func() error {
			c := config(authClientSecretBasic)
			req, err := NewRequest(c)
			if err != nil {
				return err
			}
			verifier = req.CodeVerifier
			_, err = Exchange(ctx, c, req, code)
			return err
		}, "[redacted code]"},
		{"code exchange, client_secret_post", func() error {
			c := config(authClientSecretPost)
			req, err := NewRequest(c)
			if err != nil {
				return err
			}
			verifier = req.CodeVerifier
			_, err = Exchange(ctx, c, req, code)
			return err
		}, "[redacted PKCE verifier]"},
		{"refresh_token grant", func() error {
			_, err := Refresh(ctx, config(authClientSecretBasic), refresh)
			return err
		}, "[redacted refresh token]"},
		{"password grant", func() error {
			_, err := Password(ctx, config(authClientSecretPost), "alice", password)
			return err
		}, "[redacted password]"},
		{"client_credentials grant", func() error {
			_, err := ClientCredentials(ctx, config(authClientSecretBasic))
			return err
		}, "[redacted client secret]"},
		{"device_code poll", func() error {
			_, err := DeviceCode(ctx, config(authClientSecretPost), DeviceOptions{
				Endpoint: srv.URL + "/device",
				sleep:    func(context.Context, time.Duration) error { return nil },
			})
			return err
		}, "[redacted device code]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier = ""
			err := tt.run()
			if err == nil {
				t.Fatal("no error")
			}
			if failure.ClassOf(err) != failure.Flow {
				t.Errorf("class %s, want flow: %v", failure.ClassOf(err), err)
			}
			msg := err.Error()
			t.Logf("CASE scrub: %s | %.200s", tt.name, msg[strings.LastIndex(msg, "x")+1:])
			if !strings.Contains(msg, tt.marker) {
				t.Errorf("message lacks %s: %s", tt.marker, msg)
			}
			basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("client-1") + ":" + url.QueryEscape(secret)))
			for _, s := range []string{secret, url.QueryEscape(secret), basic, code, refresh, password, url.QueryEscape(password),
				"device-code-f00d-7e57", verifier, secret[:12], basic[:12]} {
				if s != "" && strings.Contains(msg, s) {
					t.Errorf("message carries %q: %s", s, msg)
				}
			}
		})
	}
}
