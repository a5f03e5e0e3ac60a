package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/verify"
)

// TestTextSanitizesEverything: no string from a provider reaches the
// terminal with a control or format character, wherever it sits.
func TestTextSanitizesEverything(t *testing.T) {
	const evil = "a\x1b[31mb\u202ec\u200bd\re\xff"
	tests := []struct {
		name string
		mod  func(*Report)
	}{
		{"error message", func(r *Report) { r.Fail(failure.New(failure.Flow, "authorize", "%s", evil)) }},
		{"note", func(r *Report) { r.Notes = append(r.Notes, evil) }},
		{"token note", func(r *Report) { r.Tokens[AccessToken] = &Token{Note: evil} }},
		{"token error", func(r *Report) { r.Tokens[AccessToken] = &Token{Error: evil} }},
		{"unverified claims", func(r *Report) { r.Tokens[AccessToken] = &Token{UnverifiedClaims: map[string]any{evil: evil}} }},
		{"header", func(r *Report) { r.Tokens[IDToken].Header["kid"] = evil }},
		{"check", func(r *Report) { r.AddCheck(verify.Check{Name: evil, OK: false, Detail: evil}) }},
		{"endpoint", func(r *Report) { r.Request = &Request{Endpoints: map[string]string{"token": evil}, AuthorizeURL: evil} }},
		{"issuer", func(r *Report) { r.Issuer = evil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			tt.mod(r)
			r.Finish()
			var b bytes.Buffer
			if err := r.WriteText(&b, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, bad := range []string{"\x1b", "\u202e", "\u200b", "\r", "\xff"} {
				if strings.Contains(out, bad) {
					t.Errorf("%q reached the text:\n%q", bad, out)
				}
			}
		})
	}
}
