package store

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientConfig is what differs between clients and providers.
type ClientConfig struct {
	ID string
	// Public: no secret; a native application authenticating with "none".
	// Otherwise a web application with client_secret_basic.
	Public          bool
	RedirectURIs    []string
	ResponseTypes   []oidc.ResponseType
	GrantTypes      []oidc.GrantType
	IDTokenLifetime time.Duration
	// LoginURL is where op sends the browser to sign in for a request.
	LoginURL func(authRequestID string) string
	// AllowScope says whether a scope beyond op's own may be granted; nil
	// allows none.
	AllowScope func(scope string) bool
}

// Client implements op.Client from a ClientConfig.
type Client struct{ cfg ClientConfig }

// NewClient returns the client configured by cfg.
func NewClient(cfg ClientConfig) *Client { return &Client{cfg: cfg} }

// GetID is the client id.
func (c *Client) GetID() string { return c.cfg.ID }

// RedirectURIs are the registered redirect URIs.
func (c *Client) RedirectURIs() []string { return slices.Clone(c.cfg.RedirectURIs) }

// PostLogoutRedirectURIs is empty.
func (c *Client) PostLogoutRedirectURIs() []string { return nil }

// ApplicationType is native for a public client, web otherwise.
func (c *Client) ApplicationType() op.ApplicationType {
	if c.cfg.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

// AuthMethod is none for a public client, client_secret_basic otherwise;
// op's token endpoint takes the secret from the header or the body alike.
func (c *Client) AuthMethod() oidc.AuthMethod {
	if c.cfg.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes are the response types the client may use.
func (c *Client) ResponseTypes() []oidc.ResponseType { return slices.Clone(c.cfg.ResponseTypes) }

// GrantTypes are the grants the client may use.
func (c *Client) GrantTypes() []oidc.GrantType { return slices.Clone(c.cfg.GrantTypes) }

// LoginURL is the sign-in page for an auth request.
func (c *Client) LoginURL(authRequestID string) string { return c.cfg.LoginURL(authRequestID) }

// AccessTokenType is JWT.
func (c *Client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// IDTokenLifetime is the configured lifetime.
func (c *Client) IDTokenLifetime() time.Duration { return c.cfg.IDTokenLifetime }

// DevMode is off.
func (c *Client) DevMode() bool { return false }

// ClockSkew is zero.
func (c *Client) ClockSkew() time.Duration { return 0 }

// IsScopeAllowed asks ClientConfig.AllowScope.
func (c *Client) IsScopeAllowed(scope string) bool {
	return c.cfg.AllowScope != nil && c.cfg.AllowScope(scope)
}

// IDTokenUserinfoClaimsAssertion is false: user claims go into the ID token.
func (c *Client) IDTokenUserinfoClaimsAssertion() bool { return false }

// RestrictAdditionalIdTokenScopes restricts nothing.
func (c *Client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// RestrictAdditionalAccessTokenScopes restricts nothing.
func (c *Client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

var (
	_ op.Client      = (*Client)(nil)
	_ op.AuthRequest = (*AuthRequest)(nil)
	_ op.SigningKey  = (*SigningKey)(nil)
	_ op.Key         = PublicKey{}
)
