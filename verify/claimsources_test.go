package verify

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

// TestClaimResolver is the resolution table of OpenID Connect Core 5.6.2:
// what counts, what is unverified, and what fails with which class.
func TestClaimResolver(t *testing.T) {
	key, other := rsaKeys()[0], rsaKeys()[1]
	ti := newIssuer(t, jwk(key, "k1", "RS256", "sig"))
	trusted := newIssuer(t, jwk(other, "k2", "RS256", "sig"))
	p := ti.discover(t)

	claimsJWT := func(k any, kid, iss string, extra map[string]any) string {
		c := map[string]any{"iss": iss, "sub": "alice", "groups": []string{"IT"}, "exp": t0.Add(time.Minute).Unix()}
		for n, v := range extra {
			c[n] = v
		}
		return sign(t, k, jose.RS256, kid, c)
	}
	const secret = "source-token-secret"
	endpoint := func(h http.HandlerFunc) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL + "/claims"
	}
	answer := func(ctype, body string) string {
		return endpoint(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+secret {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", ctype)
			w.Write([]byte(body))
		})
	}
	// The issuer's own origin serves JSON claims, trusted as userinfo is.
	ti.set(func(ti *testIssuer) {
		ti.userinfo = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"sub":"alice","groups":["IT"]}`))
		}
	})
	good := claimsJWT(key, "k1", ti.URL, nil)
	tampered := good[:len(good)-4] + "AAAA"
	if tampered == good {
		tampered = good[:len(good)-4] + "BBBB"
	}

	tests := []struct {
		name     string
		source   map[string]any
		runToken string
		graph    bool
		class    failure.Class // "" for success
		fragment string
		verified bool
		skipped  bool
		noClaims bool
	}{
		{name: "aggregated", source: map[string]any{"JWT": good}, verified: true, fragment: "aggregated claims signed by " + ti.URL},
		{name: "aggregated bad signature", source: map[string]any{"JWT": tampered}, class: failure.Verification, fragment: "claim source src1"},
		{name: "aggregated wrong iss", source: map[string]any{"JWT": claimsJWT(key, "k1", "https://evil.example", nil)}, class: failure.Verification, fragment: "neither the issuer"},
		{name: "aggregated expired", source: map[string]any{"JWT": claimsJWT(key, "k1", ti.URL, map[string]any{"exp": t0.Add(-time.Hour).Unix()})}, class: failure.Verification, fragment: "expired"},
		{name: "aggregated other sub", source: map[string]any{"JWT": claimsJWT(key, "k1", ti.URL, map[string]any{"sub": "mallory"})}, class: failure.Verification, fragment: "sub"},
		{name: "aggregated HS256", source: map[string]any{"JWT": sign(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, "", map[string]any{"iss": ti.URL})}, class: failure.Verification, fragment: "never accepted"},
		{name: "aggregated by a trusted issuer", source: map[string]any{"JWT": claimsJWT(other, "k2", trusted.URL, nil)}, verified: true, fragment: "signed by " + trusted.URL},
		{name: "aggregated issuer's key under a trusted iss", source: map[string]any{"JWT": claimsJWT(key, "k1", trusted.URL, nil)}, class: failure.Verification, fragment: "claim source src1"},
		{name: "distributed JWT", source: map[string]any{"endpoint": answer("application/jwt", good), "access_token": secret}, verified: true, fragment: "signed by"},
		{name: "distributed JWT bad signature", source: map[string]any{"endpoint": answer("application/jwt", tampered), "access_token": secret}, class: failure.Verification},
		{name: "distributed JSON elsewhere", source: map[string]any{"endpoint": answer("application/json", `{"groups":["IT"]}`), "access_token": secret}, verified: false, fragment: "unverified"},
		{name: "distributed JSON at the issuer", source: map[string]any{"endpoint": ti.URL + "/userinfo", "access_token": secret}, verified: true, fragment: "issuer's own origin"},
		{name: "distributed HTML", source: map[string]any{"endpoint": answer("text/html", "<html>login</html>"), "access_token": secret}, class: failure.Provider, fragment: "HTML"},
		{name: "distributed 500", source: map[string]any{"endpoint": endpoint(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }), "access_token": secret}, class: failure.Provider, fragment: "status 500"},
		{name: "distributed refused", source: map[string]any{"endpoint": answer("application/json", "{}"), "access_token": "wrong"}, class: failure.Flow, fragment: "status 401"},
		{name: "distributed down", source: map[string]any{"endpoint": "http://127.0.0.1:1/claims", "access_token": secret}, class: failure.Provider},
		{name: "distributed without token", source: map[string]any{"endpoint": answer("application/jwt", good)}, class: failure.Provider, fragment: "--claims-source-token"},
		{name: "distributed with the run's token", source: map[string]any{"endpoint": answer("application/jwt", good)}, runToken: secret, verified: true, fragment: "the run's access token"},
		{name: "graph skipped", source: map[string]any{"endpoint": "https://graph.microsoft.com/v1.0/me/getMemberObjects"}, runToken: secret, skipped: true, noClaims: true},
		{name: "neither", source: map[string]any{"foo": "bar"}, class: failure.Verification, fragment: "neither JWT nor endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var secrets []string
			r := &ClaimResolver{Provider: p, TrustedIssuers: []string{trusted.URL}, RunAccessToken: tt.runToken,
				AllowGraph: tt.graph, Now: func() time.Time { return t0 }, Secret: func(s string) { secrets = append(secrets, s) }}
			claims := map[string]any{"sub": "alice", "_claim_names": map[string]any{"groups": "src1"},
				"_claim_sources": map[string]any{"src1": tt.source}}
			got := r.Resolve(testCtx(t), SourceIDToken, claims)
			if len(got) != 1 {
				t.Fatalf("got %d sources, want 1", len(got))
			}
			rs := got[0]
			if tt.class != "" {
				wantFailure(t, rs.Err, tt.class, tt.fragment, secret)
				if rs.Source != nil {
					t.Errorf("failed source has claims %v", rs.Source.Claims)
				}
				return
			}
			if rs.Err != nil {
				t.Fatalf("error: %v", rs.Err)
			}
			if tt.skipped != (rs.Skipped != "") {
				t.Errorf("skipped %q, want %v", rs.Skipped, tt.skipped)
			}
			if tt.noClaims {
				if rs.Source != nil {
					t.Errorf("claims %v, want none", rs.Source.Claims)
				}
				return
			}
			if rs.Source == nil || rs.Source.Verified != tt.verified || rs.Source.Name != SourceIDToken || rs.Source.Via != rs.Kind+" src1" {
				t.Fatalf("source %+v, want verified %v", rs.Source, tt.verified)
			}
			if !strings.Contains(rs.Detail, tt.fragment) || strings.Contains(rs.Detail, secret) {
				t.Errorf("detail %q, want %q and no secret", rs.Detail, tt.fragment)
			}
			if _, ok := rs.Source.Claims["groups"]; !ok || len(rs.Source.Claims) != 1 {
				t.Errorf("claims %v, want only groups", rs.Source.Claims)
			}
			if rs.Kind == Distributed && len(secrets) != 1 {
				t.Errorf("secrets registered %d, want 1", len(secrets))
			}
		})
	}
}

// TestClaimResolverTimeout: an endpoint that does not answer is bounded by
// the client's timeout and is a failure.Provider error.
func TestClaimResolverTimeout(t *testing.T) {
	ti := newIssuer(t, jwk(rsaKeys()[0], "k1", "RS256", "sig"))
	p := ti.discover(t)
	p.client.Timeout = 300 * time.Millisecond
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(block) })
	r := &ClaimResolver{Provider: p}
	start := time.Now()
	got := r.Resolve(testCtx(t), SourceIDToken, map[string]any{"_claim_names": map[string]any{"groups": "s"},
		"_claim_sources": map[string]any{"s": map[string]any{"endpoint": srv.URL, "access_token": "x"}}})
	wantFailure(t, got[0].Err, failure.Provider, "timed out")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestEvaluateVia: a group from a resolved source is found "in id_token →
// aggregated src1", while GroupsFrom and Check.Source use the token kind.
func TestEvaluateVia(t *testing.T) {
	e := Expectations{ExpectGroups: []string{"IT"}, GroupsFrom: []string{SourceIDToken}}
	checks := e.Evaluate([]Source{
		{Name: SourceIDToken, Claims: map[string]any{"sub": "a"}, Verified: true},
		{Name: SourceIDToken, Via: "aggregated src1", Claims: map[string]any{"groups": []any{"IT"}}, Verified: true},
	})
	if len(checks) != 1 || !checks[0].OK || checks[0].Source != SourceIDToken || checks[0].Detail != "found in id_token → aggregated src1" {
		t.Fatalf("checks %+v", checks)
	}
	checks = e.Evaluate([]Source{
		{Name: SourceIDToken, Via: "distributed src1", Claims: map[string]any{"groups": []any{"IT"}}, Verified: false},
	})
	if checks[0].OK || !strings.Contains(checks[0].Detail, "unverified id_token → distributed src1") {
		t.Fatalf("checks %+v", checks)
	}
}
