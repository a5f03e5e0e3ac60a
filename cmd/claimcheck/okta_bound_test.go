package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	oktaop "github.com/claimcheck/claimcheck/internal/op/okta"
)

// newOktaBoundEnv is the Okta-shaped provider with its DPoP app, its
// Require PAR app and a "Public key / Private key" app whose key (kid k1)
// is in the returned PEM file.
func newOktaBoundEnv(t *testing.T) (*oktaEnv, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	ln.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(t.TempDir(), "okta-app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	uris := []string{redirect}
	p, err := oktaop.Start(ctx, oktaop.Options{Clients: []oktaop.Client{
		{ID: oktaop.PublicClientID, RedirectURIs: uris},
		{ID: oktaop.DPoPClientID, RedirectURIs: uris, RequireDPoP: true},
		{ID: oktaop.PARClientID, RedirectURIs: uris, RequirePAR: true},
		{ID: oktaop.JWTClientID, RedirectURIs: uris, Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &oktaEnv{p: p, redirect: redirect}, keyFile
}

// Okta's DPoP app: exactly one use_dpop_nonce round trip, then a DPoP
// token bound to the run's key; without --dpop, the refusal names --dpop.
func TestOktaDPoP(t *testing.T) {
	e, _ := newOktaBoundEnv(t)
	ga := []string{"--client-id", oktaop.DPoPClientID, "--groups-claim", "access_token:GroupsClaim"}
	code, r, stderr := e.run(t, "alice", append(ga, "--dpop", "--expect-groups", "IT")...)
	if code != 0 {
		t.Fatalf("exit %d: %s %+v\n%s", code, stderr, r.Error, failedDetails(r))
	}
	if n := e.p.Requests("/oauth2/default/v1/token"); n != 2 {
		t.Errorf("token requests %d, want 2 (use_dpop_nonce, then the tokens)", n)
	}
	if r.Request.DPoP == nil || r.Request.DPoP.JKT == "" {
		t.Errorf("request.dpop %+v", r.Request.DPoP)
	}
	found := false
	for _, c := range r.Checks {
		found = found || (c.Name == "access_token cnf.jkt" && c.OK)
	}
	if !found {
		t.Errorf("no passing cnf.jkt check: %+v", r.Checks)
	}

	code, r, _ = e.run(t, "bob", append(ga, "--dpop", "--expect-groups", "IT")...)
	if code != 1 || r.Error == nil || r.Error.Class != "expectation" {
		t.Errorf("bob: exit %d %+v", code, r.Error)
	}

	code, r, _ = e.run(t, "alice", append(ga, "--expect-groups", "IT")...)
	if code != 3 || r.Error == nil || !strings.Contains(r.Error.Message, "The DPoP proof JWT header is missing.") || !strings.Contains(r.Error.Message, "run with --dpop") {
		t.Errorf("without --dpop: exit %d %+v", code, r.Error)
	}
}

// Okta's Require PAR app: with --par the request is pushed and the browser
// gets client_id and an urn:okta: request_uri; without, Okta's refusal is
// explained.
func TestOktaPAR(t *testing.T) {
	e, _ := newOktaBoundEnv(t)
	ga := []string{"--client-id", oktaop.PARClientID, "--groups-claim", "access_token:GroupsClaim"}
	code, r, stderr := e.run(t, "alice", append(ga, "--par", "--expect-groups", "IT")...)
	if code != 0 {
		t.Fatalf("exit %d: %s %+v\n%s", code, stderr, r.Error, failedDetails(r))
	}
	if p := r.Request.PAR; p == nil || !strings.HasPrefix(p.RequestURI, "urn:okta:") || p.ExpiresIn != 600 {
		t.Errorf("request.par %+v", r.Request.PAR)
	}
	if n := e.p.Requests("/oauth2/default/v1/par"); n != 1 {
		t.Errorf("PAR requests %d, want 1", n)
	}
	code, r, _ = e.run(t, "bob", append(ga, "--par", "--expect-groups", "IT")...)
	if code != 1 || r.Error == nil || r.Error.Class != "expectation" {
		t.Errorf("bob: exit %d %+v", code, r.Error)
	}
	code, r, _ = e.run(t, "alice", append(ga, "--expect-groups", "IT")...)
	if code != 3 || r.Error == nil || !strings.Contains(r.Error.Message, "run again with --par") {
		t.Errorf("without --par: exit %d %+v", code, r.Error)
	}
}

// Okta's "Public key / Private key" app: the assertion's aud is the URL of
// the endpoint called by default (token, PAR) and passes; aud the issuer is refused with Okta's
// words and claimcheck's explanation, exit 3, the key never shown.
func TestOktaPrivateKeyJWT(t *testing.T) {
	e, keyFile := newOktaBoundEnv(t)
	ga := []string{"--client-id", oktaop.JWTClientID, "--client-auth", "private_key_jwt", "--client-key", keyFile, "--client-key-id", "k1",
		"--groups-claim", "access_token:GroupsClaim"}
	code, r, stderr := e.run(t, "alice", append(ga, "--expect-groups", "IT")...)
	if code != 0 {
		t.Fatalf("exit %d: %s %+v\n%s", code, stderr, r.Error, failedDetails(r))
	}
	if ca := r.Request.ClientAssertion; ca == nil || ca.Audience != e.p.Issuer("default")+"/v1/token" || ca.Alg != "ES256" || ca.KeyID != "k1" {
		t.Errorf("request.client_assertion %+v", r.Request.ClientAssertion)
	}
	code, r, _ = e.run(t, "bob", append(ga, "--expect-groups", "IT")...)
	if code != 1 {
		t.Errorf("bob: exit %d %+v", code, r.Error)
	}
	// Okta checks the aud on /par too: the pushed request's assertion
	// names the PAR endpoint, the token request's the token endpoint.
	code, r, stderr = e.run(t, "alice", append(ga, "--par", "--expect-groups", "IT")...)
	if code != 0 {
		t.Errorf("--par: exit %d: %s %+v", code, stderr, r.Error)
	}
	code, r, _ = e.run(t, "alice", append(ga, "--par", "--client-assertion-aud", "token_endpoint", "--expect-groups", "IT")...)
	if code != 3 || r.Error == nil || !strings.Contains(r.Error.Message, "The audience claim for client_assertion must be the endpoint invoked for the request.") {
		t.Errorf("--par with aud the token endpoint: exit %d %+v", code, r.Error)
	}
	code, r, stderr = e.run(t, "alice", append(ga, "--client-assertion-aud", "issuer", "--expect-groups", "IT")...)
	if code != 3 || r.Error == nil || r.Error.Class != "flow" ||
		!strings.Contains(r.Error.Message, "The audience claim for client_assertion must be the endpoint invoked for the request.") ||
		!strings.Contains(r.Error.Message, "--client-assertion-aud endpoint") {
		t.Errorf("aud issuer: exit %d %+v", code, r.Error)
	}
	pem, _ := os.ReadFile(keyFile)
	body := strings.Split(strings.TrimSpace(string(pem)), "\n")[1]
	if strings.Contains(stderr, body) || strings.Contains(r.Error.Message, body) {
		t.Error("the key file's content is in the output")
	}
}
