package demo_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

const redirectURI = "http://127.0.0.1:49152/callback"

// testTimeout bounds every wait of one test.
const testTimeout = 15 * time.Second

func start(t *testing.T, o demo.Options) *demo.Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	p, err := demo.Start(ctx, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// env is one provider with an HTTP client that does not follow redirects,
// so every hop of a flow can be looked at, and a go-oidc view of it.
type env struct {
	t      *testing.T
	ctx    context.Context
	p      *demo.Provider
	hc     *http.Client
	oidc   *oidc.Provider
	claims struct {
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		IntrospectionEndpoint string   `json:"introspection_endpoint"`
		ResponseModes         []string `json:"response_modes_supported"`
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, p: start(t, demo.Options{})}
	e.hc = &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(e.hc.CloseIdleConnections)
	e.ctx = oidc.ClientContext(ctx, e.hc)
	var err error
	e.oidc, err = oidc.NewProvider(e.ctx, e.p.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if err := e.oidc.Claims(&e.claims); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.hc.Do(req.WithContext(e.ctx))
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	return resp, string(body)
}

func (e *env) get(rawURL string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) postForm(rawURL string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

// location resolves the Location of a redirect against the provider.
func (e *env) location(resp *http.Response) *url.URL {
	e.t.Helper()
	loc, err := resp.Location()
	if err != nil {
		e.t.Fatalf("status %d without Location: %v", resp.StatusCode, err)
	}
	return loc
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"\s*/?>`)

// hiddenInputs reads the hidden inputs of a page, as a browser would submit them.
func hiddenInputs(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// openLogin sends the browser to the authorize URL and returns the sign-in
// page's URL and its hidden auth request id.
func (e *env) openLogin(authorizeURL string) (*url.URL, string) {
	e.t.Helper()
	resp, body := e.get(authorizeURL)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize: status %d, want 302: %s", resp.StatusCode, body)
	}
	loginURL := e.location(resp)
	resp, body = e.get(loginURL.String())
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("sign-in page: status %d: %s", resp.StatusCode, body)
	}
	id := hiddenInputs(body).Get("id")
	if id == "" {
		e.t.Fatalf("sign-in page without an auth request id: %s", body)
	}
	return loginURL, id
}

// signIn runs the browser's part from the authorize URL to the response
// that carries the authorization response: a redirect to the redirect URI,
// or op's auto-submitting form_post page.
func (e *env) signIn(authorizeURL, username, password string) (*http.Response, string) {
	e.t.Helper()
	loginURL, id := e.openLogin(authorizeURL)
	resp, body := e.postForm(loginURL.String(), url.Values{"id": {id}, "username": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in: status %d, want 303: %s", resp.StatusCode, body)
	}
	return e.get(e.location(resp).String())
}

// redirected checks the final hop ends at the redirect URI and returns the
// parameters of the authorization response and where they were: "query" or
// "fragment", never both.
func (e *env) redirected(resp *http.Response, body string) (url.Values, string) {
	e.t.Helper()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("callback: status %d, want 302: %s", resp.StatusCode, body)
	}
	loc := e.location(resp)
	base := *loc
	base.RawQuery, base.Fragment, base.RawFragment = "", "", ""
	if got := base.String(); got != redirectURI {
		e.t.Fatalf("redirected to %s, want %s", got, redirectURI)
	}
	raw, mode := loc.RawQuery, "query"
	if loc.Fragment != "" {
		if loc.RawQuery != "" {
			e.t.Fatalf("response in both query and fragment: %s", loc)
		}
		raw, mode = loc.EscapedFragment(), "fragment"
	}
	params, err := url.ParseQuery(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	return params, mode
}

type flowRequest struct {
	clientID, secret string
	responseType     string
	responseMode     string
	scopes           []string
	state, nonce     string
	verifier         string
}

func (e *env) oauth2Config(clientID, secret string, style oauth2.AuthStyle, scopes []string) *oauth2.Config {
	ep := e.oidc.Endpoint()
	ep.AuthStyle = style
	return &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: ep, RedirectURL: redirectURI, Scopes: scopes}
}

func (e *env) authorizeURL(r flowRequest) string {
	conf := e.oauth2Config(r.clientID, r.secret, oauth2.AuthStyleInParams, r.scopes)
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", r.nonce)}
	if r.responseType != "" {
		opts = append(opts, oauth2.SetAuthURLParam("response_type", r.responseType))
	}
	if r.responseMode != "" {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", r.responseMode))
	}
	if r.verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(r.verifier))
	}
	return conf.AuthCodeURL(r.state, opts...)
}

// verifyJWT checks a token against the provider's JWKS, issuer and audience
// and returns its header and claims.
func (e *env) verifyJWT(raw, audience string) (*oidc.IDToken, map[string]any) {
	e.t.Helper()
	tok, err := e.oidc.Verifier(&oidc.Config{ClientID: audience}).Verify(e.ctx, raw)
	if err != nil {
		e.t.Fatalf("token does not verify: %v", err)
	}
	header := map[string]any{}
	seg, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil || json.Unmarshal(seg, &header) != nil {
		e.t.Fatalf("token header unreadable: %v", err)
	}
	if header["alg"] != "RS256" || header["kid"] == "" || header["kid"] == nil {
		e.t.Errorf("token header %v, want alg RS256 and a kid", header)
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		e.t.Fatal(err)
	}
	return tok, claims
}

func groupsOf(t *testing.T, where string, claims map[string]any) []string {
	t.Helper()
	raw, ok := claims["groups"].([]any)
	if !ok {
		t.Fatalf("%s: groups claim is %T (%v), want an array", where, claims["groups"], claims["groups"])
	}
	var groups []string
	for _, g := range raw {
		s, ok := g.(string)
		if !ok {
			t.Fatalf("%s: group %v is not a string", where, g)
		}
		groups = append(groups, s)
	}
	return groups
}

func wantGroups(t *testing.T, where string, claims map[string]any, want []string) {
	t.Helper()
	if got := groupsOf(t, where, claims); !slices.Equal(got, want) {
		t.Errorf("%s: groups %v, want %v", where, got, want)
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(e.p.Issuer() + "/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	strs := func(name string) []string {
		var out []string
		for _, v := range doc[name].([]any) {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	if !strings.HasPrefix(e.p.Issuer(), "http://127.0.0.1:") {
		t.Errorf("issuer %s, want http://127.0.0.1:PORT", e.p.Issuer())
	}
	tests := []struct {
		field string
		want  []string
	}{
		{"response_types_supported", []string{"code", "id_token", "id_token token"}},
		{"response_modes_supported", []string{"form_post", "fragment", "query"}},
		{"grant_types_supported", []string{"authorization_code", "client_credentials", "implicit", "password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"}},
		{"id_token_signing_alg_values_supported", []string{"RS256"}},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_basic", "client_secret_post", "none", "private_key_jwt"}},
		{"token_endpoint_auth_signing_alg_values_supported", []string{"RS256"}},
		{"code_challenge_methods_supported", []string{"S256"}},
		{"scopes_supported", []string{"email", "groups", "offline_access", "openid", "profile"}},
		{"subject_types_supported", []string{"public"}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if got := strs(tt.field); !slices.Equal(got, tt.want) {
				t.Errorf("%v, want %v", got, tt.want)
			}
		})
	}
	t.Run("endpoints", func(t *testing.T) {
		if doc["issuer"] != e.p.Issuer() {
			t.Errorf("issuer %v, want %s", doc["issuer"], e.p.Issuer())
		}
		for _, f := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint", "device_authorization_endpoint"} {
			if s, _ := doc[f].(string); !strings.HasPrefix(s, e.p.Issuer()+"/") {
				t.Errorf("%s = %v, want under the issuer", f, doc[f])
			}
		}
		// Advertised only if offered: op sends no iss parameter, and the
		// demo has no sessions.
		for _, f := range []string{"authorization_response_iss_parameter_supported", "end_session_endpoint", "check_session_iframe"} {
			if v, ok := doc[f]; ok {
				t.Errorf("%s = %v, want absent", f, v)
			}
		}
		if claims := strs("claims_supported"); !slices.Contains(claims, "groups") {
			t.Errorf("claims_supported %v lacks groups", claims)
		}
	})
	t.Run("jwks", func(t *testing.T) {
		resp, body := e.get(doc["jwks_uri"].(string))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var set struct {
			Keys []struct{ Kty, Kid, Alg, Use, N, E string }
		}
		if err := json.Unmarshal([]byte(body), &set); err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) != 1 {
			t.Fatalf("%d keys, want 1", len(set.Keys))
		}
		k := set.Keys[0]
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil {
			t.Fatal(err)
		}
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.Kid == "" || len(n)*8 != 2048 {
			t.Errorf("key kty=%s alg=%s use=%s kid=%q bits=%d, want RSA RS256 sig, a kid, 2048", k.Kty, k.Alg, k.Use, k.Kid, len(n)*8)
		}
	})
	t.Run("unoffered endpoints answer 404", func(t *testing.T) {
		for _, path := range []string{"/end_session"} {
			if resp, _ := e.get(e.p.Issuer() + path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
			}
		}
	})
}

func TestCodeFlow(t *testing.T) {
	e := newEnv(t)
	users := map[string]struct {
		password, subject string
		groups            []string
	}{
		"alice": {"alice-demo", "user-alice", []string{"Everyone", "IT"}},
		"bob":   {"bob-demo", "user-bob", []string{"Everyone"}},
	}
	clients := []struct {
		name     string
		clientID string
		secret   string
		style    oauth2.AuthStyle
	}{
		{"public", demo.PublicClientID, "", oauth2.AuthStyleInParams},
		{"confidential basic", demo.ConfidentialClientID, demo.ConfidentialClientSecret, oauth2.AuthStyleInHeader},
		{"confidential post", demo.ConfidentialClientID, demo.ConfidentialClientSecret, oauth2.AuthStyleInParams},
	}
	scopes := []string{"openid", "profile", "email", "groups", "offline_access"}
	for _, c := range clients {
		for _, username := range []string{"alice", "bob"} {
			u := users[username]
			t.Run(c.name+"/"+username, func(t *testing.T) {
				e.t = t
				r := flowRequest{
					clientID: c.clientID, secret: c.secret, scopes: scopes,
					state: "state-" + username, nonce: "nonce-" + username,
					verifier: oauth2.GenerateVerifier(),
				}
				params, mode := e.redirected(e.signIn(e.authorizeURL(r), username, u.password))
				if mode != "query" || params.Get("state") != r.state || params.Get("code") == "" {
					t.Fatalf("authorization response %v in the %s, want state and code in the query", params, mode)
				}
				if params.Has("iss") {
					t.Errorf("iss %q sent, but op is not known to send it", params.Get("iss"))
				}
				conf := e.oauth2Config(c.clientID, c.secret, c.style, scopes)
				tok, err := conf.Exchange(e.ctx, params.Get("code"), oauth2.VerifierOption(r.verifier))
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				rawID, _ := tok.Extra("id_token").(string)
				idTok, idClaims := e.verifyJWT(rawID, c.clientID)
				if idTok.Nonce != r.nonce || idTok.Subject != u.subject {
					t.Errorf("ID token nonce %q sub %q, want %q %q", idTok.Nonce, idTok.Subject, r.nonce, u.subject)
				}
				if err := idTok.VerifyAccessToken(tok.AccessToken); err != nil {
					t.Errorf("at_hash: %v", err)
				}
				wantGroups(t, "ID token", idClaims, u.groups)
				atTok, atClaims := e.verifyJWT(tok.AccessToken, c.clientID)
				if atTok.Subject != u.subject || atClaims["client_id"] != c.clientID {
					t.Errorf("access token sub %q client_id %v", atTok.Subject, atClaims["client_id"])
				}
				wantGroups(t, "access token", atClaims, u.groups)

				info, err := e.oidc.UserInfo(e.ctx, oauth2.StaticTokenSource(tok))
				if err != nil {
					t.Fatalf("userinfo: %v", err)
				}
				infoClaims := map[string]any{}
				if err := info.Claims(&infoClaims); err != nil {
					t.Fatal(err)
				}
				wantGroups(t, "userinfo", infoClaims, u.groups)
				if info.Subject != u.subject || infoClaims["preferred_username"] != username || info.Email != username+"@example.com" {
					t.Errorf("userinfo %v", infoClaims)
				}

				if tok.RefreshToken == "" {
					t.Fatal("no refresh token with offline_access")
				}
				stale := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
				refreshed, err := conf.TokenSource(e.ctx, stale).Token()
				if err != nil {
					t.Fatalf("refresh: %v", err)
				}
				_, atClaims = e.verifyJWT(refreshed.AccessToken, c.clientID)
				wantGroups(t, "refreshed access token", atClaims, u.groups)
				if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
					t.Error("refresh token not rotated")
				}
				_, err = conf.TokenSource(e.ctx, stale).Token()
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Errorf("second use of a refresh token: %v, want invalid_grant", err)
				}
			})
		}
	}
}

func TestCodeFlowWithoutOptionalScopes(t *testing.T) {
	e := newEnv(t)
	r := flowRequest{clientID: demo.PublicClientID, scopes: []string{"openid"}, state: "s", nonce: "n", verifier: oauth2.GenerateVerifier()}
	params, _ := e.redirected(e.signIn(e.authorizeURL(r), "alice", "alice-demo"))
	conf := e.oauth2Config(r.clientID, "", oauth2.AuthStyleInParams, r.scopes)
	tok, err := conf.Exchange(e.ctx, params.Get("code"), oauth2.VerifierOption(r.verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	_, idClaims := e.verifyJWT(rawID, r.clientID)
	_, atClaims := e.verifyJWT(tok.AccessToken, r.clientID)
	for name, claims := range map[string]map[string]any{"ID token": idClaims, "access token": atClaims} {
		if _, ok := claims["groups"]; ok {
			t.Errorf("%s has groups without the groups scope", name)
		}
	}
	if tok.RefreshToken != "" {
		t.Error("refresh token without offline_access")
	}
}

func TestImplicitFlow(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name         string
		clientID     string
		responseType string
		responseMode string
		wantAccess   bool
	}{
		{"id_token, default mode", demo.PublicClientID, "id_token", "", false},
		{"id_token, fragment", demo.ConfidentialClientID, "id_token", "fragment", false},
		{"id_token token, default mode", demo.PublicClientID, "id_token token", "", true},
		{"id_token token, fragment", demo.ConfidentialClientID, "id_token token", "fragment", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := flowRequest{clientID: tt.clientID, responseType: tt.responseType, responseMode: tt.responseMode,
				scopes: []string{"openid", "groups"}, state: "st", nonce: "nn"}
			params, mode := e.redirected(e.signIn(e.authorizeURL(r), "alice", "alice-demo"))
			if mode != "fragment" || params.Get("state") != r.state || params.Has("code") || params.Has("iss") {
				t.Errorf("response %v in the %s: want state, no code, no iss, in the fragment", params, mode)
			}
			idTok, idClaims := e.verifyJWT(params.Get("id_token"), tt.clientID)
			if idTok.Nonce != r.nonce {
				t.Errorf("nonce %q, want %q", idTok.Nonce, r.nonce)
			}
			wantGroups(t, "ID token", idClaims, []string{"Everyone", "IT"})
			at := params.Get("access_token")
			if !tt.wantAccess {
				if at != "" {
					t.Error("access token with response_type id_token")
				}
				return
			}
			if idTok.AccessTokenHash == "" {
				t.Error("no at_hash in the ID token of an id_token token response")
			} else if err := idTok.VerifyAccessToken(at); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			_, atClaims := e.verifyJWT(at, tt.clientID)
			wantGroups(t, "access token", atClaims, []string{"Everyone", "IT"})
		})
	}
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)

func TestFormPost(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name         string
		responseType string
		wantParams   []string
	}{
		{"code", "code", []string{"code", "state"}},
		{"id_token", "id_token", []string{"id_token", "state"}},
		{"id_token token", "id_token token", []string{"access_token", "id_token", "state", "token_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := flowRequest{clientID: demo.PublicClientID, responseType: tt.responseType, responseMode: "form_post",
				scopes: []string{"openid", "groups"}, state: "fp-state", nonce: "fp-nonce"}
			if tt.responseType == "code" {
				r.verifier = oauth2.GenerateVerifier()
			}
			resp, body := e.signIn(e.authorizeURL(r), "bob", "bob-demo")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "document.forms[0].submit()") {
				t.Fatalf("status %d, want 200 and an auto-submitting form: %s", resp.StatusCode, body)
			}
			m := formAction.FindStringSubmatch(body)
			if m == nil || html.UnescapeString(m[1]) != redirectURI {
				t.Fatalf("form action %v, want %s", m, redirectURI)
			}
			params := hiddenInputs(body)
			for _, p := range tt.wantParams {
				if params.Get(p) == "" {
					t.Errorf("form lacks %s: %v", p, params)
				}
			}
			if params.Get("state") != r.state {
				t.Errorf("state %q, want %q", params.Get("state"), r.state)
			}
			if tt.responseType != "code" {
				_, claims := e.verifyJWT(params.Get("id_token"), r.clientID)
				wantGroups(t, "ID token", claims, []string{"Everyone"})
				return
			}
			conf := e.oauth2Config(r.clientID, "", oauth2.AuthStyleInParams, r.scopes)
			tok, err := conf.Exchange(e.ctx, params.Get("code"), oauth2.VerifierOption(r.verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			_, claims := e.verifyJWT(tok.AccessToken, r.clientID)
			wantGroups(t, "access token", claims, []string{"Everyone"})
		})
	}
}

func TestSignInPage(t *testing.T) {
	e := newEnv(t)
	r := flowRequest{clientID: demo.PublicClientID, scopes: []string{"openid"}, state: "s", nonce: "n", verifier: oauth2.GenerateVerifier()}
	loginURL, id := e.openLogin(e.authorizeURL(r))

	t.Run("headers", func(t *testing.T) {
		resp, body := e.get(loginURL.String())
		for name, want := range map[string]string{
			"Content-Type":           "text/html; charset=utf-8",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		for _, want := range []string{`<form method="post"`, `name="username"`, `type="password" id="password" name="password"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
	})

	refusals := []struct {
		name, username, password string
	}{
		{"wrong password", "alice", "bob-demo"},
		{"unknown user", "mallory", "alice-demo"},
		{"empty password", "alice", ""},
		{"username is case sensitive", "Alice", "alice-demo"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			resp, body := e.postForm(loginURL.String(), url.Values{"id": {id}, "username": {tt.username}, "password": {tt.password}})
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q, want 401 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, "Wrong username or password.") {
				t.Error("no error message on the page")
			}
			if hiddenInputs(body).Get("id") != id || !strings.Contains(body, `value="`+html.EscapeString(tt.username)+`"`) {
				t.Error("form not shown again with the request id and the username")
			}
		})
	}

	t.Run("right password after wrong ones", func(t *testing.T) {
		e.t = t
		resp, body := e.postForm(loginURL.String(), url.Values{"id": {id}, "username": {"alice"}, "password": {"alice-demo"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303: %s", resp.StatusCode, body)
		}
		if params, _ := e.redirected(e.get(e.location(resp).String())); params.Get("code") == "" {
			t.Errorf("no code in %v", params)
		}
	})

	t.Run("request used or unknown", func(t *testing.T) {
		e.t = t
		for _, reqID := range []string{id, "no-such-request"} {
			resp, _ := e.postForm(loginURL.String(), url.Values{"id": {reqID}, "username": {"alice"}, "password": {"alice-demo"}})
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("id %q: status %d, want 400", reqID, resp.StatusCode)
			}
		}
	})
}

func TestRedirectURIs(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		uri    string
		accept bool
	}{
		{"http://127.0.0.1:1/x", true},
		{"http://127.0.0.1/cb", true},
		{"http://[::1]:65535/a/b?c=d", true},
		{"http://localhost/cb", true},
		{"http://localhost:8765/callback", true},
		{"https://127.0.0.1:8765/callback", false},
		{"http://example.com/callback", false},
		{"http://127.0.0.1.nip.io/callback", false},
		{"http://localhost.example.com/callback", false},
		{"http://127.0.0.1:80@evil.example/callback", false},
		{"http://10.1.2.3:8765/callback", false},
		{"http://127.0.0.2:8765/callback", false},
		{"http://127.0.0.1:8765/callback#frag", false},
		{"com.example.app:/callback", false},
		{"/callback", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			e.t = t
			q := url.Values{
				"client_id": {demo.PublicClientID}, "redirect_uri": {tt.uri}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"s"}, "nonce": {"n"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
			}
			resp, body := e.get(e.claims.AuthorizationEndpoint + "?" + q.Encode())
			if tt.accept {
				if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") {
					t.Errorf("status %d Location %q, want the sign-in page: %s", resp.StatusCode, resp.Header.Get("Location"), body)
				}
				return
			}
			// Refused without a redirect: the browser must not be sent to
			// a redirect URI that is not a loopback one.
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("status %d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	base := url.Values{
		"client_id": {demo.PublicClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid groups"}, "state": {"err-state"}, "nonce": {"n"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	tests := []struct {
		name      string
		set       url.Values
		del       []string
		wantError string
		fragment  bool
	}{
		{name: "public client without PKCE", del: []string{"code_challenge", "code_challenge_method"}, wantError: "invalid_request"},
		{name: "PKCE plain", set: url.Values{"code_challenge_method": {"plain"}}, wantError: "invalid_request"},
		{name: "PKCE without method", del: []string{"code_challenge_method"}, wantError: "invalid_request"},
		{name: "hybrid", set: url.Values{"response_type": {"code id_token"}}, wantError: "unsupported_response_type", fragment: true},
		{name: "token alone", set: url.Values{"response_type": {"token"}}, wantError: "unsupported_response_type", fragment: true},
		{name: "tokens in the query", set: url.Values{"response_type": {"id_token"}, "response_mode": {"query"}}, wantError: "invalid_request"},
		{name: "unknown response mode", set: url.Values{"response_mode": {"web_message"}}, wantError: "invalid_request"},
		{name: "implicit without nonce", set: url.Values{"response_type": {"id_token"}}, del: []string{"nonce"}, wantError: "invalid_request", fragment: true},
		{name: "prompt none", set: url.Values{"prompt": {"none"}}, wantError: "login_required"},
		{name: "no openid scope", set: url.Values{"scope": {"groups"}}, wantError: "invalid_scope"},
		// op answers errors by redirect even when form_post was asked for.
		{name: "form_post error, code", set: url.Values{"response_mode": {"form_post"}, "prompt": {"none"}}, wantError: "login_required"},
		{name: "form_post error, id_token", set: url.Values{"response_mode": {"form_post"}, "response_type": {"id_token"}, "prompt": {"none"}}, wantError: "login_required", fragment: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			for k, v := range tt.set {
				q[k] = v
			}
			for _, k := range tt.del {
				q.Del(k)
			}
			params, mode := e.redirected(e.get(e.claims.AuthorizationEndpoint + "?" + q.Encode()))
			if params.Get("error") != tt.wantError || params.Get("state") != "err-state" {
				t.Errorf("response %v, want error %s with the state", params, tt.wantError)
			}
			if wantMode := map[bool]string{true: "fragment", false: "query"}[tt.fragment]; mode != wantMode {
				t.Errorf("error in the %s, want the %s", mode, wantMode)
			}
		})
	}
	t.Run("unknown client", func(t *testing.T) {
		e.t = t
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("client_id", "nobody")
		if resp, _ := e.get(e.claims.AuthorizationEndpoint + "?" + q.Encode()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
}

func TestTokenEndpointRefusals(t *testing.T) {
	e := newEnv(t)
	scopes := []string{"openid"}
	code := func(t *testing.T, clientID, verifier string) string {
		e.t = t
		r := flowRequest{clientID: clientID, scopes: scopes, state: "s", nonce: "n", verifier: verifier}
		params, _ := e.redirected(e.signIn(e.authorizeURL(r), "alice", "alice-demo"))
		return params.Get("code")
	}
	tests := []struct {
		name      string
		clientID  string
		secret    string
		style     oauth2.AuthStyle
		redeem    func(ctx context.Context, conf *oauth2.Config, code, verifier string) error
		wantError string
	}{
		{
			name: "wrong secret, basic", clientID: demo.ConfidentialClientID, secret: "wrong", style: oauth2.AuthStyleInHeader,
			wantError: "invalid_client",
		},
		{
			name: "wrong secret, post", clientID: demo.ConfidentialClientID, secret: "wrong", style: oauth2.AuthStyleInParams,
			wantError: "invalid_client",
		},
		{
			name: "confidential client without secret", clientID: demo.ConfidentialClientID, style: oauth2.AuthStyleInParams,
			wantError: "invalid_client",
		},
		{
			name: "wrong verifier", clientID: demo.PublicClientID, style: oauth2.AuthStyleInParams,
			redeem: func(ctx context.Context, conf *oauth2.Config, code, _ string) error {
				_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
				return err
			},
			wantError: "invalid_grant",
		},
		{
			name: "code used twice", clientID: demo.PublicClientID, style: oauth2.AuthStyleInParams,
			redeem: func(ctx context.Context, conf *oauth2.Config, code, verifier string) error {
				if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
					return err
				}
				_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
				return err
			},
			wantError: "invalid_grant",
		},
		{
			name: "other redirect_uri", clientID: demo.PublicClientID, style: oauth2.AuthStyleInParams,
			redeem: func(ctx context.Context, conf *oauth2.Config, code, verifier string) error {
				conf.RedirectURL = "http://127.0.0.1:49153/callback"
				_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
				return err
			},
			wantError: "invalid_grant",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			c := code(t, tt.clientID, verifier)
			conf := e.oauth2Config(tt.clientID, tt.secret, tt.style, scopes)
			redeem := tt.redeem
			if redeem == nil {
				redeem = func(ctx context.Context, conf *oauth2.Config, code, verifier string) error {
					_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
					return err
				}
			}
			err := redeem(e.ctx, conf, c, verifier)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != tt.wantError {
				t.Errorf("got %v, want %s", err, tt.wantError)
			}
		})
	}
}

func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	tokenFor := func(clientID, secret string) string {
		r := flowRequest{clientID: clientID, secret: secret, scopes: []string{"openid", "groups"}, state: "s", nonce: "n", verifier: oauth2.GenerateVerifier()}
		params, _ := e.redirected(e.signIn(e.authorizeURL(r), "alice", "alice-demo"))
		tok, err := e.oauth2Config(clientID, secret, oauth2.AuthStyleInHeader, r.scopes).
			Exchange(e.ctx, params.Get("code"), oauth2.VerifierOption(r.verifier))
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	tests := []struct {
		name       string
		token      string
		wantActive bool
	}{
		{"own token", tokenFor(demo.ConfidentialClientID, demo.ConfidentialClientSecret), true},
		{"another client's token", tokenFor(demo.PublicClientID, ""), false},
		{"garbage", "not-a-token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.claims.IntrospectionEndpoint, strings.NewReader(url.Values{"token": {tt.token}}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(demo.ConfidentialClientID, demo.ConfidentialClientSecret)
			resp, body := e.do(req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if got["active"] != tt.wantActive {
				t.Fatalf("active %v, want %v: %s", got["active"], tt.wantActive, body)
			}
			if tt.wantActive {
				wantGroups(t, "introspection", got, []string{"Everyone", "IT"})
			}
		})
	}
}

func TestStartOptions(t *testing.T) {
	tests := []struct {
		name string
		o    demo.Options
	}{
		{"all interfaces", demo.Options{Addr: "0.0.0.0:0"}},
		{"not loopback", demo.Options{Addr: "192.0.2.1:0"}},
		{"host name", demo.Options{Addr: "example.com:0"}},
		{"no port", demo.Options{Addr: "127.0.0.1"}},
		{"user without password", demo.Options{Users: []demo.User{{Username: "x"}}}},
		{"same user twice", demo.Options{Users: []demo.User{{Username: "x", Password: "p"}, {Username: "x", Password: "q"}}}},
		{"client without id", demo.Options{Clients: []demo.Client{{Secret: "s"}}}},
		{"negative lifetime", demo.Options{TokenLifetime: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			p, err := demo.Start(ctx, tt.o)
			if err == nil {
				p.Close()
				t.Fatal("started, want a usage error")
			}
			if c := failure.ClassOf(err); c != failure.Usage {
				t.Errorf("class %s (%v), want usage", c, err)
			}
		})
	}

	t.Run("localhost, port in use, port released", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		p, err := demo.Start(ctx, demo.Options{Addr: "localhost:0"})
		if err != nil {
			t.Fatal(err)
		}
		addr := strings.TrimPrefix(p.Issuer(), "http://")
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("issuer %s, want 127.0.0.1", p.Issuer())
		}
		if _, err := demo.Start(ctx, demo.Options{Addr: addr}); failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), addr) {
			t.Errorf("second Start on %s: %v, want a usage error naming the address", addr, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("port not released: %v", err)
		}
		ln.Close()
	})

	t.Run("own users and clients", func(t *testing.T) {
		p := start(t, demo.Options{
			Users:   []demo.User{{Username: "carol", Password: "pw", Groups: []string{"Ops"}}},
			Clients: []demo.Client{{ID: "app"}},
		})
		e := &env{t: t, p: p, hc: &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		e.ctx = oidc.ClientContext(ctx, e.hc)
		var err error
		if e.oidc, err = oidc.NewProvider(e.ctx, p.Issuer()); err != nil {
			t.Fatal(err)
		}
		r := flowRequest{clientID: "app", responseType: "id_token", scopes: []string{"openid", "groups"}, state: "s", nonce: "n"}
		params, _ := e.redirected(e.signIn(e.authorizeURL(r), "carol", "pw"))
		tok, claims := e.verifyJWT(params.Get("id_token"), "app")
		if tok.Subject != "carol" {
			t.Errorf("sub %q, want the username", tok.Subject)
		}
		wantGroups(t, "ID token", claims, []string{"Ops"})
	})
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	scopes := []string{"openid", "groups", "offline_access"}
	conf := e.oauth2Config(demo.ConfidentialClientID, demo.ConfidentialClientSecret, oauth2.AuthStyleInHeader, scopes)
	tokens := func(t *testing.T) *oauth2.Token {
		r := flowRequest{clientID: conf.ClientID, secret: conf.ClientSecret, scopes: scopes, state: "s", nonce: "n", verifier: oauth2.GenerateVerifier()}
		params, _ := e.redirected(e.signIn(e.authorizeURL(r), "bob", "bob-demo"))
		tok, err := conf.Exchange(e.ctx, params.Get("code"), oauth2.VerifierOption(r.verifier))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	revoke := func(t *testing.T, token, hint string) {
		req, err := http.NewRequest(http.MethodPost, e.revocationEndpoint(), strings.NewReader(url.Values{"token": {token}, "token_type_hint": {hint}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(conf.ClientID, conf.ClientSecret)
		if resp, body := e.do(req); resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation: status %d: %s", resp.StatusCode, body)
		}
	}
	tests := []struct {
		name  string
		which string // which token to revoke
	}{
		{"access token", "access_token"},
		{"refresh token", "refresh_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			tok := tokens(t)
			if tt.which == "access_token" {
				revoke(t, tok.AccessToken, tt.which)
			} else {
				revoke(t, tok.RefreshToken, tt.which)
				stale := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
				var re *oauth2.RetrieveError
				if _, err := conf.TokenSource(e.ctx, stale).Token(); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Errorf("refresh after revocation: %v, want invalid_grant", err)
				}
			}
			// Either way the access token no longer opens userinfo: revoking
			// a refresh token revokes the access tokens issued with it.
			if _, err := e.oidc.UserInfo(e.ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Error("userinfo answers for a revoked token")
			}
		})
	}
	t.Run("unknown token", func(t *testing.T) {
		e.t = t
		revoke(t, "never-issued", "")
	})
}

func (e *env) revocationEndpoint() string {
	var doc struct {
		RevocationEndpoint string `json:"revocation_endpoint"`
	}
	if err := e.oidc.Claims(&doc); err != nil || doc.RevocationEndpoint == "" {
		e.t.Fatalf("no revocation endpoint: %v", err)
	}
	return doc.RevocationEndpoint
}
