package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"groups", "groups", 0},
		{"Groups", "groups", 0},
		{"group", "groups", 1},
		{"gruops", "groups", 1}, // one transposition
		{"tset", "test", 1},
		{"abcd", "badc", 2},
		{"ca", "abc", 3}, // no edit of a transposed pair
		{"expect_group", "expect_groups", 1},
		{"kitten", "sitting", 3},
		{"grüppe", "gruppe", 1},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	fields := []string{"name", "issuer", "client_id", "expect_groups", "forbid_groups", "exact_groups", "user", "token"}
	tests := []struct {
		word, want string
		ok         bool
	}{
		{"expect_group", "expect_groups", true},
		{"expectgroups", "expect_groups", true},
		{"isuer", "issuer", true},
		{"clientid", "client_id", true},
		{"usr", "user", true},
		{"nam", "name", true},
		{"tokens", "token", true},
		{"tkoen", "token", true},
		{"forbid_group", "forbid_groups", true},
		{"exact_group", "exact_groups", true}, // nearer to exact_groups than expect_groups
		{"xyz", "", false},
		{"us", "", false},          // two edits from user: too far for a short word
		{"scopes_list", "", false}, // nothing near
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := Closest(tt.word, fields)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", tt.word, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHint(t *testing.T) {
	flags := []string{"expect-groups", "issuer"}
	if got := Hint("expect-group", flags, "--"); got != "; did you mean --expect-groups?" {
		t.Errorf("Hint = %q", got)
	}
	if got := Hint("colour", flags, ""); got != "" {
		t.Errorf("Hint for nothing near = %q, want empty", got)
	}
}
