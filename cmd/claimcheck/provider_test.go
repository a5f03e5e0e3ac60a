package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	oktaop "github.com/claimcheck/claimcheck/internal/op/okta"
)

// An unknown --provider is a one-line usage error with a suggestion, found
// before anything is sent (the issuer's port is closed); so is one that
// contradicts --okta-domain, or --provider on a token stream.
func TestProviderFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown", []string{"--issuer", "http://127.0.0.1:1", "--client-id", "c", "--provider", "keycloack"},
			`--provider: unknown provider "keycloack" (want auth0, authentik, cognito, dex, entra, generic, google, keycloak, okta, zitadel); did you mean keycloak?`},
		{"unknown, verify", []string{"verify", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--provider", "okt", "a.b.c"}, "did you mean okta?"},
		{"with okta-domain", []string{"--okta-domain", "x.okta.com", "--client-id", "c", "--provider", "keycloak"}, "keycloak contradicts --okta-domain"},
		{"stream", []string{"verify", "--issuer", "http://127.0.0.1:1", "--provider", "dex", "-"}, "does not apply to a token stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || stdout != "" {
				t.Fatalf("exit %d, want 2 and one line with %q\nstdout: %s\nstderr: %s", code, tt.want, stdout, stderr)
			}
		})
	}
}

// The report names the provider: in JSON, and as one line of the text.
func TestProviderInReport(t *testing.T) {
	issuer := startDemo(t)
	env := map[string]string{"CLAIMCHECK_PASSWORD": "bob-demo", "NO_COLOR": "1"}
	base := []string{"--issuer", issuer, "--client-id", "claimcheck-public", "--grant", "password", "--username", "bob", "--scopes", "openid,groups", "--expect-groups", "IT"}

	code, stdout, stderr := runMain(t, env, append(base, "-o", "json")...)
	r := decodeReport(t, stdout)
	if code != 1 || r.Provider == nil || r.Provider.Name != "generic" {
		t.Fatalf("exit %d provider %+v\n%s", code, r.Provider, stderr)
	}
	code, stdout, _ = runMain(t, env, append(base, "-o", "json", "--provider", "Dex")...)
	r = decodeReport(t, stdout)
	if code != 1 || r.Provider == nil || r.Provider.Name != "dex" || !strings.Contains(r.Provider.Why, "named in the configuration") {
		t.Fatalf("exit %d provider %+v", code, r.Provider)
	}
	_, stdout, _ = runMain(t, env, append(base, "--provider", "generic")...)
	var lines []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "  provider ") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	if len(lines) != 1 || lines[0] != "provider a generic OpenID provider (named in the configuration: provider-specific diagnosis is off)" {
		t.Errorf("text report, provider lines %q:\n%s", lines, stdout)
	}
}

// provider: in the configuration file sets --provider, and an unknown one
// there is the same usage error.
func TestProviderConfigKey(t *testing.T) {
	issuer := startDemo(t)
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(kind string) {
		body := "issuer: " + issuer + "\nclient_id: claimcheck-public\ngrant: password\nusername: bob\noutput: json\nprovider: " + kind + "\n"
		if err := os.WriteFile(filepath.Join(dir, ".claimcheck.yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("authentik")
	code, stdout, stderr := runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": "bob-demo"})
	if r := decodeReport(t, stdout); code != 0 || r.Provider == nil || r.Provider.Name != "authentik" {
		t.Fatalf("exit %d provider %+v\n%s", code, r.Provider, stderr)
	}
	write("authentic")
	code, _, stderr = runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": "bob-demo"}, "-o", "text")
	if code != 2 || !strings.Contains(stderr, "did you mean authentik?") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// Okta on what could be a custom URL domain: --issuer alone (not
// --okta-domain) gets Okta's diagnosis, because the endpoints are Okta's.
func TestOktaIssuerRecognised(t *testing.T) {
	e := newOktaEnv(t)
	code, stdout, stderr := runMain(t, nil, "--issuer", e.p.OrgIssuer(), "--client-id", oktaop.PublicClientID, "--redirect-uri", e.redirect,
		"--flow", "implicit", "--expect-groups", "IT", "--browser-command", "false", "--timeout", "2s", "-o", "json")
	// No one signs in here (the browser command fails at once): the
	// provider is named all the same, from the discovery document.
	r := decodeReport(t, stdout)
	if code != 3 || r.Provider == nil || r.Provider.Name != "okta" || !strings.Contains(r.Provider.Why, "custom URL domain") {
		t.Fatalf("exit %d provider %+v\n%s", code, r.Provider, stderr)
	}
}
