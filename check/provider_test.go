package check_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	oktaop "github.com/claimcheck/claimcheck/internal/op/okta"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// missing returns the details of the failed checks.
func missing(r *report.Report) string {
	var d []string
	for _, c := range r.Checks {
		if !c.OK {
			d = append(d, c.Name+": "+c.Detail)
		}
	}
	return strings.Join(d, "\n")
}

// The report names the provider: recognised (the demo is no provider
// claimcheck knows), named by ProviderKind, whose diagnosis then explains a
// missing group, or turned off.
func TestRunNamesProvider(t *testing.T) {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	run := func(kind string) (*report.Report, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return check.Run(ctx, check.Config{
			Issuer: p.Issuer(), ClientID: demo.PublicClientID, RedirectURI: "http://127.0.0.1:0/callback",
			Scopes:       []string{"openid", "groups"},
			Expect:       verify.Expectations{ExpectGroups: []string{"IT"}},
			Opener:       &check.HeadlessBrowser{Username: "bob", Password: "bob-demo"},
			HTTPClient:   &http.Client{Timeout: 10 * time.Second},
			Timeout:      20 * time.Second,
			ProviderKind: kind,
		})
	}

	r, _ := run("")
	if r.Provider == nil || r.Provider.Name != "generic" || !strings.Contains(r.Provider.Why, "neither the issuer nor the discovery metadata") {
		t.Fatalf("provider %+v", r.Provider)
	}
	if d := missing(r); d != "group IT: missing everywhere; present: id_token.groups [Everyone]; access_token.groups [Everyone]" {
		t.Errorf("a generic provider's diagnosis: %s", d)
	}

	r, _ = run("keycloak")
	if r.Provider == nil || r.Provider.Name != "keycloak" || !strings.Contains(r.Provider.Why, "named in the configuration") {
		t.Fatalf("provider %+v", r.Provider)
	}
	// bob has a groups claim without IT: no mapper is missing.
	if d := missing(r); !strings.Contains(d, "group IT: missing everywhere") || strings.Contains(d, "Group Membership mapper") {
		t.Errorf("keycloak's diagnosis: %s", d)
	}

	r, err = run("keycloack")
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), `unknown provider "keycloack"`) || !strings.Contains(err.Error(), "did you mean keycloak?") {
		t.Fatalf("unknown provider: %v", err)
	}
	if r.Request != nil || r.Provider != nil {
		t.Errorf("something was sent: %+v", r.Request)
	}
}

// An Okta org on a custom URL domain (here loopback: nothing in the host is
// Okta's) is recognised by its endpoints and gets Okta's diagnosis without
// being told it is Okta.
func TestRunRecognisesOktaOnCustomDomain(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := oktaop.Start(ctx, oktaop.Options{
		Clients: []oktaop.Client{{ID: oktaop.PublicClientID, RedirectURIs: []string{redirect}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cfg := check.Config{
		Issuer: p.OrgIssuer(), ClientID: oktaop.PublicClientID, RedirectURI: redirect,
		Flow: "implicit", Scopes: []string{"openid"},
		Expect:     verify.Expectations{ExpectGroups: []string{"IT"}},
		Opener:     &check.HeadlessBrowser{Username: "alice", Password: "alice-okta"},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Timeout:    20 * time.Second,
	}
	r, err := check.Run(ctx, cfg)
	if failure.ClassOf(err) != failure.Expectation {
		t.Fatalf("class %s: %v\n%s", failure.ClassOf(err), err, missing(r))
	}
	if r.Provider == nil || r.Provider.Name != "okta" || !strings.Contains(r.Provider.Why, "the org authorization server on a custom URL domain") {
		t.Fatalf("provider %+v", r.Provider)
	}
	if d := missing(r); !strings.Contains(d, "the groups scope was not requested") {
		t.Errorf("no Okta diagnosis: %s", d)
	}

	// Turned off, the same run says only what the claims show.
	cfg.ProviderKind = "generic"
	r, _ = check.Run(ctx, cfg)
	if r.Provider == nil || r.Provider.Name != "generic" || !strings.Contains(r.Provider.Why, "looks like Okta's") {
		t.Fatalf("provider %+v", r.Provider)
	}
	if d := missing(r); strings.Contains(d, "groups scope") {
		t.Errorf("Okta's diagnosis with the provider turned off: %s", d)
	}
}
