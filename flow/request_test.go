package flow

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
)

func baseConfig() Config {
	return Config{
		Issuer:                "https://issuer.example",
		AuthorizationEndpoint: "https://issuer.example/authorize",
		TokenEndpoint:         "https://issuer.example/token",
		ClientID:              "client-1",
		RedirectURI:           "http://127.0.0.1:8765/callback",
		Scopes:                []string{"openid", "groups"},
	}
}

func TestNewRequestURL(t *testing.T) {
	tests := []struct {
		responseType, responseMode string
		wantType, wantMode         string
		wantPKCE, wantModeParam    bool
	}{
		{"", "", "code", "query", true, false},
		{"code", "", "code", "query", true, false},
		{"code", "query", "code", "query", true, true},
		{"code", "fragment", "code", "fragment", true, true},
		{"code", "form_post", "code", "form_post", true, true},
		{"id_token", "", "id_token", "fragment", false, false},
		{"id_token", "form_post", "id_token", "form_post", false, true},
		{"token", "", "token", "fragment", false, false},
		{"token id_token", "", "id_token token", "fragment", false, false},
		{"id_token token", "form_post", "id_token token", "form_post", false, true},
		{"id_token code", "", "code id_token", "fragment", true, false},
		{"code token", "form_post", "code token", "form_post", true, true},
		{"token code id_token", "fragment", "code id_token token", "fragment", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.responseType+"/"+tt.responseMode, func(t *testing.T) {
			c := baseConfig()
			c.ResponseType, c.ResponseMode = tt.responseType, tt.responseMode
			c.ExtraParams = url.Values{"prompt": {"login"}, "login_hint": {"alice@example.com"}}
			req, err := NewRequest(c)
			if err != nil {
				t.Fatal(err)
			}
			if req.ResponseType != tt.wantType || req.ResponseMode != tt.wantMode {
				t.Errorf("resolved %q/%q, want %q/%q", req.ResponseType, req.ResponseMode, tt.wantType, tt.wantMode)
			}
			u, err := url.Parse(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != c.AuthorizationEndpoint {
				t.Errorf("endpoint %q", got)
			}
			q := u.Query()
			for k, want := range map[string]string{
				"response_type": tt.wantType,
				"client_id":     "client-1",
				"redirect_uri":  c.RedirectURI,
				"scope":         "openid groups",
				"state":         req.State,
				"nonce":         req.Nonce,
				"prompt":        "login",
				"login_hint":    "alice@example.com",
			} {
				if got := q.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for k, vs := range q {
				if len(vs) != 1 {
					t.Errorf("%s sent %d times", k, len(vs))
				}
			}
			if got := q.Has("response_mode"); got != tt.wantModeParam {
				t.Errorf("response_mode present = %v, want %v", got, tt.wantModeParam)
			} else if got && q.Get("response_mode") != tt.wantMode {
				t.Errorf("response_mode = %q", q.Get("response_mode"))
			}
			if !tt.wantPKCE {
				if q.Has("code_challenge") || req.CodeVerifier != "" {
					t.Errorf("PKCE sent without a code")
				}
				return
			}
			if q.Get("code_challenge_method") != "S256" {
				t.Errorf("code_challenge_method = %q", q.Get("code_challenge_method"))
			}
			sum := sha256.Sum256([]byte(req.CodeVerifier))
			if want := base64.RawURLEncoding.EncodeToString(sum[:]); q.Get("code_challenge") != want || req.CodeChallenge != want {
				t.Errorf("challenge %q does not match the verifier (want %q)", q.Get("code_challenge"), want)
			}
			if n := len(req.CodeVerifier); n < 43 || n > 128 {
				t.Errorf("verifier length %d outside RFC 7636's 43..128", n)
			}
		})
	}
}

func TestNewRequestKeepsEndpointQuery(t *testing.T) {
	c := baseConfig()
	c.AuthorizationEndpoint = "https://issuer.example/authorize?p=B2C_1_signin"
	req, err := NewRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	if u.Query().Get("p") != "B2C_1_signin" || u.Query().Get("client_id") != "client-1" {
		t.Errorf("URL %s lost the endpoint's own parameter", req.URL)
	}
}

func TestNewRequestRefusesPortZero(t *testing.T) {
	c := baseConfig()
	c.RedirectURI = "http://127.0.0.1:0/callback"
	if err := c.Validate(); err != nil {
		t.Fatalf("port 0 is valid for Run: %v", err)
	}
	_, err := NewRequest(c)
	if failure.ClassOf(err) != failure.Usage {
		t.Fatalf("NewRequest with port 0: %v, want a usage error", err)
	}
	for _, want := range []string{"http://127.0.0.1:0/callback", "needs a fixed port", "must know the exact redirect URI"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestRandomness(t *testing.T) {
	const n = 500
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		req, err := NewRequest(baseConfig())
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"state": req.State, "nonce": req.Nonce, "verifier": req.CodeVerifier} {
			raw, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("%s %q is not base64url: %v", name, v, err)
			}
			if len(raw)*8 < 128 {
				t.Fatalf("%s has %d bits", name, len(raw)*8)
			}
			if seen[v] {
				t.Fatalf("%s %q repeated", name, v)
			}
			seen[v] = true
		}
	}
	// State, nonce and verifier never coincide with one another either.
	if len(seen) != 3*n {
		t.Fatalf("%d distinct values, want %d", len(seen), 3*n)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the usage error; "" means valid
	}{
		{"base", func(c *Config) {}, ""},
		{"localhost", func(c *Config) { c.RedirectURI = "http://localhost:8765/cb" }, ""},
		{"ipv6", func(c *Config) { c.RedirectURI = "http://[::1]:8765/cb" }, ""},
		{"no path", func(c *Config) { c.RedirectURI = "http://127.0.0.1:8765" }, ""},
		{"port 0", func(c *Config) { c.RedirectURI = "http://127.0.0.1:0/cb" }, ""},
		{"implicit form_post", func(c *Config) { c.ResponseType, c.ResponseMode = "id_token token", "form_post" }, ""},
		{"post", func(c *Config) { c.ClientSecret, c.AuthMethod = "s", "client_secret_post" }, ""},
		{"implicit without token endpoint", func(c *Config) { c.ResponseType, c.TokenEndpoint = "id_token", "" }, ""},
		{"remote host", func(c *Config) { c.RedirectURI = "http://example.com:8765/cb" }, "loopback"},
		{"all interfaces", func(c *Config) { c.RedirectURI = "http://0.0.0.0:8765/cb" }, "loopback"},
		{"private address", func(c *Config) { c.RedirectURI = "http://192.168.1.10:8765/cb" }, "loopback"},
		{"other loopback", func(c *Config) { c.RedirectURI = "http://127.0.0.2:8765/cb" }, "loopback"},
		{"mapped v4", func(c *Config) { c.RedirectURI = "http://[::ffff:127.0.0.1]:8765/cb" }, "loopback"},
		{"zone", func(c *Config) { c.RedirectURI = "http://[::1%25lo]:8765/cb" }, "loopback"},
		{"trailing dot", func(c *Config) { c.RedirectURI = "http://localhost.:8765/cb" }, "loopback"},
		{"https", func(c *Config) { c.RedirectURI = "https://127.0.0.1:8765/cb" }, "http"},
		{"custom scheme", func(c *Config) { c.RedirectURI = "com.example.app:/cb" }, "redirect URI"},
		{"no scheme", func(c *Config) { c.RedirectURI = "127.0.0.1:8765/cb" }, "redirect URI"},
		{"fragment", func(c *Config) { c.RedirectURI = "http://127.0.0.1:8765/cb#x" }, "fragment"},
		{"query", func(c *Config) { c.RedirectURI = "http://127.0.0.1:8765/cb?a=1" }, "query"},
		{"userinfo", func(c *Config) { c.RedirectURI = "http://u:p@127.0.0.1:8765/cb" }, "user"},
		{"bad port", func(c *Config) { c.RedirectURI = "http://127.0.0.1:99999/cb" }, "port"},
		{"missing redirect", func(c *Config) { c.RedirectURI = "" }, "redirect URI"},
		{"missing client", func(c *Config) { c.ClientID = "" }, "client ID"},
		{"missing authorize", func(c *Config) { c.AuthorizationEndpoint = "" }, "authorization endpoint"},
		{"relative authorize", func(c *Config) { c.AuthorizationEndpoint = "/authorize" }, "authorization endpoint"},
		{"code without token endpoint", func(c *Config) { c.TokenEndpoint = "" }, "token endpoint"},
		{"unknown response type", func(c *Config) { c.ResponseType = "code none" }, "unknown response_type"},
		{"repeated response type", func(c *Config) { c.ResponseType = "code code" }, "twice"},
		{"unknown mode", func(c *Config) { c.ResponseMode = "web_message" }, "unknown response_mode"},
		{"query with id_token", func(c *Config) { c.ResponseType, c.ResponseMode = "id_token", "query" }, "forbidden"},
		{"query with token", func(c *Config) { c.ResponseType, c.ResponseMode = "token", "query" }, "forbidden"},
		{"query with hybrid", func(c *Config) { c.ResponseType, c.ResponseMode = "code id_token", "query" }, "forbidden"},
		{"id_token without openid", func(c *Config) { c.ResponseType, c.Scopes = "id_token", []string{"groups"} }, "openid"},
		{"bad scope", func(c *Config) { c.Scopes = []string{"openid", "a b"} }, "scope"},
		{"empty scope", func(c *Config) { c.Scopes = []string{"openid", ""} }, "scope"},
		{"reserved extra", func(c *Config) { c.ExtraParams = url.Values{"state": {"x"}} }, "state is set by claimcheck"},
		{"reserved extra nonce", func(c *Config) { c.ExtraParams = url.Values{"nonce": {"x"}} }, "nonce is set by claimcheck"},
		{"reserved extra PKCE", func(c *Config) { c.ExtraParams = url.Values{"code_challenge_method": {"plain"}} }, "code_challenge_method is set by claimcheck"},
		{"reserved extra mode", func(c *Config) { c.ExtraParams = url.Values{"response_mode": {"query"}} }, "response_mode is set by claimcheck"},
		{"reserved extra redirect", func(c *Config) { c.ExtraParams = url.Values{"redirect_uri": {"https://evil.example"}} }, "redirect_uri is set by claimcheck"},
		{"request object", func(c *Config) { c.ExtraParams = url.Values{"request": {"a.b.c"}} }, "request is not supported"},
		{"request_uri", func(c *Config) { c.ExtraParams = url.Values{"request_uri": {"urn:x"}} }, "request_uri is not supported"},
		{"empty extra name", func(c *Config) { c.ExtraParams = url.Values{"": {"x"}} }, "empty name"},
		{"harmless extras", func(c *Config) {
			c.ExtraParams = url.Values{"prompt": {"login"}, "max_age": {"0"}, "State": {"x"}, "acr_values": {"urn:x"}}
		}, ""},
		{"response type with commas", func(c *Config) { c.ResponseType = "id_token,token" }, ""},
		{"response type none", func(c *Config) { c.ResponseType = "none" }, "unknown response_type"},
		{"basic without secret", func(c *Config) { c.AuthMethod = "client_secret_basic" }, "needs a client secret"},
		{"none with secret", func(c *Config) { c.AuthMethod, c.ClientSecret = "none", "s" }, "drop one"},
		{"unknown auth", func(c *Config) { c.AuthMethod, c.ClientSecret = "mtls", "s" }, "unknown method"},
		{"private_key_jwt with secret", func(c *Config) { c.AuthMethod, c.ClientSecret = "private_key_jwt", "s" }, "drop one"},
		{"private_key_jwt without key", func(c *Config) { c.AuthMethod = "private_key_jwt" }, "needs a private key"},
		{"client_secret_jwt without secret", func(c *Config) { c.AuthMethod = "client_secret_jwt" }, "needs a client secret"},
		{"client_secret_jwt short secret", func(c *Config) { c.AuthMethod, c.ClientSecret = "client_secret_jwt", "short" }, "too short for HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if failure.ClassOf(err) != failure.Usage {
				t.Errorf("class %s, want usage", failure.ClassOf(err))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 100, "plain text"},
		{"line\nbreak\r\ttab", 100, "linebreaktab"},
		{"\x1b[31mred\x1b[0m", 100, "[31mred[0m"},
		{"bidi\u202eevil\u200b", 100, "bidievil"},
		{"bad\xffutf8", 100, "bad\uFFFDutf8"},
		{strings.Repeat("é", 20), 10, strings.Repeat("é", 10) + "…"},
		{strings.Repeat("a", 10), 10, strings.Repeat("a", 10)},
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.max); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestNormalizeResponseType(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"code", "code", ""},
		{"token id_token", "id_token token", ""},
		{"  id_token   code ", "code id_token", ""},
		{"token,id_token,code", "code id_token token", ""},
		{"id_token, token", "id_token token", ""},
		{"token\tcode", "code token", ""},
		{"", "", "empty response_type"},
		{" , ", "", "empty response_type"},
		{"none", "", "unknown response_type"},
		{"code none", "", "unknown response_type"},
		{"Code", "", "unknown response_type"},
		{"id-token", "", "unknown response_type"},
		{"code code", "", "names code twice"},
		{"token,id_token,token", "", "names token twice"},
		{"code\x1b[31m", "", "unknown response_type"},
	}
	for _, tt := range tests {
		got, err := NormalizeResponseType(tt.in)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("%q: %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: %q, %v; want a usage error containing %q", tt.in, got, err, tt.err)
			continue
		}
		if strings.ContainsAny(err.Error(), "\x1b\n") {
			t.Errorf("%q: message not clean: %q", tt.in, err)
		}
	}
}

// TestCheckExtraParams: the one check of extra authorize parameters, the
// same that Validate applies.
func TestCheckExtraParams(t *testing.T) {
	for _, tt := range []struct {
		p    url.Values
		want string
	}{
		{nil, ""},
		{url.Values{"prompt": {"login"}, "login_hint": {"a@example.com"}}, ""},
		{url.Values{"scope": {"openid admin"}}, "scope is set by claimcheck"},
		{url.Values{"client_id": {"other"}}, "client_id is set by claimcheck"},
		{url.Values{"response_type": {"token"}}, "response_type is set by claimcheck"},
		{url.Values{"code_challenge": {"x"}}, "code_challenge is set by claimcheck"},
		{url.Values{"request_uri": {"urn:x"}, "prompt": {"login"}}, "request_uri is not supported"},
	} {
		err := CheckExtraParams(tt.p)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.p, err)
			}
			continue
		}
		if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want a usage error containing %q", tt.p, err, tt.want)
		}
		c := baseConfig()
		c.ExtraParams = tt.p
		if verr := c.Validate(); verr == nil || verr.Error() != err.Error() {
			t.Errorf("%v: Validate says %v, CheckExtraParams %v", tt.p, verr, err)
		}
	}
}
