package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// jwtShape matches a compact JWS: what an ID or access token looks like.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// TestNoSecretsInOutput runs the CLI through every flow of the demo and
// greps stdout and stderr, in text and JSON, for tokens, the password and
// the client secret. --show-tokens is the positive control: there the
// tokens do appear. (claimcheck has no --verbose flag.) RFC 9700 §4.3.2
// and §4.2.4 (tokens and codes leaking through logs and history).
func TestNoSecretsInOutput(t *testing.T) {
	secrets := []string{"alice-demo", "bob-demo", demo.ConfidentialClientSecret}
	variants := [][]string{
		nil,
		{"--client", "confidential"},
		{"--response-type", "id_token token"},
		{"--flow", "implicit", "--response-mode", "form_post"},
		{"--response-mode", "form_post"},
		{"--user", "bob"},
	}
	for _, v := range variants {
		for _, out := range []string{"text", "json"} {
			name := strings.Join(append([]string{out}, v...), " ")
			t.Run(name, func(t *testing.T) {
				args := append([]string{"demo", "--no-browser", "--timeout", "30s", "-o", out}, v...)
				_, stdout, stderr := runMain(t, nil, args...)
				all := stdout + stderr
				if m := jwtShape.FindString(all); m != "" {
					t.Errorf("a token is printed: %.24s…", m)
				}
				for _, s := range secrets {
					if strings.Contains(all, s) {
						t.Errorf("%q is printed", s)
					}
				}
				if strings.Contains(all, "code_verifier") {
					t.Errorf("the PKCE verifier is printed")
				}
			})
		}
	}
	t.Run("show-tokens shows them", func(t *testing.T) {
		_, stdout, _ := runMain(t, nil, "demo", "--no-browser", "--timeout", "30s", "-o", "json", "--show-tokens")
		if !jwtShape.MatchString(stdout) {
			t.Errorf("--show-tokens: no token in the report")
		}
	})
}
