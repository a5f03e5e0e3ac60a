package check

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/report"
)

// Grant selects a non-interactive grant and carries its secrets.
type Grant struct {
	// Type is flow.GrantRefreshToken, flow.GrantPassword,
	// flow.GrantClientCredentials, flow.GrantDeviceCode or
	// flow.GrantTokenExchange; empty means the browser flow of
	// Config.Flow.
	Type         string
	RefreshToken string
	Username     string
	Password     string
	// DeviceShow shows the device grant's verification URI and user code
	// (and may open a browser); required for flow.GrantDeviceCode.
	DeviceShow func(ctx context.Context, da *flow.DeviceAuthorization) error
	// Exchange is the request of flow.GrantTokenExchange; its Resources
	// are Config.Resources. The issued token is verified as what its
	// issued_token_type says, and every audience asked for must be in
	// its aud.
	Exchange flow.TokenExchange
}

// grantTypeNames maps claimcheck's grant names to the grant_type values a
// provider's grant_types_supported lists.
var grantTypeNames = map[string]string{
	flow.GrantRefreshToken:      "refresh_token",
	flow.GrantPassword:          "password",
	flow.GrantClientCredentials: "client_credentials",
	flow.GrantDeviceCode:        "urn:ietf:params:oauth:grant-type:device_code",
	flow.GrantTokenExchange:     flow.TokenExchangeGrantType,
}

// runGrant obtains tokens with c.Grant and verifies and checks them exactly
// as Run does those of a browser flow, except that no nonce was sent.
func runGrant(ctx context.Context, c Config) *report.Report {
	g := c.Grant
	r := report.New(c.Issuer, g.Type)
	want, ok := grantTypeNames[g.Type]
	if !ok {
		return finish(r, failure.New(failure.Usage, "--grant", "unknown grant %q (want refresh_token, password, client_credentials, device_code or token_exchange)", g.Type), c)
	}
	if err := c.checkProviderKind(); err != nil {
		return finish(r, err, c)
	}
	if err := c.ClaimSources.check(); err != nil {
		return finish(r, err, c)
	}
	p, err := c.discover(ctx)
	if err != nil {
		return finish(r, err, c)
	}
	c.recognise(r, p.Metadata())
	md, aliased := c.metadata(p)
	if note := aliasNote(aliased); note != "" {
		r.Notes = append(r.Notes, note)
	}
	if g.Type == flow.GrantTokenExchange {
		// Providers offer it without listing it: said, not refused.
		if note := exchangeGrantNote(md); note != "" {
			r.Notes = append(r.Notes, note)
		}
	} else if len(md.GrantTypesSupported) > 0 && !slices.Contains(md.GrantTypesSupported, want) {
		return finish(r, failure.New(failure.Usage, "--grant", "the provider does not offer the %s grant (it offers: %s)",
			g.Type, strings.Join(md.GrantTypesSupported, ", ")), c)
	}
	fc := flow.Config{
		Issuer: c.Issuer, TokenEndpoint: md.TokenEndpoint,
		ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Scopes: c.Scopes, HTTPClient: c.HTTPClient,
	}
	if err := c.clientAuth(md, &fc); err != nil {
		return finish(r, err, c)
	}
	r.Request = &report.Request{
		ClientID: c.ClientID, ClientAuth: fc.AuthMethod, ClientAssertion: assertionReport(fc),
		Scopes: c.Scopes, Endpoints: endpoints(md), DPoP: dpopReport(c),
		ClientCertificate: certificateReport(c, aliased),
		Grant:             g.Type,
	}
	if g.Type == flow.GrantTokenExchange {
		r.Request.TokenExchange = tokenExchangeReport(g.Exchange)
		r.Request.Resources = c.Resources
	}

	var t *flow.Tokens
	switch g.Type {
	case flow.GrantRefreshToken:
		// A refresh request asks for no scope unless told to: the scope
		// first granted is kept (RFC 6749 §6).
		fc.Scopes = refreshScopes(c.Scopes)
		t, err = flow.Refresh(ctx, fc, g.RefreshToken)
	case flow.GrantPassword:
		t, err = flow.Password(ctx, fc, g.Username, g.Password)
	case flow.GrantClientCredentials:
		t, err = flow.ClientCredentials(ctx, fc)
		var oe *flow.ErrorResponse
		if errors.As(err, &oe) && oe.Code == "invalid_scope" {
			err = failure.New(failure.Flow, "", "%w; the client_credentials grant acts for no user, so OpenID scopes have no place in it: ask for one of the authorization server's own scopes (for example --scopes api.read)", err)
		}
	case flow.GrantDeviceCode:
		t, err = flow.DeviceCode(ctx, fc, flow.DeviceOptions{
			Endpoint: md.DeviceAuthorizationEndpoint, Show: g.DeviceShow, Timeout: c.Timeout,
		})
	case flow.GrantTokenExchange:
		x := g.Exchange
		x.Resources = c.Resources
		t, err = flow.ExchangeToken(ctx, fc, x)
		err = explainTokenExchange(err, md)
	}
	if err != nil {
		return finish(r, explainDPoP(explainTLSClientAuth(explainClientAuth(err, fc), fc), fc, md), c)
	}
	v := &tokenVerifier{cfg: c, p: p, r: r, noNonce: true, noUserinfo: g.Type == flow.GrantClientCredentials}
	if v.certP, err = c.certProvider(p); err != nil {
		return finish(r, err, c)
	}
	if g.Type == flow.GrantTokenExchange {
		err = v.exchangeResponse(ctx, t, g.Exchange)
	} else {
		err = v.tokenResponse(ctx, t)
	}
	if err != nil {
		return finish(r, err, c)
	}
	return finish(r, v.conclude(ctx), c)
}

// refreshScopes drops the default "openid"-only scope so that a refresh
// keeps what was first granted; scopes given on purpose are sent.
func refreshScopes(scopes []string) []string {
	if len(scopes) == 1 && scopes[0] == "openid" {
		return nil
	}
	return scopes
}
