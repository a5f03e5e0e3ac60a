package check_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/report"
)

// wantCounts asserts the number of requests to each endpoint named.
func wantCounts(want map[hostile.Endpoint]int64) func(*testing.T, *hostile.Server, *report.Report) {
	return func(t *testing.T, s *hostile.Server, _ *report.Report) {
		for e, n := range want {
			if got := s.Count(e); got != n {
				t.Errorf("%s requests: %d, want %d", e, got, n)
			}
		}
	}
}

func all(checks ...func(*testing.T, *hostile.Server, *report.Report)) func(*testing.T, *hostile.Server, *report.Report) {
	return func(t *testing.T, s *hostile.Server, r *report.Report) {
		for _, c := range checks {
			c(t, s, r)
		}
	}
}

var (
	clientKeyOnce sync.Once
	clientKeyPath string
)

// hostileClientKey is a private_key_jwt key (kid k-hostile) in a PEM file
// that no provider has registered. The file is made once per process, in
// its own temporary directory.
func hostileClientKey() *flow.ClientKey {
	clientKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		dir, err := os.MkdirTemp("", "claimcheck-hostile-key")
		if err != nil {
			panic(err)
		}
		clientKeyPath = filepath.Join(dir, "client.pem")
		if err := os.WriteFile(clientKeyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			panic(err)
		}
	})
	ck, err := flow.LoadClientKey(clientKeyPath, "k-hostile")
	if err != nil {
		panic(err)
	}
	return ck
}

// otherJKT is the thumbprint of a key that is not the run's DPoP key.
func otherJKT() string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pk, _ := k.PublicKey.ECDH()
	raw := pk.Bytes() // 0x04 || X || Y
	return hostile.JWKThumbprint(map[string]any{
		"kty": "EC", "crv": "P-256",
		"x": b64url(raw[1:33]), "y": b64url(raw[33:]),
	})
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// clientCases are the hostile cases of issue 13's client features: a
// pushed authorization request endpoint that fails, DPoP nonces without
// end and tokens bound to another key, a client key the provider refuses.
// Each asserts the requests every endpoint got.
func clientCases() []hostileCase {
	par := func(o hostile.Options) hostile.Options { o.PAR = true; return o }
	parBreak := func(b hostile.Breakage) hostile.Options {
		return par(hostile.Options{Break: map[hostile.Endpoint]hostile.Breakage{hostile.PAREndpoint: b}})
	}
	// A failed push: nothing reaches the browser or the token endpoint.
	noFront := wantCounts(map[hostile.Endpoint]int64{hostile.PAREndpoint: 1, hostile.AuthorizeEndpoint: 0, hostile.TokenEndpoint: 0, hostile.UserInfoEndpoint: 0})
	const ref = "RFC 9126 2.2 / 2.3"
	cases := []hostileCase{
		{name: "PAR baseline: pushed, request_uri reported", ref: "RFC 9126 4", responseType: "code", par: true, opts: par(hostile.Options{}),
			check: all(wantCounts(map[hostile.Endpoint]int64{hostile.PAREndpoint: 1, hostile.AuthorizeEndpoint: 1, hostile.TokenEndpoint: 1}),
				func(t *testing.T, _ *hostile.Server, r *report.Report) {
					if p := r.Request.PAR; p == nil || !strings.HasPrefix(p.RequestURI, "urn:ietf:params:oauth:request_uri:") || p.ExpiresIn != 60 {
						t.Errorf("request.par = %+v, want the request_uri and expires_in", p)
					}
				})},
		{name: "PAR endpoint answers 400 invalid_request", ref: ref, responseType: "code", par: true, opts: parBreak(hostile.OAuthError400),
			wantClass: failure.Flow, wantMsg: "invalid_request", noListener: true, check: all(noFront, wantInMessage("pushed authorization request"))},
		{name: "PAR endpoint answers 500", ref: ref, responseType: "code", par: true, opts: parBreak(hostile.Status500),
			wantClass: failure.Provider, wantMsg: "pushed authorization request", noListener: true, check: noFront},
		{name: "PAR endpoint never answers", ref: ref + " / RFC 9700 4.15", responseType: "code", par: true, opts: parBreak(hostile.Hang),
			httpTimeout: 300 * time.Millisecond, wantClass: failure.Provider, wantMsg: "no answer in time", noListener: true, check: noFront},
		{name: "PAR answer without request_uri", ref: ref, responseType: "code", par: true,
			opts:      par(hostile.Options{PARResponse: func(m map[string]any) { delete(m, "request_uri") }}),
			wantClass: failure.Provider, wantMsg: "no request_uri", noListener: true, check: noFront},
		{name: "PAR answer without expires_in", ref: ref, responseType: "code", par: true,
			opts:      par(hostile.Options{PARResponse: func(m map[string]any) { delete(m, "expires_in") }}),
			wantClass: failure.Provider, wantMsg: "expires_in", noListener: true, check: noFront},
		{name: "PAR answer not JSON", ref: ref, responseType: "code", par: true,
			opts:      par(hostile.Options{PARBody: "<html>SECRET-BODY-TEXT</html>"}),
			wantClass: failure.Provider, wantMsg: "not json", noListener: true, check: noFront},

		{name: "DPoP baseline: bound token, cnf.jkt checked", ref: "RFC 9449 5, 6, 7", responseType: "code", dpop: true, opts: hostile.Options{DPoP: true},
			check: all(wantCounts(map[hostile.Endpoint]int64{hostile.TokenEndpoint: 1}),
				func(t *testing.T, _ *hostile.Server, r *report.Report) {
					if r.Request.DPoP == nil || r.Request.DPoP.JKT == "" {
						t.Errorf("request.dpop = %+v", r.Request.DPoP)
					}
					if !hasCheck(r, "access_token cnf.jkt", true) {
						t.Errorf("no passing cnf.jkt check: %+v", r.Checks)
					}
				})},
		{name: "DPoP nonce loop: bounded retries", ref: "RFC 9449 8", responseType: "code", dpop: true, opts: hostile.Options{DPoP: true, DPoPNonceLoop: true},
			wantClass: failure.Provider, wantMsg: "use_dpop_nonce",
			check: wantCounts(map[hostile.Endpoint]int64{hostile.TokenEndpoint: 1 + flow.DPoPNonceRetries, hostile.UserInfoEndpoint: 0})},
		{name: "DPoP access token cnf.jkt of another key", ref: "RFC 9449 6.1", responseType: "code", dpop: true,
			opts:      hostile.Options{DPoP: true, AccessToken: claim("cnf", map[string]any{"jkt": otherJKT()})},
			wantClass: failure.Verification, wantMsg: "bound to another key",
			check: all(wantCounts(map[hostile.Endpoint]int64{hostile.TokenEndpoint: 1, hostile.UserInfoEndpoint: 0}),
				func(t *testing.T, _ *hostile.Server, r *report.Report) {
					if !hasCheck(r, "access_token cnf.jkt", false) {
						t.Errorf("no failing cnf.jkt check: %+v", r.Checks)
					}
				})},
		{name: "DPoP introspection cnf.jkt of another key", ref: "RFC 9449 6.2 / RFC 7662", responseType: "code", dpop: true, clientAuth: "client_secret_basic",
			opts: hostile.Options{DPoP: true, AccessToken: header("alg", "none"),
				Introspection: func(m map[string]any) { m["cnf"] = map[string]any{"jkt": otherJKT()} }},
			wantClass: failure.Verification, wantMsg: "bound to another key",
			check: all(wantCounts(map[hostile.Endpoint]int64{hostile.TokenEndpoint: 1, hostile.IntrospectionEndpoint: 1, hostile.UserInfoEndpoint: 0}),
				func(t *testing.T, _ *hostile.Server, r *report.Report) {
					if !hasCheck(r, "introspection cnf.jkt", false) {
						t.Errorf("no failing introspection cnf.jkt check: %+v", r.Checks)
					}
				})},

		{name: "private_key_jwt: the provider refuses the key (invalid_client)", ref: "RFC 7523 3 / RFC 6749 5.2", responseType: "code", clientKey: hostileClientKey(),
			opts:      hostile.Options{Break: map[hostile.Endpoint]hostile.Breakage{hostile.TokenEndpoint: hostile.InvalidClient}},
			wantClass: failure.Flow, wantMsg: "invalid_client",
			check: all(wantCounts(map[hostile.Endpoint]int64{hostile.TokenEndpoint: 1, hostile.UserInfoEndpoint: 0}),
				wantInMessage("--client-key "+clientKeyPath), wantInMessage(`RS256, kid "k-hostile"`), wantInMessage("registered JWKS"),
				func(t *testing.T, _ *hostile.Server, r *report.Report) {
					if ca := r.Request.ClientAssertion; ca == nil || ca.KeyID != "k-hostile" || ca.Alg != "RS256" {
						t.Errorf("request.client_assertion = %+v", ca)
					}
				})},
	}
	return cases
}

func hasCheck(r *report.Report, name string, ok bool) bool {
	for _, c := range r.Checks {
		if c.Name == name && c.OK == ok {
			return true
		}
	}
	return false
}
