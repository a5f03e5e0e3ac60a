package suite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/claimcheck/claimcheck/failure"
)

// FuzzParseSuite fuzzes the suite file parser: no panic; a refused file is
// a one-line usage error; a parsed suite has no key twice in a mapping and
// cases with unique non-empty names, and none of them carries a secret
// written in the file.
func FuzzParseSuite(f *testing.F) {
	for _, s := range []string{
		fmt.Sprintf(mixedSuite, "http://127.0.0.1:9"),
		"cases:\n  - name: a\n    user: alice\n    password_env: P\n",
		"cases:\n  - name: a\n    password: hunter2\n",
		"defaults:\n  client_secret: s\ncases:\n  - name: a\n",
		"cases:\n  - {name: a, claims: [{claim: sub, matches: '('}]}\n",
		"cases: &a [*a]\n",
		"cases:\n  - name: a\n  - name: a\n",
		"cases:\n  - name: a\n    name: b\n", "cases:\n  - {name: a, user: x, username: y}\n",
		"", "cases: []\n", "- 1\n", "cases:\n  - name: [x]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("claimcheck.yaml", data)
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
		if len(s.Cases) == 0 {
			t.Fatal("a suite without cases parsed")
		}
		seen := map[string]bool{}
		for _, c := range s.Cases {
			if c.Name == "" || seen[c.Name] {
				t.Fatalf("case name %q empty or repeated", c.Name)
			}
			seen[c.Name] = true
		}
	})
}

// FuzzRetryAfter fuzzes the reading of a 429's Retry-After: whatever the
// provider sends, the wait is between 0 and maxRetryAfter.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "5", "120", "-1", "99999999999", "9223372036", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT", "soon", " 5"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("Retry-After %q: wait %v, want 0..%v", v, d, maxRetryAfter)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", defaultRetryAfter},
		{"soon", defaultRetryAfter},
		{"-1", defaultRetryAfter},
		{"0", 0},
		{"7", 7 * time.Second},
		{"30", 30 * time.Second},
		{"31", maxRetryAfter},
		{"10000000000", maxRetryAfter},              // overflowed into a negative wait once
		{"99999999999999999999", defaultRetryAfter}, // not an int: not seconds, not a date
		{"Sat, 28 Nov 2026 12:00:12 GMT", 12 * time.Second},
		{"Sat, 28 Nov 2026 11:00:00 GMT", 0},
		{"Fri, 01 Jan 2100 00:00:00 GMT", maxRetryAfter},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.v, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
