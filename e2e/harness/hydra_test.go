package harness

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHydraLoginAppRefuses: a wrong password or an unknown login gets the
// sign-in page again with its error box (which ccbrowser reports), and
// Hydra's admin API is not called: the app has none here, so a call would
// answer 502.
func TestHydraLoginAppRefuses(t *testing.T) {
	app := startHydraLoginApp(t)
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct{ name, login, password string }{
		{"wrong password", Alice.Login, Bob.Password},
		{"unknown login", "mallory", Alice.Password},
		{"empty", "", ""},
		{"e-mail is not the login", Alice.Email, Alice.Password},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.PostForm(app.url+"/login", url.Values{"login_challenge": {"c1"}, "login": {tt.login}, "password": {tt.password}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="login-error"`) {
				t.Fatalf("status %s, body %s", resp.Status, body)
			}
			if tt.password != "" && strings.Contains(string(body), tt.password) {
				t.Errorf("the page shows the password")
			}
		})
	}
}

// TestHydraConfigLoopback: every address in Hydra's configuration is on
// 127.0.0.1, and its telemetry is off.
func TestHydraConfigLoopback(t *testing.T) {
	b, err := HydraConfig("http://127.0.0.1:1/", "sqlite:///tmp/x.sqlite", 2, 3, "http://127.0.0.1:4")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"host": "127.0.0.1"`, `"opt_out": true`, `"access_token": "jwt"`, `"issuer": "http://127.0.0.1:1/"`, `"login": "http://127.0.0.1:4/login"`} {
		if !strings.Contains(s, want) {
			t.Errorf("config lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "0.0.0.0") || strings.Contains(s, `"host": ""`) {
		t.Errorf("config listens beyond loopback:\n%s", s)
	}
}
