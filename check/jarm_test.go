package check_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/report"
)

// jarmHostileCases run JARM (JWT Secured Authorization Response Mode)
// through the real flow: the hostile provider wraps the demo's response in
// a response JWT, and gets one thing of it wrong at a time. A bad response
// JWT must end the run before any code is redeemed.
func jarmHostileCases() []hostileCase {
	const ref = "JARM section 4.4 (processing rules)"
	v := failure.Verification
	cases := []hostileCase{
		{name: "JARM query.jwt", ref: "JARM section 2.3.1", responseType: "code", responseMode: "query.jwt",
			check: both(wantJARM("query.jwt"), wantCount(hostile.TokenEndpoint, 1))},
		{name: "JARM jwt for code is query.jwt", ref: "JARM section 2.3.4", responseType: "code", responseMode: "jwt",
			check: wantJARM("query.jwt")},
		{name: "JARM fragment.jwt, hybrid", ref: "JARM section 2.3.2", responseType: "code id_token", responseMode: "fragment.jwt",
			check: both(wantJARM("fragment.jwt"), wantCount(hostile.TokenEndpoint, 1))},
		{name: "JARM form_post.jwt", ref: "JARM section 2.3.3", responseType: "code", responseMode: "form_post.jwt",
			check: wantJARM("form_post.jwt")},
		{name: "JARM fragment.jwt, implicit", ref: "JARM section 2.3.2", responseType: "id_token token", responseMode: "fragment.jwt",
			check: wantJARM("fragment.jwt")},
		{name: "JARM signed error response", ref: "JARM section 4.1", responseType: "code", responseMode: "query.jwt",
			opts:      hostile.Options{Response: providerError("access_denied")},
			wantClass: failure.Flow, wantMsg: "error=access_denied", noBackChannel: true},
		{name: "JARM metadata without authorization_signing_alg_values_supported", ref: "JARM section 3 (RS256 by default)",
			responseType: "code", responseMode: "query.jwt",
			opts: hostile.Options{Discovery: func(d map[string]any) { delete(d, "authorization_signing_alg_values_supported") }},
			check: func(t *testing.T, s *hostile.Server, r *report.Report) {
				if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "RS256, JARM's default") }) {
					t.Errorf("no note on the default alg: %q", r.Notes)
				}
			}},
		{name: "JARM not offered", ref: "JARM section 5 / Discovery response_modes_supported",
			responseType: "code", responseMode: "query.jwt",
			opts:      hostile.Options{Discovery: func(d map[string]any) { d["response_modes_supported"] = []any{"query", "fragment"} }},
			wantClass: failure.Usage, wantMsg: "offers no jwt secured authorization response (jarm) mode", noListener: true},
	}
	for _, c := range []struct {
		name, msg string
		edit      func(*hostile.Token)
		wire      func(string) string
	}{
		{"bad signature", "signature", nil, flipSignature},
		{"alg none", `alg "none"`, header("alg", "none"), nil},
		{"HS256 keyed with the RSA public key", "hs256", header("alg", "HS256"), nil},
		{"alg not advertised (RS384)", "authorization_signing_alg_values_supported", header("alg", "RS384"), nil},
		{"wrong iss", "is not the issuer", claim("iss", "https://evil.example"), nil},
		{"wrong aud", `does not include the client "` + demo.PublicClientID + `"`, claim("aud", "another-client"), nil},
		{"expired", "expired at", claim("exp", in(-time.Hour)), nil},
		{"exp missing", "exp is missing", drop("exp"), nil},
		{"no state", "", drop("state"), nil},
		{"encrypted (JWE)", "encrypted", nil, func(s string) string { return s + ".AAAA.AAAA" }},
	} {
		hc := hostileCase{
			name: "JARM " + c.name, ref: ref, responseType: "code", responseMode: "query.jwt",
			opts:      hostile.Options{ResponseJWT: c.edit, ResponseJWTWire: c.wire},
			wantClass: v, wantMsg: c.msg, noBackChannel: true,
			check: wantCount(hostile.TokenEndpoint, 0),
		}
		if c.name == "no state" {
			hc.wantMsg = "no state claim"
		}
		cases = append(cases, hc)
	}
	return cases
}

// wantJARM checks the report of a JARM run that passed: the request says
// JARM in which mode and with which verified alg, and the response JWT is
// a verified token whose code is redacted.
func wantJARM(mode string) func(*testing.T, *hostile.Server, *report.Report) {
	return func(t *testing.T, _ *hostile.Server, r *report.Report) {
		t.Helper()
		if r.Request == nil || r.Request.JARM == nil {
			t.Fatalf("the report's request says nothing of JARM: %+v", r.Request)
		}
		if j := r.Request.JARM; j.Mode != mode || j.Alg != "RS256" || j.KeyID == "" {
			t.Errorf("request.jarm %+v, want mode %s and the verified RS256 and kid", j, mode)
		}
		tok := r.Tokens[report.ResponseJWT]
		if tok == nil || !tok.Verified || tok.Header["alg"] != "RS256" {
			t.Fatalf("response JWT in the report: %+v", tok)
		}
		if code, has := tok.Claims["code"]; has && code != "[redacted]" {
			t.Errorf("the response JWT's code is shown: %v", code)
		}
		if tok.Raw != "" {
			t.Errorf("the raw response JWT is shown without --show-tokens")
		}
	}
}

func both(checks ...func(*testing.T, *hostile.Server, *report.Report)) func(*testing.T, *hostile.Server, *report.Report) {
	return func(t *testing.T, s *hostile.Server, r *report.Report) {
		for _, c := range checks {
			c(t, s, r)
		}
	}
}
