package check

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// authMethod is c.AuthMethod, or without one tls_client_auth when a client
// certificate is given and no secret, else private_key_jwt when a client
// key is: the credential says how the client authenticates.
func (c Config) authMethod() string {
	if c.AuthMethod == "" && c.ClientCertificate != nil && c.ClientSecret == "" {
		return flow.AuthTLSClient
	}
	if c.AuthMethod == "" && c.ClientKey != nil {
		return flow.AuthPrivateKeyJWT
	}
	return c.AuthMethod
}

// hasCredential says whether the client can authenticate at all (to
// introspect a token): a secret, a key or a certificate.
func (c Config) hasCredential() bool {
	return c.ClientSecret != "" || c.ClientKey != nil || c.ClientCertificate != nil
}

// clientAuth resolves the client authentication against the provider's
// metadata and sets it on fc: the method, and for a client assertion the
// key, the algorithm (from token_endpoint_auth_signing_alg_values_supported),
// the audience and the hook that registers each assertion with the run's
// scrubber. Errors are failure.Usage.
func (c Config) clientAuth(md verify.Metadata, fc *flow.Config) error {
	method, err := flow.ResolveAuthMethod(c.authMethod(), c.ClientSecret, md.TokenEndpointAuthMethodsSupported)
	if err != nil {
		return err
	}
	fc.AuthMethod, fc.ClientKey, fc.AssertionAudience = method, c.ClientKey, c.AssertionAudience
	fc.ClientCertificate = c.ClientCertificate
	c.dpopConfig(fc)
	if method != flow.AuthPrivateKeyJWT && method != flow.AuthClientSecretJWT {
		return nil
	}
	if fc.AssertionAlg, err = flow.ResolveAssertionAlg(method, c.ClientKey, md.TokenEndpointAuthSigningAlgValuesSupported); err != nil {
		return err
	}
	sc := c.secrets
	fc.OnClientAssertion = func(a string) { sc.Add(scrub.Assertion, a) }
	return nil
}

// assertionReport is the report's view of fc's client assertions, nil
// when the client sends none.
func assertionReport(fc flow.Config) *report.ClientAssertion {
	if fc.AuthMethod != flow.AuthPrivateKeyJWT && fc.AuthMethod != flow.AuthClientSecretJWT {
		return nil
	}
	ca := &report.ClientAssertion{Alg: fc.AssertionAlg, Audience: fc.TokenEndpoint}
	if fc.AssertionAudience == flow.AssertionAudienceIssuer {
		ca.Audience = fc.Issuer
	}
	if fc.ClientKey != nil {
		ca.KeyID = fc.ClientKey.KeyID
	}
	return ca
}

// explainClientAuth adds to a token request's invalid_client, when the
// client sent an assertion, what the provider compares: the public key it
// holds for the client, the kid, the aud and the algorithm. A provider
// rarely says which of them it refused.
func explainClientAuth(err error, fc flow.Config) error {
	var oe *flow.ErrorResponse
	if !errors.As(err, &oe) || oe.Code != "invalid_client" {
		return err
	}
	ca := assertionReport(fc)
	if ca == nil {
		return err
	}
	// The audience is the usual culprit: Okta wants the URL of the
	// endpoint called, zitadel and others the issuer, and neither says so.
	otherFlag, otherName := flow.AssertionAudienceIssuer, "the issuer"
	if fc.AssertionAudience == flow.AssertionAudienceIssuer {
		otherFlag, otherName = flow.AssertionAudienceEndpoint, "the URL of the endpoint called"
	}
	aud := fmt.Sprintf("the audience it expects (aud %s was sent; --client-assertion-aud %s sends %s; Okta wants the URL of the endpoint called)", ca.Audience, otherFlag, otherName)
	if fc.AuthMethod == flow.AuthClientSecretJWT {
		return failure.New(failure.Flow, "", "%w; the provider refused the client assertion (client_secret_jwt, %s): check the client secret, that the client is registered for client_secret_jwt with %s, and %s",
			err, ca.Alg, ca.Alg, aud)
	}
	kid := "no kid"
	if ca.KeyID != "" {
		kid = fmt.Sprintf("kid %q", ca.KeyID)
	}
	return failure.New(failure.Flow, "", "%w; the provider refused the client assertion (private_key_jwt, %s, %s): check that the client's registered JWKS (jwks or jwks_uri) holds the public key of --client-key %s under that kid (--client-key-id sets it), that it accepts %s, and %s",
		err, ca.Alg, kid, fc.ClientKey.File, ca.Alg, aud)
}

// introspectOptions authenticate the client at the introspection endpoint
// as at the token endpoint: with a new client assertion for private_key_jwt
// and client_secret_jwt, with client_id alone for the mutual-TLS methods
// (the certificate goes with the request: Config.certProvider), else with
// the secret (client_secret_post only when
// that is the method, client_secret_basic otherwise).
func (c Config) introspectOptions(md verify.Metadata) (verify.IntrospectOptions, error) {
	fc := flow.Config{Issuer: c.Issuer, TokenEndpoint: md.TokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret}
	if err := c.clientAuth(md, &fc); err != nil {
		return verify.IntrospectOptions{}, err
	}
	o := verify.IntrospectOptions{ClientID: c.ClientID, ClientSecret: c.ClientSecret, AuthMethod: "client_secret_basic"}
	switch fc.AuthMethod {
	case flow.AuthPrivateKeyJWT, flow.AuthClientSecretJWT:
		o.AuthParams = func() (url.Values, error) { return flow.ClientAssertionParams(fc, md.IntrospectionEndpoint) }
	case flow.AuthTLSClient, flow.AuthSelfSignedTLSClient:
		// RFC 8705 §2: the certificate authenticates; client_id names
		// the client it is registered for.
		o.AuthParams = func() (url.Values, error) { return url.Values{"client_id": {c.ClientID}}, nil }
	case "client_secret_post":
		o.AuthMethod = fc.AuthMethod
	}
	return o, nil
}
