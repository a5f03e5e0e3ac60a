package okta_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/okta"
)

const testTimeout = 20 * time.Second

// env is a provider whose two default clients have a free loopback port's
// redirect URI registered (Okta matches it exactly).
type env struct {
	p        *okta.Provider
	redirect string
	ctx      context.Context
}

func freeRedirectURI(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String() + "/callback"
}

func newEnv(t *testing.T, o okta.Options) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	e := &env{redirect: freeRedirectURI(t), ctx: ctx}
	if o.Clients == nil {
		o.Clients = []okta.Client{
			{ID: okta.PublicClientID, RedirectURIs: []string{e.redirect}},
			{ID: okta.WebClientID, Secret: okta.WebClientSecret, RedirectURIs: []string{e.redirect}},
		}
	}
	p, err := okta.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	e.p = p
	return e
}

func (e *env) getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

type run struct {
	issuer, clientID, secret, rt, username string
	scopes                                 []string
	extra                                  url.Values
}

// flow runs an authorization through the stand-in browser.
func (e *env) flow(t *testing.T, r run) (*flow.Result, error) {
	t.Helper()
	md := e.getJSON(t, r.issuer+"/.well-known/openid-configuration")
	c := flow.Config{
		Issuer: r.issuer, AuthorizationEndpoint: md["authorization_endpoint"].(string),
		TokenEndpoint: md["token_endpoint"].(string), ClientID: r.clientID, ClientSecret: r.secret,
		RedirectURI: e.redirect, ResponseType: r.rt, Scopes: r.scopes, ExtraParams: r.extra,
	}
	b := &standin.Browser{Username: r.username, Password: r.username + "-okta"}
	return flow.Run(e.ctx, c, flow.RunOptions{Opener: b, Timeout: testTimeout})
}

func claims(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func (e *env) published(t *testing.T, issuer, kid string) bool {
	t.Helper()
	md := e.getJSON(t, issuer+"/.well-known/openid-configuration")
	jwks := e.getJSON(t, md["jwks_uri"].(string))
	for _, k := range jwks["keys"].([]any) {
		if k.(map[string]any)["kid"] == kid {
			return true
		}
	}
	return false
}

// aud reads an audience claim, a string or an array of one.
func aud(c map[string]any) string {
	if a, ok := c["aud"].([]any); ok && len(a) == 1 {
		return fmt.Sprint(a[0])
	}
	return fmt.Sprint(c["aud"])
}

func groupsIn(m map[string]any, name string) []string {
	raw, _ := m[name].([]any)
	var out []string
	for _, g := range raw {
		out = append(out, fmt.Sprint(g))
	}
	return out
}

// Okta's URL layout: org server at the root with /oauth2/v1 endpoints, a
// custom server at /oauth2/{id} with /oauth2/{id}/v1 endpoints; both
// well-known documents at both.
func TestURLLayoutAndDiscovery(t *testing.T) {
	e := newEnv(t, okta.Options{})
	org, def := e.p.OrgIssuer(), e.p.Issuer("default")
	for _, tc := range []struct{ issuer, base string }{
		{org, org + "/oauth2/v1"},
		{def, def + "/v1"},
	} {
		for _, doc := range []string{"openid-configuration", "oauth-authorization-server"} {
			md := e.getJSON(t, tc.issuer+"/.well-known/"+doc)
			if md["issuer"] != tc.issuer {
				t.Errorf("%s %s: issuer %v", tc.issuer, doc, md["issuer"])
			}
			for k, want := range map[string]string{
				"authorization_endpoint": "/authorize", "token_endpoint": "/token", "userinfo_endpoint": "/userinfo",
				"jwks_uri": "/keys", "introspection_endpoint": "/introspect",
			} {
				if md[k] != tc.base+want {
					t.Errorf("%s %s: %s = %v, want %s", tc.issuer, doc, k, md[k], tc.base+want)
				}
			}
		}
	}
}

// The guide's org-server case: response_type=id_token with openid groups
// gives a fat ID token with the groups.
func TestOrgFatIDToken(t *testing.T) {
	e := newEnv(t, okta.Options{})
	res, err := e.flow(t, run{issuer: e.p.OrgIssuer(), clientID: okta.PublicClientID, rt: "id_token", username: "alice", scopes: []string{"openid", "groups"}})
	if err != nil {
		t.Fatal(err)
	}
	h, c := claims(t, res.FrontChannel.IDToken)
	if got := groupsIn(c, "groups"); !slices.Equal(got, []string{"Everyone", "IT"}) {
		t.Errorf("groups %v", got)
	}
	if !e.published(t, e.p.OrgIssuer(), h["kid"].(string)) {
		t.Error("the ID token's key is not published")
	}
}

// Thin ID token: with an access token from the org server (implicit
// "id_token token" or the code flow) the ID token has no groups; /userinfo
// with the access token has them. The org access token's key is not
// published and its aud is the org.
func TestOrgThinIDTokenAndUnpublishedAccessTokenKey(t *testing.T) {
	e := newEnv(t, okta.Options{})
	for _, rt := range []string{"id_token token", "code"} {
		t.Run(rt, func(t *testing.T) {
			res, err := e.flow(t, run{issuer: e.p.OrgIssuer(), clientID: okta.PublicClientID, rt: rt, username: "alice", scopes: []string{"openid", "profile", "groups"}})
			if err != nil {
				t.Fatal(err)
			}
			id, at := res.FrontChannel.IDToken, res.FrontChannel.AccessToken
			if res.Tokens != nil {
				id, at = res.Tokens.IDToken, res.Tokens.AccessToken
			}
			_, ic := claims(t, id)
			if _, has := ic["groups"]; has {
				t.Errorf("thin ID token has groups: %v", ic)
			}
			if _, has := ic["name"]; has {
				t.Errorf("thin ID token has profile claims: %v", ic)
			}
			ah, ac := claims(t, at)
			if e.published(t, e.p.OrgIssuer(), ah["kid"].(string)) {
				t.Error("the org access token's key is published")
			}
			if aud(ac) != e.p.OrgIssuer() || ac["cid"] != okta.PublicClientID {
				t.Errorf("access token aud %v cid %v", ac["aud"], ac["cid"])
			}
			ui := e.userinfo(t, e.p.OrgIssuer(), at)
			if got := groupsIn(ui, "groups"); !slices.Equal(got, []string{"Everyone", "IT"}) {
				t.Errorf("userinfo groups %v", got)
			}
		})
	}
}

func (e *env) userinfo(t *testing.T, issuer, at string) map[string]any {
	t.Helper()
	md := e.getJSON(t, issuer+"/.well-known/openid-configuration")
	req, _ := http.NewRequest(http.MethodGet, md["userinfo_endpoint"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 200 {
		t.Fatalf("userinfo: %d", resp.StatusCode)
	}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

// The guide's custom-server case: response_type=token at the default
// server gives an access token with GroupsClaim and aud api://default,
// signed with a published key.
func TestCustomServerGroupsClaim(t *testing.T) {
	e := newEnv(t, okta.Options{})
	def := e.p.Issuer("default")
	res, err := e.flow(t, run{issuer: def, clientID: okta.PublicClientID, rt: "token", username: "alice", scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.FrontChannel.IDToken != "" {
		t.Error("response_type=token returned an ID token")
	}
	h, c := claims(t, res.FrontChannel.AccessToken)
	if aud(c) != "api://default" || c["iss"] != def {
		t.Errorf("aud %v iss %v", c["aud"], c["iss"])
	}
	if got := groupsIn(c, "GroupsClaim"); !slices.Equal(got, []string{"Everyone", "IT"}) {
		t.Errorf("GroupsClaim %v", got)
	}
	if !e.published(t, def, h["kid"].(string)) {
		t.Error("custom server access token key not published")
	}
	// A custom server does not know the groups scope.
	_, err = e.flow(t, run{issuer: def, clientID: okta.PublicClientID, rt: "token", username: "alice", scopes: []string{"openid", "groups"}})
	if err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Errorf("groups scope at a custom server: %v", err)
	}
}

func introspect(t *testing.T, endpoint, id, secret, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// Introspection (RFC 7662) of an org access token with the client secret.
func TestIntrospection(t *testing.T) {
	e := newEnv(t, okta.Options{})
	org := e.p.OrgIssuer()
	res, err := e.flow(t, run{issuer: org, clientID: okta.WebClientID, secret: okta.WebClientSecret, rt: "code", username: "bob", scopes: []string{"openid", "groups"}})
	if err != nil {
		t.Fatal(err)
	}
	ep := org + "/oauth2/v1/introspect"
	status, m := introspect(t, ep, okta.WebClientID, okta.WebClientSecret, res.Tokens.AccessToken)
	if status != 200 || m["active"] != true || m["username"] != "bob" || m["client_id"] != okta.WebClientID {
		t.Errorf("introspection %d %v", status, m)
	}
	status, _ = introspect(t, ep, okta.WebClientID, "wrong", res.Tokens.AccessToken)
	if status != http.StatusUnauthorized {
		t.Errorf("wrong secret: status %d", status)
	}
	_, m = introspect(t, ep, okta.WebClientID, okta.WebClientSecret, "garbage")
	if m["active"] != false {
		t.Errorf("garbage token: %v", m)
	}
}

func authn(t *testing.T, org, user, password string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(org+"/api/v1/authn", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// The Authentication API: statuses, and a sessionToken on /authorize that
// skips the sign-in page once.
func TestAuthnAndSessionToken(t *testing.T) {
	e := newEnv(t, okta.Options{})
	org := e.p.OrgIssuer()
	for _, tc := range []struct {
		user, password, status string
		code                   int
	}{
		{"alice", "alice-okta", "SUCCESS", 200},
		{"dave", "dave-okta", "MFA_REQUIRED", 200},
		{"erin", "erin-okta", "LOCKED_OUT", 200},
		{"frank", "frank-okta", "PASSWORD_EXPIRED", 200},
		{"alice", "wrong", "", 401},
	} {
		code, m := authn(t, org, tc.user, tc.password)
		if code != tc.code || (tc.status != "" && m["status"] != tc.status) {
			t.Errorf("%s: %d %v", tc.user, code, m)
		}
		if _, has := m["sessionToken"]; has != (tc.status == "SUCCESS") {
			t.Errorf("%s: sessionToken present %v", tc.user, has)
		}
		if code == 401 && m["errorCode"] != "E0000004" {
			t.Errorf("wrong password: %v", m)
		}
	}
	_, m := authn(t, org, "alice", "alice-okta")
	tok := m["sessionToken"].(string)
	extra := url.Values{"sessionToken": {tok}}
	// No username: the stand-in must never see a sign-in form.
	res, err := e.flow(t, run{issuer: e.p.Issuer("default"), clientID: okta.PublicClientID, rt: "code", scopes: []string{"openid"}, extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	if _, c := claims(t, res.Tokens.IDToken); c["sub"] != "00ualice" {
		t.Errorf("sub %v", c["sub"])
	}
	// Spent: the second use shows the sign-in page, where an empty
	// stand-in fails.
	if _, err := e.flow(t, run{issuer: e.p.Issuer("default"), clientID: okta.PublicClientID, rt: "code", scopes: []string{"openid"}, extra: extra}); err == nil {
		t.Error("a spent sessionToken signed in again")
	}
}

// More than 100 groups: the implicit flow answers an error, the code flow
// leaves the claim out, /userinfo lists them all.
func TestGroupsLimit(t *testing.T) {
	e := newEnv(t, okta.Options{})
	org, def := e.p.OrgIssuer(), e.p.Issuer("default")
	_, err := e.flow(t, run{issuer: org, clientID: okta.PublicClientID, rt: "id_token", username: "carol", scopes: []string{"openid", "groups"}})
	if err == nil || !strings.Contains(err.Error(), "matched too many groups") {
		t.Errorf("implicit at org: %v", err)
	}
	_, err = e.flow(t, run{issuer: def, clientID: okta.PublicClientID, rt: "token", username: "carol", scopes: []string{"openid"}})
	if err == nil || !strings.Contains(err.Error(), "'GroupsClaim' claim matched too many groups") {
		t.Errorf("implicit at default: %v", err)
	}
	res, err := e.flow(t, run{issuer: def, clientID: okta.PublicClientID, rt: "code", username: "carol", scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, c := claims(t, res.Tokens.AccessToken); c["GroupsClaim"] != nil {
		t.Error("code flow: GroupsClaim present for 120 groups")
	}
	res, err = e.flow(t, run{issuer: org, clientID: okta.PublicClientID, rt: "code", username: "carol", scopes: []string{"openid", "groups"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(groupsIn(e.userinfo(t, org, res.Tokens.AccessToken), "groups")); n != 120 {
		t.Errorf("userinfo lists %d groups, want 120", n)
	}
}

// Redirect URIs match exactly: another port is refused on the provider's
// own page, not redirected.
func TestExactRedirectURI(t *testing.T) {
	e := newEnv(t, okta.Options{})
	other := freeRedirectURI(t)
	u := e.p.OrgIssuer() + "/oauth2/v1/authorize?" + url.Values{
		"client_id": {okta.PublicClientID}, "response_type": {"id_token"}, "scope": {"openid"},
		"redirect_uri": {other}, "state": {"s"}, "nonce": {"n"},
	}.Encode()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 3 || !strings.Contains(string(body), "must be a Login redirect URI") {
		t.Errorf("status %d body %q", resp.StatusCode, body)
	}
}
