package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/verify"
)

func sample() *Report {
	r := New("https://issuer.example", "code")
	r.Tokens[IDToken] = &Token{Verified: true, Raw: "aaa.bbb.ccc",
		Claims: map[string]any{"sub": "u1", "exp": float64(1_800_000_000), "groups": []any{"Everyone", "IT"}, "evil": "x\x1b[31my"},
		Header: map[string]any{"alg": "RS256", "kid": "k1"}}
	r.AddCheck(verify.Check{Name: "group IT", OK: true, Source: IDToken, Detail: "found in id_token"})
	return r
}

func TestFinish(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Report)
		ok    bool
		code  int
		class failure.Class
	}{
		{"pass", func(*Report) {}, true, 0, ""},
		{"failed check", func(r *Report) { r.AddCheck(verify.Check{Name: "group X", OK: false}) }, false, 1, failure.Expectation},
		{"error wins", func(r *Report) {
			r.AddCheck(verify.Check{Name: "group X", OK: false})
			r.Fail(failure.New(failure.Verification, "ID token", "bad"))
		}, false, 4, failure.Verification},
		{"first error wins", func(r *Report) {
			r.Fail(failure.New(failure.Flow, "state", "mismatch"))
			r.Fail(errors.New("later"))
		}, false, 3, failure.Flow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			tt.mod(r)
			r.Finish()
			if r.OK != tt.ok || r.ExitCode != tt.code || r.Class() != tt.class {
				t.Fatalf("ok=%v code=%d class=%q", r.OK, r.ExitCode, r.Class())
			}
		})
	}
}

func TestJSONContract(t *testing.T) {
	r := sample()
	r.RedactTokens()
	r.Finish()
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ok", "exit_code", "issuer", "flow", "tokens", "checks", "error"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["error"] != nil {
		t.Errorf("error = %v, want null", m["error"])
	}
	if strings.Contains(buf.String(), "aaa.bbb.ccc") {
		t.Error("redacted token in JSON")
	}
	tok := m["tokens"].(map[string]any)["id_token"].(map[string]any)
	for _, k := range []string{"verified", "claims"} {
		if _, ok := tok[k]; !ok {
			t.Errorf("token lacks %q", k)
		}
	}
}

func TestText(t *testing.T) {
	r := sample()
	r.AddCheck(verify.Check{Name: "group Admins", OK: false, Detail: "missing everywhere"})
	r.Finish()
	now := func() time.Time { return time.Unix(1_800_000_000-3600, 0) }
	var plain, color bytes.Buffer
	r.WriteText(&plain, TextOptions{Now: now})
	r.WriteText(&color, TextOptions{Now: now, Color: true})
	out := plain.String()
	for _, want := range []string{"2027-01-15 08:00:00 UTC (in 1h00m)", "Everyone, IT", "✗ group Admins", "FAIL (expectation, exit 1)", "(RS256, kid k1)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("escape sequence in plain text (a claim must not drive the terminal):\n%q", out)
	}
	if !strings.Contains(color.String(), "\x1b[31m") {
		t.Error("no colour with Color set")
	}
	if strings.Contains(color.String(), "x\x1b[31my") {
		t.Error("a claim's escape sequence reached the terminal")
	}
}

func TestJUnit(t *testing.T) {
	r := sample()
	r.AddCheck(verify.Check{Name: "group Admins", OK: false, Source: "", Detail: "missing <everywhere> & more"})
	r.Fail(failure.New(failure.Provider, "token endpoint", "status 503"))
	r.Finish()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, []JUnitSuite{{Name: "claimcheck code", Report: r, Duration: 1500 * time.Millisecond}}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	var doc JUnitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	s := doc.Suites[0]
	if doc.Tests != 3 || doc.Fails != 1 || doc.Errors != 1 || s.Time != "1.500" {
		t.Fatalf("tests=%d failures=%d errors=%d time=%s", doc.Tests, doc.Fails, doc.Errors, s.Time)
	}
	if s.Cases[1].Failure == nil || s.Cases[1].Failure.Message != "missing <everywhere> & more" {
		t.Fatalf("failure %+v", s.Cases[1].Failure)
	}
	if s.Cases[2].Name != "run" || s.Cases[2].Error == nil || s.Cases[2].Error.Type != "provider" {
		t.Fatalf("run case %+v", s.Cases[2])
	}
}

// TestTextClientLine: PKCE is named only where a code was exchanged.
func TestTextClientLine(t *testing.T) {
	tests := []struct {
		auth, responseType, want string
	}{
		{"none", "code", "c1 (public client, PKCE S256)\n"},
		{"client_secret_basic", "code id_token", "c1 (client_secret_basic, PKCE S256)\n"},
		{"none", "id_token token", "c1 (public client)\n"},
		{"none", "", "c1 (public client)\n"}, // a grant: no authorization request
		{"client_secret_post", "", "c1 (client_secret_post)\n"},
	}
	for _, tt := range tests {
		r := New("https://issuer.example", "x")
		r.Request = &Request{ClientID: "c1", ClientAuth: tt.auth, ResponseType: tt.responseType, ResponseMode: "query"}
		r.Finish()
		var b bytes.Buffer
		if err := r.WriteText(&b, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s %q: no %q in\n%s", tt.auth, tt.responseType, tt.want, b.String())
		}
	}
}
