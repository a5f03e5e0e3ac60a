package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/verify"
)

// TestVerdict: "tokens verified" is said only when a token (or the
// provider's introspection answer) was.
func TestVerdict(t *testing.T) {
	tests := []struct {
		name   string
		tokens map[string]*Token
		want   string
		not    string
	}{
		{"a verified ID token", map[string]*Token{IDToken: {Verified: true}}, "PASS: tokens verified, 1 of 1", ""},
		{"introspection vouches", map[string]*Token{AccessToken: {}, Introspection: {Verified: true}}, "PASS: tokens verified", ""},
		{"userinfo alone", map[string]*Token{UserInfo: {Verified: true}}, "PASS: 1 of 1 checks passed", "tokens verified"},
		{"nothing", nil, "PASS: 1 of 1 checks passed", "tokens verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New("https://issuer.example", "code")
			for k, v := range tt.tokens {
				r.Tokens[k] = v
			}
			r.AddCheck(verify.Check{Name: "group IT", OK: true})
			r.Finish()
			var b bytes.Buffer
			if err := r.WriteText(&b, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("text lacks %q:\n%s", tt.want, b.String())
			}
			if tt.not != "" && strings.Contains(b.String(), tt.not) {
				t.Errorf("text says %q:\n%s", tt.not, b.String())
			}
		})
	}
}
