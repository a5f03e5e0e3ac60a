package claimsnap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/report"
)

func rep(id map[string]any, at map[string]any, atVerified bool) *report.Report {
	r := report.New("http://127.0.0.1", "code")
	if id != nil {
		r.Tokens[report.IDToken] = &report.Token{Verified: true, Claims: id}
	}
	if at != nil {
		r.Tokens[report.AccessToken] = &report.Token{Verified: atVerified, Claims: at}
	}
	return r
}

func TestTakeLeavesOutVolatileAndSorts(t *testing.T) {
	r := rep(map[string]any{
		"iss": "i", "sub": "alice", "iat": 1.0, "exp": 2.0, "nbf": 1.0, "auth_time": 1.0, "jti": "x",
		"nonce": "n", "at_hash": "a", "c_hash": "c", "sid": "s", "groups": []any{"IT", "Everyone"},
	}, map[string]any{"sub": "alice"}, false)
	s := Take(r)
	if len(s) != 1 {
		t.Fatalf("kinds %v, want only the verified id_token", s)
	}
	b := s.Marshal()
	var back map[string]map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	want := `{"groups":["Everyone","IT"],"iss":"i","sub":"alice"}`
	got, _ := json.Marshal(back["id_token"])
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !strings.Contains(string(b), "\n  \"id_token\": {\n") {
		t.Errorf("not readable (indented) JSON:\n%s", b)
	}
}

func TestCompare(t *testing.T) {
	base := map[string]any{"sub": "alice", "email": "a@x", "groups": []any{"Everyone", "IT"}, "iat": 1.0}
	snap := Take(rep(base, nil, false))
	tests := []struct {
		name  string
		id    map[string]any
		at    map[string]any
		fails []string
	}{
		{"same, volatile differs, order differs", map[string]any{"sub": "alice", "email": "a@x", "groups": []any{"IT", "Everyone"}, "iat": 9.0}, nil, nil},
		{"group removed and added", map[string]any{"sub": "alice", "email": "a@x", "groups": []any{"Everyone", "Admins"}}, nil,
			[]string{`groups "IT" removed`, `groups "Admins" added`}},
		{"claim changed", map[string]any{"sub": "alice", "email": "b@x", "groups": []any{"Everyone", "IT"}}, nil, []string{`"email" changed from "a@x" to "b@x"`}},
		{"claim removed and added", map[string]any{"sub": "alice", "name": "A", "groups": []any{"Everyone", "IT"}}, nil,
			[]string{`claim "email" removed`, `claim "name" added`}},
		{"token kind added", base, map[string]any{"sub": "alice"}, []string{"access_token added"}},
		{"token kind removed", nil, nil, []string{"id_token removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rep(tt.id, tt.at, true)
			checks := Compare(snap, r)
			var fails []string
			for _, c := range checks {
				if !c.OK {
					fails = append(fails, c.Detail)
				}
			}
			if len(fails) != len(tt.fails) {
				t.Fatalf("failed checks %q, want %d mentioning %q", fails, len(tt.fails), tt.fails)
			}
			for i, f := range tt.fails {
				if !strings.Contains(fails[i], f) {
					t.Errorf("check %q, want it to mention %q", fails[i], f)
				}
			}
			if len(tt.fails) == 0 && (len(checks) != 1 || !checks[0].OK) {
				t.Errorf("checks %+v, want one passing", checks)
			}
		})
	}
}

func TestLoadBad(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"notjson": "{", "array": "[]", "nullkind": `{"id_token": null}`} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := Load(p); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err %v, want a one-line error", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
	p := filepath.Join(dir, "ok.json")
	if err := Take(rep(map[string]any{"sub": "a"}, nil, false)).Save(p); err != nil {
		t.Fatal(err)
	}
	if s, err := Load(p); err != nil || s["id_token"]["sub"] != "a" {
		t.Fatalf("round trip: %v %v", s, err)
	}
}
