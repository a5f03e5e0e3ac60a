package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/verify"
)

// TestJSONOutcome: the JSON report's error is null only for a pass; failed
// checks make it an expectation error naming them; every token has an
// error member (null when none); a rejected token's claims are under
// unverified_claims, and claims is null.
func TestJSONOutcome(t *testing.T) {
	tests := []struct {
		name      string
		mod       func(*Report)
		wantError any // nil, or the wanted "class"
		wantMsg   string
	}{
		{"pass", func(*Report) {}, nil, ""},
		{"failed checks", func(r *Report) {
			r.AddCheck(verify.Check{Name: "group Admins", OK: false})
			r.AddCheck(verify.Check{Name: "exact groups", OK: false, Source: "id_token"})
		}, "expectation", "2 of 3 checks failed: group Admins, exact groups [id_token]"},
		{"run error", func(r *Report) {
			r.AddCheck(verify.Check{Name: "group Admins", OK: false})
			r.Fail(failure.New(failure.Verification, "ID token", "bad <sig> & more"))
		}, "verification", "ID token: bad <sig> & more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			r.Tokens[AccessToken] = &Token{Error: "access token: expired", UnverifiedClaims: map[string]any{"groups": []any{"Admins"}}}
			tt.mod(r)
			r.Finish()
			var buf bytes.Buffer
			if err := r.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			e, has := m["error"]
			if !has {
				t.Fatal("no error member")
			}
			switch {
			case tt.wantError == nil && e != nil:
				t.Errorf("error = %v, want null", e)
			case tt.wantError != nil:
				em, _ := e.(map[string]any)
				if em["class"] != tt.wantError || em["message"] != tt.wantMsg {
					t.Errorf("error = %v, want class %v message %q", e, tt.wantError, tt.wantMsg)
				}
			}
			if wantOK := tt.wantError == nil; m["ok"] != wantOK {
				t.Errorf("ok = %v", m["ok"])
			}
			tokens := m["tokens"].(map[string]any)
			id := tokens[IDToken].(map[string]any)
			if v, has := id["error"]; !has || v != nil {
				t.Errorf("id_token.error = %v (present %v), want null", v, has)
			}
			if _, has := id["unverified_claims"]; has {
				t.Error("a verified token has unverified_claims")
			}
			at := tokens[AccessToken].(map[string]any)
			if v, has := at["claims"]; !has || v != nil {
				t.Errorf("rejected access_token.claims = %v (present %v), want null", v, has)
			}
			if at["error"] != "access token: expired" || at["unverified_claims"] == nil {
				t.Errorf("rejected access token %v", at)
			}
			if strings.Contains(buf.String(), `\u003c`) {
				t.Error("HTML escaping in the JSON report")
			}
		})
	}
}
