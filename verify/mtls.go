package verify

import "net/http"

// MTLSEndpointAliases is the mtls_endpoint_aliases member of the metadata
// (RFC 8705 §5): where each endpoint is for a client that presents a TLS
// certificate. An empty field means the conventional endpoint serves
// mutual TLS too.
type MTLSEndpointAliases struct {
	TokenEndpoint                      string `json:"token_endpoint,omitempty"`
	RevocationEndpoint                 string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint              string `json:"introspection_endpoint,omitempty"`
	DeviceAuthorizationEndpoint        string `json:"device_authorization_endpoint,omitempty"`
	UserinfoEndpoint                   string `json:"userinfo_endpoint,omitempty"`
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	RegistrationEndpoint               string `json:"registration_endpoint,omitempty"`
	BackchannelAuthenticationEndpoint  string `json:"backchannel_authentication_endpoint,omitempty"`
}

// fields lists the aliases with their metadata names.
func (a *MTLSEndpointAliases) fields() []struct{ field, url string } {
	return []struct{ field, url string }{
		{"token_endpoint", a.TokenEndpoint},
		{"revocation_endpoint", a.RevocationEndpoint},
		{"introspection_endpoint", a.IntrospectionEndpoint},
		{"device_authorization_endpoint", a.DeviceAuthorizationEndpoint},
		{"userinfo_endpoint", a.UserinfoEndpoint},
		{"pushed_authorization_request_endpoint", a.PushedAuthorizationRequestEndpoint},
		{"registration_endpoint", a.RegistrationEndpoint},
		{"backchannel_authentication_endpoint", a.BackchannelAuthenticationEndpoint},
	}
}

// checkMTLSAliases applies checkEndpoints' rules to the aliases, https
// only whatever the issuer's scheme: mutual TLS needs TLS.
func checkMTLSAliases(a *MTLSEndpointAliases) *MetadataError {
	if a == nil {
		return nil
	}
	for _, e := range a.fields() {
		if e.url == "" {
			continue
		}
		if reason := endpointProblem(e.url, "https"); reason != "" {
			return &MetadataError{Field: "mtls_endpoint_aliases." + e.field, Reason: reason}
		}
	}
	return nil
}

// WithMTLSAliases is md with each endpoint that mtls_endpoint_aliases
// names replaced by its alias, as a client presenting a TLS certificate
// must use them (RFC 8705 §5), and the names of the endpoints replaced
// (token_endpoint, ...), in the order of RFC 8705's list.
func (md Metadata) WithMTLSAliases() (Metadata, []string) {
	a := md.MTLSEndpointAliases
	if a == nil {
		return md, nil
	}
	var used []string
	for _, e := range []struct {
		field string
		alias string
		dst   *string
	}{
		{"token_endpoint", a.TokenEndpoint, &md.TokenEndpoint},
		{"revocation_endpoint", a.RevocationEndpoint, &md.RevocationEndpoint},
		{"introspection_endpoint", a.IntrospectionEndpoint, &md.IntrospectionEndpoint},
		{"device_authorization_endpoint", a.DeviceAuthorizationEndpoint, &md.DeviceAuthorizationEndpoint},
		{"userinfo_endpoint", a.UserinfoEndpoint, &md.UserinfoEndpoint},
		{"pushed_authorization_request_endpoint", a.PushedAuthorizationRequestEndpoint, &md.PushedAuthorizationRequestEndpoint},
	} {
		if e.alias != "" && e.alias != *e.dst {
			*e.dst = e.alias
			used = append(used, e.field)
		}
	}
	return md, used
}

// WithMTLS is a view of p for requests that present a TLS client
// certificate: its Introspect and UserInfo go to the mtls_endpoint_aliases
// (WithMTLSAliases) through client, which presents the certificate (see
// internal/httpclient's WithCertificate). Keys stay p's, fetched through
// p's own client.
func (p *Provider) WithMTLS(client *http.Client) *Provider {
	q := *p
	q.meta, _ = p.meta.WithMTLSAliases()
	q.client = client
	return &q
}
