package check

import "testing"

func TestFlowOf(t *testing.T) {
	for rt, want := range map[string]string{
		"code": "code", "id_token": "implicit", "token": "implicit", "id_token token": "implicit",
		"code id_token": "hybrid", "code token": "hybrid", "code id_token token": "hybrid",
	} {
		if got := flowOf(rt); got != want {
			t.Errorf("flowOf(%q) = %q, want %q", rt, got, want)
		}
	}
}
