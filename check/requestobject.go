package check

import (
	"regexp"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// requestObjectConfig sets fc's request object (RFC 9101) from c and the
// metadata: one is signed when c.RequestObject asks for it or the metadata
// says require_signed_request_object, with the client key, in the first of
// request_object_signing_alg_values_supported the key can sign. Without a
// key, or without an algorithm both sides have, it is a failure.Usage
// error before anything is sent.
func (c Config) requestObjectConfig(md verify.Metadata, fc *flow.Config) error {
	fc.RequestObject = c.RequestObject || md.RequireSignedRequestObject
	if !fc.RequestObject {
		return nil
	}
	if c.ClientKey == nil {
		if c.RequestObject {
			return failure.New(failure.Usage, "--request-object", "a request object is signed with the client key: give one (--client-key FILE)")
		}
		return failure.New(failure.Usage, "--request-object", "the provider's metadata says require_signed_request_object, and a request object is signed with the client key: give one (--client-key FILE)")
	}
	alg, err := flow.ResolveRequestObjectAlg(c.ClientKey, md.RequestObjectSigningAlgValuesSupported)
	if err != nil {
		return err
	}
	fc.ClientKey, fc.RequestObjectAlg = c.ClientKey, alg
	return nil
}

// requestObjectNote says, for the report, that the request was signed as
// a request object without being asked, because the metadata requires it.
func (c Config) requestObjectNote(md verify.Metadata) string {
	if c.RequestObject || !md.RequireSignedRequestObject {
		return ""
	}
	return "the provider's metadata says require_signed_request_object, so the authorization request was sent as a signed request object (RFC 9101) without --request-object"
}

// requestObjectReport is the report's view of fc's request object, nil
// when there is none.
func requestObjectReport(fc flow.Config, md verify.Metadata) *report.RequestObject {
	if !fc.RequestObject {
		return nil
	}
	return &report.RequestObject{Alg: fc.RequestObjectAlg, KeyID: fc.ClientKey.KeyID, Required: md.RequireSignedRequestObject}
}

// requestObjectRequired matches an error description that asks for a
// request object: oidc-provider's "Request Object must be used by this
// client", Keycloak's "Missing parameter: request".
var requestObjectRequired = regexp.MustCompile(`(?i)request[ _-]?object|parameter: request\b`)

// explainRequestObject adds to a provider's error response that asks for
// a request object (a failure.Flow error), when none was sent, how to
// send one.
func explainRequestObject(err error, fc flow.Config) error {
	if err == nil || fc.RequestObject || failure.ClassOf(err) != failure.Flow || !requestObjectRequired.MatchString(err.Error()) {
		return err
	}
	return failure.New(failure.ClassOf(err), "", "%w; the provider wants this client's authorization requests as signed request objects (RFC 9101): run again with --request-object and the client's key (--client-key FILE)", err)
}
