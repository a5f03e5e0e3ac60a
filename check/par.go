package check

import (
	"regexp"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// parConfig sets fc's pushed authorization request (RFC 9126), resource
// indicators (RFC 8707) and authorization details (RFC 9396) from c and
// the metadata: the request is pushed when c.PAR asks for it or the
// metadata says require_pushed_authorization_requests. Asked for, PAR needs
// the endpoint in the metadata: a failure.Usage error without it, before
// anything is sent; required but without an endpoint, the metadata
// contradicts itself, a failure.Provider error.
func (c Config) parConfig(md verify.Metadata, fc *flow.Config) error {
	fc.Resources = c.Resources
	fc.AuthorizationDetails = c.AuthorizationDetails
	fc.PushedAuthorizationRequestEndpoint = md.PushedAuthorizationRequestEndpoint
	fc.PushAuthorizationRequest = c.PAR || md.RequirePushedAuthorizationRequests
	if !fc.PushAuthorizationRequest || md.PushedAuthorizationRequestEndpoint != "" {
		return nil
	}
	if c.PAR {
		return failure.New(failure.Usage, "--par", "the provider's metadata has no pushed_authorization_request_endpoint, so the request cannot be pushed")
	}
	return failure.New(failure.Provider, "discovery", "the provider's metadata says require_pushed_authorization_requests but has no pushed_authorization_request_endpoint")
}

// parNote says, for the report, that the request was pushed without being
// asked to; "" otherwise.
func (c Config) parNote(md verify.Metadata) string {
	if c.PAR || !md.RequirePushedAuthorizationRequests {
		return ""
	}
	return "the provider's metadata says require_pushed_authorization_requests, so the authorization request was pushed (RFC 9126) without --par"
}

// parReport is the report's view of fc's pushed authorization request,
// nil when the request is not pushed; the request_uri is added once the
// push succeeded.
func parReport(fc flow.Config, md verify.Metadata) *report.PushedRequest {
	if !fc.PushAuthorizationRequest {
		return nil
	}
	return &report.PushedRequest{
		Endpoint: verify.DisplayURL(fc.PushedAuthorizationRequestEndpoint),
		Required: md.RequirePushedAuthorizationRequests,
	}
}

// parRequired matches an error description that asks for pushed
// authorization requests: oidc-provider's "Pushed Authorization Request
// must be used", Keycloak's, Okta's "PAR is required".
var parRequired = regexp.MustCompile(`(?i)pushed[ _-]?authori[sz]ation[ _-]?request|\bPAR\b`)

// explainPAR adds to a provider's error response that asks for a pushed
// request (at the authorization endpoint, which answers with error= in
// the redirect), when the request was not pushed, how to push it.
func explainPAR(err error, fc flow.Config, md verify.Metadata) error {
	if err == nil || fc.PushAuthorizationRequest || failure.ClassOf(err) != failure.Flow {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, "error=") || !parRequired.MatchString(msg) {
		return err
	}
	how := "run again with --par"
	if md.PushedAuthorizationRequestEndpoint == "" {
		how = "but its metadata has no pushed_authorization_request_endpoint for --par to use"
	}
	why := ""
	if !md.RequirePushedAuthorizationRequests {
		why = " (its metadata does not say require_pushed_authorization_requests, so the client's registration must: claimcheck pushes only when asked or told)"
	}
	return failure.New(failure.ClassOf(err), "", "%w; the provider wants this client's authorization requests pushed (RFC 9126)%s: %s", err, why, how)
}

// authorizationDetails is s as JSON for the report, nil when empty.
func authorizationDetails(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}
