package config

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/claimcheck/claimcheck/failure"
)

// FuzzParse fuzzes the configuration file parser, with and without a
// profile: no panic; a refused file is a one-line usage error; a parsed
// one has no key twice in a mapping and never sets a secret from a value
// written in the file (client_secret, password and refresh_token come only
// by _env reference).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"issuer: https://example.okta.com\nclient_id: x\nexpect_groups: [IT, Everyone]\nprofiles:\n  p:\n    client_secret_env: S\n",
		"client_secret: hunter2\n",
		"profiles:\n  p:\n    password: hunter2\n",
		"issuer: [a, b]\n", "profiles: 3\n", "a: &x [*x]\n", "- 1\n", "", "issuer:\n  nested: 1\n",
		"issuer: a\nissuer: b\n", "client_id: a\nclient-id: b\n", "profiles:\n  p: {}\n  p: {issuer: a}\n",
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "p")
	}
	f.Fuzz(func(t *testing.T, data []byte, profile string) {
		file, err := Parse(".claimcheck.yaml", data, profile)
		if err != nil {
			if failure.ClassOf(err) != failure.Usage || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("not a one-line usage error: %q", err)
			}
			return
		}
		// yaml.v3 finds a key twice in a mapping when it decodes the file
		// into Go values; Parse must have refused any it finds.
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil && strings.Contains(err.Error(), "already defined") {
			t.Fatalf("a key twice in a mapping was accepted: %v", err)
		}
		for _, s := range file.Settings {
			switch s.Flag {
			case "client-secret", "password", "refresh-token":
				if len(s.Values) > 0 {
					t.Fatalf("%s set from a value written in the file: %+v", s.Flag, s)
				}
			}
		}
	})
}
