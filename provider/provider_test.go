package provider

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/verify"
)

func load(t *testing.T, name string) verify.Metadata {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var md verify.Metadata
	if err := json.Unmarshal(b, &md); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return md
}

// Each discovery document is recognised as its provider, with a reason,
// and by that provider alone; the generic ones by none.
func TestRecognise(t *testing.T) {
	tests := []struct {
		doc, want, why string
	}{
		{"okta-org", Okta, "the org authorization server on Okta's domain, with Okta's /oauth2/v1/… endpoints"},
		{"okta-custom-server", Okta, `the custom authorization server "default" on Okta's domain, with Okta's /oauth2/default/v1/… endpoints`},
		{"okta-custom-domain-org", Okta, "the org authorization server on a custom URL domain"},
		{"okta-custom-domain-server", Okta, `"aus1a2b3c4dEfGh5i6j7" on a custom URL domain, with Okta's /oauth2/aus1a2b3c4dEfGh5i6j7/v1/…`},
		{"entra-v2", Entra, "tenant 9188040d-6c67-4c5b-b112-36a304b66dad at login.microsoftonline.com"},
		{"entra-v1", Entra, "at sts.windows.net"},
		{"keycloak", Keycloak, `realm "acme" (/realms/acme)`},
		{"keycloak-legacy-auth-path", Keycloak, `realm "master"`},
		{"auth0", Auth0, "an Auth0 tenant domain"},
		{"auth0-custom-domain", Auth0, "a custom domain with Auth0's endpoints"},
		{"cognito", Cognito, "user pool eu-west-1_AbCdEfGhI in eu-west-1"},
		{"google", Google, "https://accounts.google.com"},
		{"zitadel", Zitadel, "/oidc/v1/userinfo"},
		{"dex", Dex, "/device/code"},
		{"authentik", Authentik, `application "grafana"`},
		{"generic-dex-like", Generic, "neither the issuer nor the discovery metadata"},
		{"generic-oidc-provider", Generic, ""},
		{"generic-zitadel-op-library", Generic, ""},
		{"generic-okta-host-only", Generic, ""},
		{"generic-realms-path-only", Generic, ""},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			md := load(t, tt.doc)
			r := Recognise(md.Issuer, md)
			if r.Provider.Name != tt.want {
				t.Fatalf("recognised %s (%s), want %s", r.Provider.Name, r.Why, tt.want)
			}
			if r.Why == "" || !strings.Contains(r.Why, tt.why) {
				t.Errorf("why = %q, want it to contain %q", r.Why, tt.why)
			}
			// Not one that happens to be tried first: no other matches.
			for _, p := range All() {
				if _, ok := p.Recognise(md.Issuer, md); ok && p.Name != tt.want {
					t.Errorf("%s recognises it too", p.Name)
				}
			}
		})
	}
}

// Every provider but the generic one has a document in testdata.
func TestEveryProviderHasTestdata(t *testing.T) {
	for _, p := range All() {
		if p.Name == Generic {
			continue
		}
		m, _ := filepath.Glob(filepath.Join("testdata", p.Name+"*.json"))
		if len(m) == 0 {
			t.Errorf("no testdata/%s*.json", p.Name)
		}
		if p.Title == "" || p.explain == nil {
			t.Errorf("%s lacks a title or an explanation", p.Name)
		}
	}
}

func TestResolve(t *testing.T) {
	md := load(t, "keycloak")
	r, err := Resolve("", md.Issuer, md)
	if err != nil || r.Provider.Name != Keycloak {
		t.Fatalf("recognised %+v, %v", r, err)
	}
	r, err = Resolve("generic", md.Issuer, md)
	if err != nil || r.Provider.Name != Generic || r.Provider.Explain(Facts{}) != nil || !strings.Contains(r.Why, "off") {
		t.Fatalf("generic: %+v, %v", r, err)
	}
	r, err = Resolve("Entra", md.Issuer, md)
	if err != nil || r.Provider.Name != Entra || !strings.Contains(r.Why, "looks like Keycloak's") {
		t.Fatalf("named: %+v, %v", r, err)
	}
	_, err = Resolve("keycloack", md.Issuer, md)
	if err == nil || !strings.Contains(err.Error(), `unknown provider "keycloack"`) || !strings.Contains(err.Error(), "keycloak") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestLookupNames(t *testing.T) {
	for _, n := range Names() {
		p, err := Lookup(n)
		if err != nil || p.Name != n {
			t.Errorf("Lookup(%q) = %v, %v", n, p.Name, err)
		}
	}
	if len(Names()) != 10 {
		t.Errorf("names: %v", Names())
	}
}
