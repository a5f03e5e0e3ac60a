package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
)

const sample = `issuer: https://example.okta.com
client_id: top
scopes: [openid, groups]
client_secret_env: MY_SECRET
profiles:
  staging:
    client-id: staging-client
    expect_groups: IT,Everyone
  empty: {}
`

func TestParse(t *testing.T) {
	f, err := Parse("c.yaml", []byte(sample), "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Setting{}
	for _, s := range f.Settings {
		got[s.Flag] = s
	}
	if got["client-id"].Values[0] != "top" || got["client-id"].Line != 2 || len(got["scopes"].Values) != 2 || got["client-secret"].FromEnv != "MY_SECRET" {
		t.Errorf("settings %+v", got)
	}
	if _, ok := got["expect-groups"]; ok {
		t.Errorf("profile applied without being chosen")
	}
	f, err = Parse("c.yaml", []byte(sample), "staging")
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]Setting{}
	for _, s := range f.Settings {
		got[s.Flag] = s
	}
	if got["client-id"].Values[0] != "staging-client" || got["client-id"].Line != 7 || got["issuer"].Values[0] != "https://example.okta.com" || got["expect-groups"].Values[0] != "IT,Everyone" {
		t.Errorf("profile settings %+v", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, body, profile, want string }{
		{"inline secret", "issuer: x\nclient_secret: hunter2\n", "", "c.yaml:2: client_secret: secrets are never written"},
		{"inline secret in profile", "profiles:\n  p:\n    password: hunter2\n", "p", "c.yaml:3: profiles.p.password: secrets are never written"},
		{"inline refresh token", "refresh-token: hunter2\n", "", "c.yaml:1: refresh-token: secrets are never written"},
		{"env holds secret", "client_secret_env: 'hunter2!'\n", "", "c.yaml:1: client_secret_env: must name an environment variable"},
		{"inline PEM key", "client_key: |\n  -----BEGIN PRIVATE KEY-----\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", "", "c.yaml:1: client_key: must name a file holding the key"},
		{"inline JWK key", "profiles:\n  p:\n    client-key: '{\"kty\":\"RSA\",\"d\":\"x\"}'\n", "p", "c.yaml:3: profiles.p.client-key: must name a file holding the key"},
		{"inline certificate", "profiles:\n  p:\n    client-cert: |\n      -----BEGIN CERTIFICATE-----\n      MIIB\n", "p", "c.yaml:3: profiles.p.client-cert: must name a file holding the certificate"},
		{"inline PEM DPoP key", "dpop_key: |\n  -----BEGIN EC PRIVATE KEY-----\n  MHcCAQEEIAbc\n", "", "c.yaml:1: dpop_key: must name a file holding the key"},
		{"inline JWK DPoP key", "profiles:\n  p:\n    dpop-key: '{\"kty\":\"EC\",\"d\":\"x\"}'\n", "p", "c.yaml:3: profiles.p.dpop-key: must name a file holding the key"},
		{"unknown profile", sample, "prod", `no profile "prod" (it has: empty, staging)`},
		{"nested", "issuer: x\nscopes: {a: b}\n", "", "c.yaml:2: scopes: must be a value or a list"},
		{"null", "issuer:\n", "", "c.yaml:1: issuer: has no value"},
		{"not a mapping", "- a\n", "", "c.yaml:1"},
		{"not yaml", "a: [\n", "", "not YAML"},
		{"nested profiles", "profiles:\n  p:\n    profiles: {}\n", "p", "profiles do not nest"},
		{"a list over the limit", "issuer: x\nexpect_groups: [" + strings.Repeat("g,", 1000) + "g]\n", "", "c.yaml:2: expect_groups: a list of 1001 items, more than the limit of 1000"},
		{"a list over the limit in a profile", "profiles:\n  p:\n    scopes:\n" + strings.Repeat("      - s\n", 1001), "", "c.yaml:4: profiles.p.scopes: a list of 1001 items"},
		{"too many profiles", "profiles:\n" + manyProfiles(1001), "", "c.yaml:2: profiles: a mapping of 1001 keys, more than the limit of 1000"},
		{"alias bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\na1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\nscopes: *a1\n", "", "c.yaml:2: a1: must be a value or a list of values"},
		{"duplicate key", "issuer: https://a.example\nclient_id: x\nissuer: https://b.example\n", "", `c.yaml:3: issuer: duplicate key "issuer" (first at line 1)`},
		{"duplicate key in a profile not chosen", "issuer: x\nprofiles:\n  p:\n    issuer: a\n    issuer: b\n", "", `c.yaml:5: profiles.p.issuer: duplicate key "issuer" (first at line 4)`},
		{"duplicate profile", "profiles:\n  p: {issuer: a}\n  q: {}\n  p: {issuer: b}\n", "p", `c.yaml:4: profiles.p: duplicate key "p" (first at line 2)`},
		{"duplicate profiles", "profiles:\n  p: {}\nissuer: x\nprofiles:\n  p: {}\n", "p", `c.yaml:4: profiles: duplicate key "profiles" (first at line 1)`},
		{"duplicate key in a list item", "param:\n  - {a: 1, a: 2}\n", "", `c.yaml:2: param[0].a: duplicate key "a" (first at line 2)`},
		{"one flag spelt twice", "client_id: a\nclient-id: b\n", "", `c.yaml:2: client-id: duplicate key "client-id" (first at line 1 as "client_id")`},
		{"one flag spelt twice in the profile", "profiles:\n  p:\n    expect-groups: [IT]\n    expect_groups: [Admins]\n", "p", `c.yaml:4: profiles.p.expect_groups: duplicate key "expect_groups" (first at line 3 as "expect-groups")`},
		{"an _env key spelt twice", "client_secret_env: A\nclient-secret-env: B\n", "", `c.yaml:2: client-secret-env: duplicate key "client-secret-env" (first at line 1 as "client_secret_env")`},
		{"over the size limit", "issuer: x\n#" + strings.Repeat("x", 1<<20) + "\n", "", "c.yaml: larger than 1048576 bytes (1 MiB), the limit of a configuration file"},
		{"one flag spelt twice in a profile not chosen", "issuer: x\nprofiles:\n  p: {}\n  q:\n    client_id: a\n    client-id: b\n", "p", `c.yaml:6: profiles.q.client-id: duplicate key "client-id" (first at line 5 as "client_id")`},
		{"one flag spelt twice in a profile, none chosen", "profiles:\n  q:\n    username: a\n    user-name: b\n    user_name: c\n", "", `c.yaml:5: profiles.q.user_name: duplicate key "user_name" (first at line 4 as "user-name")`},
		{"inline secret in a profile not chosen", "profiles:\n  p: {}\n  q:\n    client_secret: hunter2\n", "p", "c.yaml:4: profiles.q.client_secret: secrets are never written in the configuration file; set CLAIMCHECK_CLIENT_SECRET or name a variable with client_secret_env: NAME"},
		{"inline key in a profile not chosen", "profiles:\n  q:\n    client_key: '{\"kty\":\"EC\",\"d\":\"hunter2\"}'\n", "", "c.yaml:3: profiles.q.client_key: must name a file holding the key; key material is never written in the configuration file"},
		{"null in a profile not chosen", "profiles:\n  q:\n    issuer:\n", "", "c.yaml:3: profiles.q.issuer: has no value"},
		{"a profile not chosen that is no mapping", "profiles:\n  p: {}\n  q: [issuer]\n", "p", "c.yaml:3: profiles.q: must be a mapping of flag names to values"},
		{"nested profiles in a profile not chosen", "profiles:\n  q:\n    profiles: {}\n", "", "c.yaml:3: profiles.q.profiles: profiles do not nest"},
		{"a bad secret variable in a profile not chosen", "profiles:\n  q:\n    password_env: 'hunter2!'\n", "", "c.yaml:3: profiles.q.password_env: must name an environment variable (letters, digits, _), not hold the secret itself"},
		{"a second document", "issuer: https://a.example\n---\nissuer: https://b.example\n", "", "c.yaml:2: a second YAML document starts here; a configuration file holds one document"},
		{"a second document with a profile", "profiles:\n  p: {issuer: a}\n...\n---\nprofiles:\n  p: {issuer: b}\n", "p", "c.yaml:4: a second YAML document starts here; a configuration file holds one document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.body), tt.profile)
			if err == nil || !strings.Contains(err.Error(), tt.want) || failure.ClassOf(err) != failure.Usage {
				t.Fatalf("err %v, want usage error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("secret in the message")
			}
		})
	}
}

func manyProfiles(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  p%d: {}\n", i)
	}
	return b.String()
}

// TestLoadTooLarge: a file over the limit is refused with its name and the
// limit, and is not read whole.
func TestLoadTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), LocalName)
	if err := os.WriteFile(p, []byte("issuer: x\n#"+strings.Repeat("x", 1<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, "")
	if err == nil || !strings.Contains(err.Error(), p+": larger than 1048576 bytes (1 MiB), the limit of a configuration file") || failure.ClassOf(err) != failure.Usage {
		t.Errorf("err %v", err)
	}
}

func TestFind(t *testing.T) {
	dir, user := t.TempDir(), t.TempDir()
	if p, err := Find(dir, user); p != "" || err != nil {
		t.Fatalf("nothing: %q %v", p, err)
	}
	os.MkdirAll(filepath.Join(user, "claimcheck"), 0o755)
	os.WriteFile(filepath.Join(user, "claimcheck", "config.yaml"), nil, 0o644)
	if p, _ := Find(dir, user); p != filepath.Join(user, "claimcheck", "config.yaml") {
		t.Errorf("user file: %q", p)
	}
	os.WriteFile(filepath.Join(dir, LocalName), nil, 0o644)
	if p, _ := Find(dir, user); p != filepath.Join(dir, LocalName) {
		t.Errorf("local file first: %q", p)
	}
	env := map[string]string{"HOME": "/home/u"}
	if d := UserDir(func(k string) string { return env[k] }); d != "/home/u/.config" {
		t.Errorf("UserDir %q", d)
	}
	env["XDG_CONFIG_HOME"] = "/x"
	if d := UserDir(func(k string) string { return env[k] }); d != "/x" {
		t.Errorf("UserDir with XDG %q", d)
	}
}

// TestParseDocumentMarkers: a "---" before the one document and a "..."
// after it are YAML's document markers, not a second document.
func TestParseDocumentMarkers(t *testing.T) {
	f, err := Parse("c.yaml", []byte("---\n"+sample+"...\n"), "staging")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range f.Settings {
		if s.Flag == "client-id" {
			ids = s.Values
		}
	}
	if !slices.Equal(ids, []string{"staging-client"}) {
		t.Errorf("client-id %q, want the staging profile's", ids)
	}
}

// TestParseUnselected: the profiles not chosen are checked and kept apart,
// each setting naming its profile, and none of them is applied.
func TestParseUnselected(t *testing.T) {
	f, err := Parse("c.yaml", []byte(sample), "staging")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Settings {
		if s.Profile != "" && s.Profile != "staging" {
			t.Errorf("setting %+v applied from another profile", s)
		}
	}
	f, err = Parse("c.yaml", []byte(sample+"  prod:\n    client_id: prod-client\n    scopes: [openid]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range f.Unselected {
		got = append(got, f.Where(s))
	}
	want := []string{"c.yaml:7: profiles.staging.client_id", "c.yaml:8: profiles.staging.expect_groups", "c.yaml:11: profiles.prod.client_id", "c.yaml:12: profiles.prod.scopes"}
	if !slices.Equal(got, want) {
		t.Errorf("unselected %q, want %q", got, want)
	}
	for _, s := range f.Settings {
		if s.Profile != "" {
			t.Errorf("setting %+v of a profile applied without --profile", s)
		}
	}
}
