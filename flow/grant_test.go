package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// deviceServer answers the device authorization request and then the polls
// with the given sequence of OAuth errors ("" = tokens).
func deviceServer(t *testing.T, interval int, answers ...string) (*httptest.Server, *[]string) {
	t.Helper()
	return deviceServerExpiring(t, 600, interval, answers...)
}

// deviceServerExpiring is deviceServer with the device code's expires_in.
func deviceServerExpiring(t *testing.T, expiresIn, interval int, answers ...string) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/device":
			fmt.Fprintf(w, `{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"http://127.0.0.1/device","expires_in":%d,"interval":%d}`, expiresIn, interval)
		case "/token":
			seen = append(seen, r.PostForm.Get("grant_type")+" "+r.PostForm.Get("device_code")+" "+r.PostForm.Get("client_id"))
			a := "server_error_500"
			if n < len(answers) {
				a = answers[n]
			}
			n++
			switch a {
			case "":
				fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":"60","scope":["openid","groups"]}`)
			case "server_error_500":
				w.WriteHeader(500)
			default:
				// "code|description" answers with an error_description.
				w.WriteHeader(400)
				if code, desc, ok := strings.Cut(a, "|"); ok {
					json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
				} else {
					fmt.Fprintf(w, `{"error":%q}`, a)
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestDeviceCodePolling(t *testing.T) {
	tests := []struct {
		name      string
		interval  int
		answers   []string
		wantWaits []time.Duration
		wantClass failure.Class // "": success
		wantInErr string
	}{
		{"at once", 2, []string{""}, nil, "", ""},
		{"pending then tokens", 2, []string{"authorization_pending", ""}, []time.Duration{2 * time.Second}, "", ""},
		{"slow_down adds 5s and keeps it", 1, []string{"authorization_pending", "slow_down", "authorization_pending", ""},
			[]time.Duration{time.Second, 6 * time.Second, 6 * time.Second}, "", ""},
		{"no interval means 5s", 0, []string{"authorization_pending", ""}, []time.Duration{5 * time.Second}, "", ""},
		{"denied", 1, []string{"authorization_pending", "access_denied"}, []time.Duration{time.Second}, failure.Flow, "denied"},
		{"expired", 1, []string{"expired_token"}, nil, failure.Flow, "expired"},
		// oidc-provider's answer after "[ Abort ]" on its confirmation page:
		// the provider's reason is kept, as for a redirect's error.
		{"denied with a description", 1, []string{"access_denied|End-User aborted interaction"}, nil, failure.Flow, `denied the device authorization (error=access_denied error_description="End-User aborted interaction")`},
		{"expired with a description", 1, []string{"expired_token|device code is expired"}, nil, failure.Flow, `(error=expired_token error_description="device code is expired")`},
		{"description with a control character", 1, []string{"access_denied|no\x1b[31m"}, nil, failure.Flow, `error_description="no[31m"`},
		{"other error", 1, []string{"invalid_client"}, nil, failure.Flow, "invalid_client"},
		{"server error", 1, []string{"server_error_500"}, nil, failure.Provider, "status 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := deviceServer(t, tt.interval, tt.answers...)
			var waits []time.Duration
			var shown *DeviceAuthorization
			c := Config{TokenEndpoint: srv.URL + "/token", ClientID: "cli", Scopes: []string{"openid"}, HTTPClient: srv.Client()}
			tok, err := DeviceCode(context.Background(), c, DeviceOptions{
				Endpoint: srv.URL + "/device",
				Show:     func(_ context.Context, da *DeviceAuthorization) error { shown = da; return nil },
				sleep:    func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
			})
			if shown == nil || shown.UserCode != "ABCD-EFGH" || shown.VerificationURI != "http://127.0.0.1/device" {
				t.Fatalf("Show got %+v", shown)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits %v, want %v", waits, tt.wantWaits)
			}
			if tt.wantClass == "" {
				if err != nil || tok.AccessToken != "at" || tok.ExpiresIn != 60 || tok.Scope != "openid groups" {
					t.Fatalf("tokens %+v, err %v", tok, err)
				}
			} else if failure.ClassOf(err) != tt.wantClass || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("err %v (class %v), want class %v mentioning %q", err, failure.ClassOf(err), tt.wantClass, tt.wantInErr)
			}
			for _, s := range *seen {
				if s != "urn:ietf:params:oauth:grant-type:device_code dc cli" {
					t.Errorf("poll %q", s)
				}
			}
		})
	}
}

// TestDeviceCodeDeadline: the wait ends at the deadline with an error that
// names the code and the URI, and nothing hangs.
func TestDeviceCodeDeadline(t *testing.T) {
	srv, _ := deviceServer(t, 1, "authorization_pending", "authorization_pending", "authorization_pending")
	c := Config{TokenEndpoint: srv.URL + "/token", ClientID: "cli", HTTPClient: srv.Client()}
	_, err := DeviceCode(context.Background(), c, DeviceOptions{
		Endpoint: srv.URL + "/device",
		// Long enough for the device authorization request itself on a
		// loaded machine (the deadline must run out while polling, which
		// the sleep below waits for), short enough for a unit test.
		Timeout: time.Second,
		sleep: func(ctx context.Context, _ time.Duration) error {
			<-ctx.Done() // the real sleep ends with the context too
			return ctx.Err()
		},
	})
	if failure.ClassOf(err) != failure.Flow || !strings.Contains(err.Error(), "timed out waiting for the user to approve code ABCD-EFGH at http://127.0.0.1/device") {
		t.Fatalf("err %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = DeviceCode(ctx, c, DeviceOptions{Endpoint: srv.URL + "/device"})
	if failure.ClassOf(err) != failure.Interrupted {
		t.Fatalf("canceled context: %v (class %v), want interrupted", err, failure.ClassOf(err))
	}
}

// TestDeviceCodeExpiry: when the device code's expires_in runs out before
// the timeout (Dex leaves a code pending after the user cancels, until it
// expires), the error says that the code expired, not that the wait timed
// out (which would suggest a longer --timeout).
func TestDeviceCodeExpiry(t *testing.T) {
	srv, _ := deviceServerExpiring(t, 1, 1, "authorization_pending", "authorization_pending", "authorization_pending")
	c := Config{TokenEndpoint: srv.URL + "/token", ClientID: "cli", HTTPClient: srv.Client()}
	_, err := DeviceCode(context.Background(), c, DeviceOptions{
		Endpoint: srv.URL + "/device",
		Timeout:  time.Hour,
		sleep: func(ctx context.Context, _ time.Duration) error {
			<-ctx.Done()
			return ctx.Err()
		},
	})
	want := "device authorization: the device code expired (expires_in 1s) before the user approved code ABCD-EFGH at http://127.0.0.1/device"
	if failure.ClassOf(err) != failure.Flow || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err %v (class %v), want class flow with %q", err, failure.ClassOf(err), want)
	}
}

func TestGrantBadInput(t *testing.T) {
	ctx := context.Background()
	good := Config{TokenEndpoint: "http://127.0.0.1:1/token", ClientID: "c"}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"refresh empty", func() error { _, err := Refresh(ctx, good, ""); return err }, "empty"},
		{"password no user", func() error { _, err := Password(ctx, good, "", "p"); return err }, "--username"},
		{"password empty", func() error { _, err := Password(ctx, good, "u", ""); return err }, "password"},
		{"cc no secret", func() error { _, err := ClientCredentials(ctx, good); return err }, "client secret"},
		{"no token endpoint", func() error { _, err := Refresh(ctx, Config{ClientID: "c"}, "rt"); return err }, "token_endpoint"},
		{"device no endpoint", func() error { _, err := DeviceCode(ctx, good, DeviceOptions{}); return err }, "device_authorization_endpoint"},
		{"bad auth method", func() error {
			c := good
			c.AuthMethod = "tls_client_auth_v2"
			_, err := Refresh(ctx, c, "rt")
			return err
		}, "unknown method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line mentioning %q", err, tt.want)
			}
		})
	}
}
