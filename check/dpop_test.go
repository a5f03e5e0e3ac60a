package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

func TestCheckTokenTypeDPoP(t *testing.T) {
	for _, tc := range []struct {
		tokenType string
		dpop      bool
		ok        bool
		want      string
	}{
		{"Bearer", false, true, ""},
		{"", false, true, ""},
		{"DPoP", false, false, "--dpop"},
		{"DPoP", true, true, ""},
		{"dpop", true, true, ""},
		{"Bearer", true, false, "not bound"},
		{"", true, false, "not bound"},
		{"mac", false, false, "not Bearer"},
	} {
		err := checkTokenType("token endpoint", tc.tokenType, tc.dpop)
		if (err == nil) != tc.ok {
			t.Errorf("%q dpop=%v: err = %v, want ok %v", tc.tokenType, tc.dpop, err, tc.ok)
			continue
		}
		if err != nil && (failure.ClassOf(err) != failure.Verification || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q dpop=%v: err = %v, want a verification error saying %q", tc.tokenType, tc.dpop, err, tc.want)
		}
	}
}

func TestCheckCnf(t *testing.T) {
	k, err := flow.NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := flow.NewDPoPKey()
	for name, tc := range map[string]struct {
		claims map[string]any
		ok     bool
	}{
		"match":    {map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}}, true},
		"mismatch": {map[string]any{"cnf": map[string]any{"jkt": other.Thumbprint()}}, false},
		"missing":  {map[string]any{"sub": "alice"}, false},
	} {
		r := report.New("https://issuer.example", "code")
		err := checkCnf(r, report.AccessToken, tc.claims, k)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", name, err, tc.ok)
		}
		if err != nil && failure.ClassOf(err) != failure.Verification {
			t.Errorf("%s: class %v, want verification (exit 4)", name, failure.ClassOf(err))
		}
		if len(r.Checks) != 1 || r.Checks[0].OK != tc.ok {
			t.Errorf("%s: checks = %+v", name, r.Checks)
		}
	}
}

func TestExplainDPoP(t *testing.T) {
	base := failure.New(failure.Flow, "token endpoint", "%w", &flow.ErrorResponse{Code: "invalid_dpop_proof"})
	err := explainDPoP(base, flow.Config{}, verify.Metadata{})
	if !strings.Contains(err.Error(), "--dpop") || failure.ClassOf(err) != failure.Flow {
		t.Errorf("err = %v, want a flow error naming --dpop", err)
	}
	var oe *flow.ErrorResponse
	if !errors.As(err, &oe) {
		t.Error("the explanation lost the error response")
	}
	k, _ := flow.NewDPoPKey()
	if got := explainDPoP(base, flow.Config{DPoPKey: k}, verify.Metadata{}); got != base {
		t.Errorf("with a key: %v, want the error unchanged", got)
	}
	grant := failure.New(failure.Flow, "token endpoint", "%w", &flow.ErrorResponse{Code: "invalid_grant"})
	if got := explainDPoP(grant, flow.Config{}, verify.Metadata{}); got != grant {
		t.Errorf("invalid_grant, no DPoP offered: %v, want the error unchanged", got)
	}
	got := explainDPoP(grant, flow.Config{}, verify.Metadata{DPoPSigningAlgValuesSupported: []string{"ES256"}})
	if !strings.Contains(got.Error(), "--dpop") {
		t.Errorf("invalid_grant, DPoP offered: %v, want --dpop named", got)
	}
}
