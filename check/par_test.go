package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/verify"
)

func TestFlowConfigPAR(t *testing.T) {
	md := verify.Metadata{
		Issuer: "https://issuer.example", AuthorizationEndpoint: "https://issuer.example/authorize",
		TokenEndpoint: "https://issuer.example/token",
	}
	c := Config{Issuer: md.Issuer, ClientID: "web", RedirectURI: "http://127.0.0.1:8765/callback", Scopes: []string{"openid"}, PAR: true}
	// Asked for without an endpoint: a usage error naming the field.
	_, _, err := flowConfig(c, md, "code")
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "pushed_authorization_request_endpoint") {
		t.Errorf("--par without an endpoint: %v", err)
	}
	md.PushedAuthorizationRequestEndpoint = "https://issuer.example/par"
	c.Resources = []string{"https://api.example/"}
	c.AuthorizationDetails = `[{"type":"t"}]`
	fc, _, err := flowConfig(c, md, "code")
	if err != nil || !fc.PushAuthorizationRequest || fc.PushedAuthorizationRequestEndpoint != md.PushedAuthorizationRequestEndpoint ||
		len(fc.Resources) != 1 || fc.AuthorizationDetails != c.AuthorizationDetails {
		t.Errorf("flowConfig: %+v, %v", fc, err)
	}
	if c.parNote(md) != "" {
		t.Error("note although --par was given")
	}
	// Required by the metadata: pushed without asking, and said so.
	c.PAR = false
	md.RequirePushedAuthorizationRequests = true
	if fc, _, err := flowConfig(c, md, "code"); err != nil || !fc.PushAuthorizationRequest {
		t.Errorf("required: %+v, %v", fc, err)
	}
	if !strings.Contains(c.parNote(md), "without --par") {
		t.Errorf("note %q", c.parNote(md))
	}
	if pr := parReport(fc, md); pr == nil || !pr.Required || pr.Endpoint != md.PushedAuthorizationRequestEndpoint {
		t.Errorf("report %+v", pr)
	}
	// Required without an endpoint: the metadata contradicts itself.
	md.PushedAuthorizationRequestEndpoint = ""
	if _, _, err := flowConfig(c, md, "code"); failure.ClassOf(err) != failure.Provider {
		t.Errorf("required without endpoint: %v", err)
	}
	// Bad authorization details: a usage error before discovery.
	c.AuthorizationDetails = `{"type":"t"}`
	if err := preflight(c, "code"); failure.ClassOf(err) != failure.Usage {
		t.Errorf("preflight: %v", err)
	}
}

func TestExplainPAR(t *testing.T) {
	md := verify.Metadata{PushedAuthorizationRequestEndpoint: "https://issuer.example/par"}
	refused := failure.New(failure.Flow, "authorization response", "the provider returned %w", errors.New(`error=invalid_request error_description="Pushed Authorization Request must be used"`))
	got := explainPAR(refused, flow.Config{}, md)
	if failure.ClassOf(got) != failure.Flow || !strings.Contains(got.Error(), "run again with --par") || !strings.Contains(got.Error(), "RFC 9126") {
		t.Errorf("explained: %v", got)
	}
	if got := explainPAR(refused, flow.Config{PushAuthorizationRequest: true}, md); got != refused {
		t.Errorf("explained although pushed: %v", got)
	}
	other := failure.New(failure.Flow, "authorization response", "the provider returned %w", errors.New(`error=access_denied`))
	if got := explainPAR(other, flow.Config{}, md); got != other {
		t.Errorf("explained another error: %v", got)
	}
	if got := explainPAR(refused, flow.Config{}, verify.Metadata{}); !strings.Contains(got.Error(), "no pushed_authorization_request_endpoint") {
		t.Errorf("without endpoint: %v", got)
	}
}
