package check

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/verify"
)

func TestFlowConfigRequestObject(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := keyFile(t, k, "k1")
	md := verify.Metadata{
		Issuer: "https://issuer.example", AuthorizationEndpoint: "https://issuer.example/authorize",
		TokenEndpoint: "https://issuer.example/token",
	}
	c := Config{Issuer: md.Issuer, ClientID: "web", RedirectURI: "http://127.0.0.1:8765/callback", Scopes: []string{"openid"}, RequestObject: true}
	// Without a key: a usage error naming the flag.
	if _, _, err := flowConfig(c, md, "code"); failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "--client-key") {
		t.Errorf("--request-object without a key: %v", err)
	}
	if err := preflight(c, "code"); failure.ClassOf(err) != failure.Usage {
		t.Errorf("preflight without a key: %v", err)
	}
	c.ClientKey = key
	md.RequestObjectSigningAlgValuesSupported = []string{"ES256", "PS256", "RS256"}
	fc, _, err := flowConfig(c, md, "code")
	if err != nil || !fc.RequestObject || fc.RequestObjectAlg != "PS256" || fc.ClientKey != key {
		t.Fatalf("flowConfig: alg %q, %v", fc.RequestObjectAlg, err)
	}
	if ro := requestObjectReport(fc, md); ro == nil || ro.Alg != "PS256" || ro.KeyID != "k1" || ro.Required {
		t.Errorf("report %+v", ro)
	}
	if c.requestObjectNote(md) != "" {
		t.Error("note although --request-object was given")
	}
	// An algorithm the key cannot sign: a usage error naming the field.
	md.RequestObjectSigningAlgValuesSupported = []string{"ES256", "none"}
	if _, _, err := flowConfig(c, md, "code"); failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "request_object_signing_alg_values_supported") {
		t.Errorf("no common alg: %v", err)
	}
	// Required by the metadata: signed without asking, and said so.
	md.RequestObjectSigningAlgValuesSupported = nil
	md.RequireSignedRequestObject = true
	c.RequestObject = false
	fc, _, err = flowConfig(c, md, "code")
	if err != nil || !fc.RequestObject || fc.RequestObjectAlg != "RS256" {
		t.Errorf("required: alg %q, %v", fc.RequestObjectAlg, err)
	}
	if !strings.Contains(c.requestObjectNote(md), "without --request-object") {
		t.Errorf("note %q", c.requestObjectNote(md))
	}
	if ro := requestObjectReport(fc, md); ro == nil || !ro.Required {
		t.Errorf("report %+v", ro)
	}
	c.ClientKey = nil
	if _, _, err := flowConfig(c, md, "code"); failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "require_signed_request_object") {
		t.Errorf("required without a key: %v", err)
	}
}

func TestExplainRequestObject(t *testing.T) {
	refused := failure.New(failure.Flow, "authorization response", "the provider returned %w", errors.New(`error=invalid_request error_description="Request Object must be used by this client"`))
	got := explainRequestObject(refused, flow.Config{})
	if failure.ClassOf(got) != failure.Flow || !strings.Contains(got.Error(), "run again with --request-object") || !errors.Is(got, refused) {
		t.Errorf("explained: %v", got)
	}
	if got := explainRequestObject(refused, flow.Config{RequestObject: true}); got != refused {
		t.Errorf("explained although sent: %v", got)
	}
	other := failure.New(failure.Flow, "authorization response", "the provider returned %w", errors.New(`error=access_denied`))
	if got := explainRequestObject(other, flow.Config{}); got != other {
		t.Errorf("explained another error: %v", got)
	}
}
