package verify

import (
	"errors"
	"net"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/okta"
)

// oktaOrgToken signs bob in at the Okta-shaped provider's org server with
// the web client and returns the provider and its access token.
func oktaOrgToken(t *testing.T) (*Provider, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	ln.Close()
	ctx := testCtx(t)
	op, err := okta.Start(ctx, okta.Options{Clients: []okta.Client{
		{ID: okta.WebClientID, Secret: okta.WebClientSecret, RedirectURIs: []string{redirect}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	p, err := Discover(ctx, op.OrgIssuer(), testClient(t))
	if err != nil {
		t.Fatal(err)
	}
	md := p.Metadata()
	res, err := flow.Run(ctx, flow.Config{
		Issuer: md.Issuer, AuthorizationEndpoint: md.AuthorizationEndpoint, TokenEndpoint: md.TokenEndpoint,
		ClientID: okta.WebClientID, ClientSecret: okta.WebClientSecret,
		RedirectURI: redirect, Scopes: []string{"openid", "groups"},
	}, flow.RunOptions{Opener: &standin.Browser{Username: "bob", Password: "bob-okta"}})
	if err != nil {
		t.Fatal(err)
	}
	return p, res.Tokens.AccessToken
}

// An Okta org access token is not verifiable locally and is introspected
// with the client secret instead.
func TestIntrospectOktaOrgAccessToken(t *testing.T) {
	p, at := oktaOrgToken(t)
	_, err := p.VerifyAccessToken(testCtx(t), at, AccessTokenOptions{})
	var nv *NotVerifiableError
	if !errors.As(err, &nv) {
		t.Fatalf("org access token: %v, want not verifiable locally", err)
	}
	good := IntrospectOptions{ClientID: okta.WebClientID, ClientSecret: okta.WebClientSecret}
	tests := []struct {
		name       string
		token      string
		o          IntrospectOptions
		wantActive bool
		wantClass  failure.Class
		wantFrag   string
	}{
		{name: "basic", token: at, o: good, wantActive: true},
		// The app is set up for client_secret_basic, as Okta's web apps are
		// by default, and its provider refuses another method.
		{name: "post refused", token: at, o: IntrospectOptions{ClientID: good.ClientID, ClientSecret: good.ClientSecret, AuthMethod: "client_secret_post"},
			wantClass: failure.Flow, wantFrag: "the client was refused"},
		{name: "unknown token", token: "not-a-token", o: good, wantActive: false},
		{name: "wrong secret", token: at, o: IntrospectOptions{ClientID: good.ClientID, ClientSecret: "wrong-secret"},
			wantClass: failure.Flow, wantFrag: "the client was refused"},
		{name: "no secret", token: at, o: IntrospectOptions{ClientID: good.ClientID},
			wantClass: failure.Usage, wantFrag: "introspection needs the client id and secret"},
		{name: "no token", o: good, wantClass: failure.Usage, wantFrag: "no token to introspect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := p.Introspect(testCtx(t), tt.token, tt.o)
			if tt.wantClass != "" {
				wantFailure(t, err, tt.wantClass, tt.wantFrag, "wrong-secret", at)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if claims["active"] != tt.wantActive {
				t.Fatalf("active %v, want %v: %v", claims["active"], tt.wantActive, claims)
			}
			if tt.wantActive && (claims["username"] != "bob" || claims["client_id"] != okta.WebClientID) {
				t.Errorf("claims %v", claims)
			}
		})
	}
	// A provider without the endpoint.
	ti := newIssuer(t)
	_, err = ti.discover(t).Introspect(testCtx(t), at, good)
	wantFailure(t, err, failure.Usage, "advertises no introspection_endpoint")
}
