package scrub

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
)

func TestString(t *testing.T) {
	const (
		code     = "SplxlOBeZQQYbYS6WxSbIA"
		verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
		secret   = "s3cr&t/+=x"
		clientID = "my client"
	)
	s := &Scrubber{}
	s.Add(Code, code)
	s.Add(CodeVerifier, verifier)
	s.AddBasic(clientID, secret)
	s.Add(Password, "pw")
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)))
	tests := []struct {
		name, in, want string
	}{
		{"nothing registered appears", "status 400: error=invalid_grant", "status 400: error=invalid_grant"},
		{"code", "code " + code + " was used", "code [redacted code] was used"},
		{"form body echo", "code=" + code + "&code_verifier=" + verifier + "&client_secret=" + url.QueryEscape(secret),
			"code=[redacted code]&code_verifier=[redacted PKCE verifier]&client_secret=[redacted client secret]"},
		{"Basic header echo", "Authorization: Basic " + basic, "Authorization: Basic [redacted client secret]"},
		{"plain secret", "secret " + secret + ".", "secret [redacted client secret]."},
		{"secret as %q shows it", fmt.Sprintf("%q", "x"+secret), `"x[redacted client secret]"`},
		{"secret as JSON escapes it", `"s3cr\u0026t/+=x"`, `"[redacted client secret]"`},
		{"short secret alone", "password=pw&x=1", "password=[redacted password]&x=1"},
		{"short secret inside a word is left", "pwned passwords", "pwned passwords"},
		{"adjacent secrets", code + verifier, "[redacted code][redacted PKCE verifier]"},
	}
	for _, tt := range tests {
		if got := s.String(tt.in); got != tt.want {
			t.Errorf("%s: String(%q)\n got %q\nwant %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestLongestWins: a secret that contains another is replaced whole, so
// that no tail of the longer one is left behind.
func TestLongestWins(t *testing.T) {
	s := &Scrubber{}
	s.Add(Code, "abcdefgh")
	s.Add(RefreshToken, "abcdefgh-refresh-tail")
	if got := s.String("x abcdefgh-refresh-tail y abcdefgh"); got != "x [redacted refresh token] y [redacted code]" {
		t.Errorf("got %q", got)
	}
}

func TestError(t *testing.T) {
	s := &Scrubber{}
	s.Add(Code, "the-code-value")
	inner := failure.New(failure.Flow, "token endpoint", "error_description=%q", "bad code the-code-value")
	err := s.Error(inner)
	if strings.Contains(err.Error(), "the-code-value") || !strings.Contains(err.Error(), "[redacted code]") {
		t.Errorf("message %q", err)
	}
	if failure.ClassOf(err) != failure.Flow || !errors.Is(err, inner) {
		t.Errorf("class %q, errors.Is %v: the cause must stay inspectable", failure.ClassOf(err), errors.Is(err, inner))
	}
	wrapped := failure.Wrap(failure.Provider, "run", err)
	if failure.ClassOf(wrapped) != failure.Flow || strings.Contains(wrapped.Error(), "the-code-value") {
		t.Errorf("wrapped: %q (%s)", wrapped, failure.ClassOf(wrapped))
	}
	clean := errors.New("nothing secret")
	if s.Error(clean) != clean || s.Error(nil) != nil {
		t.Errorf("an error without a secret must come back unchanged")
	}
	var none *Scrubber
	if none.String("the-code-value") != "the-code-value" {
		t.Errorf("a nil Scrubber must scrub nothing")
	}
	none.Add(Code, "x") // must not panic
}
