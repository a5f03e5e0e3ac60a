package okta_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/okta"
)

// boundEnv is the provider with the DPoP, PAR and private_key_jwt apps.
func boundEnv(t *testing.T) (*env, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	redirect := freeRedirectURI(t)
	e := newEnv(t, okta.Options{Clients: []okta.Client{
		{ID: okta.PublicClientID, RedirectURIs: []string{redirect}},
		{ID: okta.WebClientID, Secret: okta.WebClientSecret, RedirectURIs: []string{redirect}},
		{ID: okta.DPoPClientID, RedirectURIs: []string{redirect}, RequireDPoP: true},
		{ID: okta.PARClientID, RedirectURIs: []string{redirect}, RequirePAR: true},
		{ID: okta.JWTClientID, RedirectURIs: []string{redirect}, Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}},
	}})
	e.redirect = redirect
	return e, key
}

// sign makes a compact JWS of claims with extra protected headers.
func sign(t *testing.T, key any, alg jose.SignatureAlgorithm, headers map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	o := &jose.SignerOptions{}
	for k, v := range headers {
		o.WithHeader(k, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, o)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func post(t *testing.T, u string, form url.Values, hdr http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

func jti() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestBoundDiscovery(t *testing.T) {
	e, _ := boundEnv(t)
	for _, tc := range []struct{ issuer, par string }{
		{e.p.OrgIssuer(), e.p.OrgIssuer() + "/oauth2/v1/par"},
		{e.p.Issuer("default"), e.p.Issuer("default") + "/v1/par"},
	} {
		md := e.getJSON(t, tc.issuer+"/.well-known/openid-configuration")
		strs := func(k string) []string {
			var out []string
			for _, v := range md[k].([]any) {
				out = append(out, v.(string))
			}
			return out
		}
		if md["pushed_authorization_request_endpoint"] != tc.par {
			t.Errorf("%s: PAR endpoint %v", tc.issuer, md["pushed_authorization_request_endpoint"])
		}
		if got := strs("dpop_signing_alg_values_supported"); !slices.Equal(got, []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}) {
			t.Errorf("dpop algs %v", got)
		}
		if got := strs("token_endpoint_auth_methods_supported"); !slices.Equal(got, []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}) {
			t.Errorf("auth methods %v", got)
		}
		if got := strs("token_endpoint_auth_signing_alg_values_supported"); !slices.Equal(got, []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}) {
			t.Errorf("assertion algs %v", got)
		}
	}
}

// Each refusal of a token request by the DPoP app; the code is never
// looked at before the proof passes (then op calls the made-up code
// invalid_grant).
func TestDPoPTokenRequestRefusals(t *testing.T) {
	e, _ := boundEnv(t)
	tokenURL := e.p.Issuer("default") + "/v1/token"
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := jose.JSONWebKey{Key: key.Public()}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"made-up"}, "client_id": {okta.DPoPClientID},
		"redirect_uri": {e.redirect}, "code_verifier": {strings.Repeat("v", 43)}}
	proof := func(edit func(h map[jose.HeaderKey]any, c map[string]any), signer any) string {
		h := map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": jwk}
		c := map[string]any{"jti": jti(), "htm": "POST", "htu": tokenURL, "iat": time.Now().Unix()}
		if edit != nil {
			edit(h, c)
		}
		return sign(t, signer, jose.ES256, h, c)
	}
	// The first proof gets the nonce, as at Okta always.
	code, hdr, body := post(t, tokenURL, form, http.Header{"Dpop": {proof(nil, key)}})
	nonce := hdr.Get("DPoP-Nonce")
	if code != 400 || body["error"] != "use_dpop_nonce" || body["error_description"] != "Authorization server requires nonce in DPoP proof." || nonce == "" {
		t.Fatalf("first proof: %d %v nonce %q", code, body, nonce)
	}
	withNonce := func(h map[jose.HeaderKey]any, c map[string]any) { c["nonce"] = nonce }
	replayed := proof(withNonce, key)
	tests := []struct {
		name      string
		proof     string
		wantError string
		wantDesc  string
	}{
		{"no proof", "", "invalid_dpop_proof", "The DPoP proof JWT header is missing."},
		{"nonce unknown", proof(func(h map[jose.HeaderKey]any, c map[string]any) { c["nonce"] = "mine" }, key), "use_dpop_nonce", "Authorization server requires nonce in DPoP proof."},
		{"typ JWT", proof(func(h map[jose.HeaderKey]any, c map[string]any) { withNonce(h, c); h["typ"] = "JWT" }, key), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"no jwk", proof(func(h map[jose.HeaderKey]any, c map[string]any) { withNonce(h, c); delete(h, "jwk") }, key), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"private jwk", proof(func(h map[jose.HeaderKey]any, c map[string]any) {
			withNonce(h, c)
			h["jwk"] = jose.JSONWebKey{Key: key}
		}, key), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"signed by another key", proof(withNonce, other), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"htm GET", proof(func(h map[jose.HeaderKey]any, c map[string]any) { withNonce(h, c); c["htm"] = "GET" }, key), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"htu the issuer", proof(func(h map[jose.HeaderKey]any, c map[string]any) { withNonce(h, c); c["htu"] = e.p.Issuer("default") }, key), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"iat an hour ago", proof(func(h map[jose.HeaderKey]any, c map[string]any) {
			withNonce(h, c)
			c["iat"] = time.Now().Add(-time.Hour).Unix()
		}, key), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"no jti", proof(func(h map[jose.HeaderKey]any, c map[string]any) { withNonce(h, c); delete(c, "jti") }, key), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"HS256", sign(t, []byte(strings.Repeat("k", 32)), jose.HS256, map[jose.HeaderKey]any{"typ": "dpop+jwt"}, map[string]any{"jti": jti(), "htm": "POST", "htu": tokenURL, "iat": time.Now().Unix(), "nonce": nonce}), "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
		{"valid: on to the code", replayed, "invalid_grant", ""},
		{"replayed jti", replayed, "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.proof != "" {
				h.Set("DPoP", tt.proof)
			}
			code, _, body := post(t, tokenURL, form, h)
			if body["error"] != tt.wantError || (tt.wantDesc != "" && body["error_description"] != tt.wantDesc) || code != 400 {
				t.Errorf("%d %v, want 400 %s %q", code, body, tt.wantError, tt.wantDesc)
			}
		})
	}
}

// The DPoP app through a whole code flow: one use_dpop_nonce answer, then
// a DPoP token whose cnf.jkt is the key's; userinfo wants the DPoP scheme
// and a proof with ath by that key.
func TestDPoPBoundTokens(t *testing.T) {
	e, _ := boundEnv(t)
	key, err := flow.NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	def := e.p.Issuer("default")
	md := e.getJSON(t, def+"/.well-known/openid-configuration")
	c := flow.Config{Issuer: def, AuthorizationEndpoint: md["authorization_endpoint"].(string), TokenEndpoint: md["token_endpoint"].(string),
		ClientID: okta.DPoPClientID, RedirectURI: e.redirect, ResponseType: "code", Scopes: []string{"openid", "profile"}, DPoPKey: key}
	res, err := flow.Run(e.ctx, c, flow.RunOptions{Opener: standinFor("alice"), Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.p.Requests("/oauth2/default/v1/token"); n != 2 {
		t.Errorf("token requests %d, want 2 (use_dpop_nonce, then the tokens)", n)
	}
	if res.Tokens.TokenType != "DPoP" {
		t.Errorf("token_type %q", res.Tokens.TokenType)
	}
	_, at := claims(t, res.Tokens.AccessToken)
	if cnf, _ := at["cnf"].(map[string]any); cnf["jkt"] != key.Thumbprint() {
		t.Errorf("cnf %v, want jkt %s", at["cnf"], key.Thumbprint())
	}
	ui := md["userinfo_endpoint"].(string)
	get := func(auth, proof string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, ui, nil)
		req.Header.Set("Authorization", auth)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
	}
	withATH, _ := key.NewProof(flow.DPoPProof{Method: "GET", URL: ui, AccessToken: res.Tokens.AccessToken})
	noATH, _ := key.NewProof(flow.DPoPProof{Method: "GET", URL: ui})
	otherKey, _ := flow.NewDPoPKey()
	byOther, _ := otherKey.NewProof(flow.DPoPProof{Method: "GET", URL: ui, AccessToken: res.Tokens.AccessToken})
	for _, tc := range []struct {
		name, auth, proof string
		want              int
	}{
		{"bearer", "Bearer " + res.Tokens.AccessToken, "", 401},
		{"DPoP without a proof", "DPoP " + res.Tokens.AccessToken, "", 401},
		{"proof without ath", "DPoP " + res.Tokens.AccessToken, noATH, 401},
		{"proof by another key", "DPoP " + res.Tokens.AccessToken, byOther, 401},
		{"proof with ath", "DPoP " + res.Tokens.AccessToken, withATH, 200},
	} {
		if code, www := get(tc.auth, tc.proof); code != tc.want || (code == 401 && !strings.HasPrefix(www, "DPoP ")) {
			t.Errorf("%s: %d %q, want %d", tc.name, code, www, tc.want)
		}
	}
}

func standinFor(user string) flow.Opener {
	return &standin.Browser{Username: user, Password: user + "-okta"}
}

// Each refusal of a client assertion, Okta's words for it, 401
// invalid_client; an assertion that passes leads op to the made-up code.
func TestClientAssertionRefusals(t *testing.T) {
	e, key := boundEnv(t)
	tokenURL := e.p.Issuer("default") + "/v1/token"
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assertion := func(edit func(h map[jose.HeaderKey]any, c map[string]any), signer any) string {
		h := map[jose.HeaderKey]any{"kid": "k1"}
		c := map[string]any{"iss": okta.JWTClientID, "sub": okta.JWTClientID, "aud": tokenURL, "jti": jti(),
			"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()}
		if edit != nil {
			edit(h, c)
		}
		return sign(t, signer, jose.ES256, h, c)
	}
	replayed := assertion(nil, key)
	tests := []struct {
		name, assertion string
		form            url.Values
		wantStatus      int
		wantError       string
		wantDesc        string
	}{
		{"aud the token endpoint: on to the code", replayed, nil, 400, "invalid_grant", ""},
		{"replayed jti", replayed, nil, 401, "invalid_client", "The client_assertion token has already been used."},
		{"aud the issuer", assertion(func(h map[jose.HeaderKey]any, c map[string]any) { c["aud"] = e.p.Issuer("default") }, key), nil, 401, "invalid_client", "The audience claim for client_assertion must be the endpoint invoked for the request."},
		{"no kid", assertion(func(h map[jose.HeaderKey]any, c map[string]any) { delete(h, "kid") }, key), nil, 401, "invalid_client", "The client_assertion JWT kid is invalid."},
		{"unknown kid", assertion(func(h map[jose.HeaderKey]any, c map[string]any) { h["kid"] = "k2" }, key), nil, 401, "invalid_client", "The client_assertion JWT kid is invalid."},
		{"another key", assertion(nil, other), nil, 401, "invalid_client", "The client_assertion signature is invalid."},
		{"sub another client", assertion(func(h map[jose.HeaderKey]any, c map[string]any) { c["sub"] = okta.WebClientID }, key), nil, 401, "invalid_client", "The client_assertion token is invalid."},
		{"expired", assertion(func(h map[jose.HeaderKey]any, c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, key), nil, 401, "invalid_client", "The client_assertion token is invalid."},
		{"exp two hours away", assertion(func(h map[jose.HeaderKey]any, c map[string]any) { c["exp"] = time.Now().Add(2 * time.Hour).Unix() }, key), nil, 401, "invalid_client", "The client_assertion token has an expiration too far into the future."},
		{"no jti", assertion(func(h map[jose.HeaderKey]any, c map[string]any) { delete(c, "jti") }, key), nil, 401, "invalid_client", "The client_assertion token is invalid."},
		{"HS256 for a key app", sign(t, []byte(strings.Repeat("s", 32)), jose.HS256, nil, map[string]any{"iss": okta.JWTClientID, "sub": okta.JWTClientID, "aud": tokenURL, "jti": jti(), "exp": time.Now().Add(time.Minute).Unix()}), nil, 401, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid."},
		{"no assertion", "", nil, 401, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid."},
		{"assertion and secret", assertion(nil, key), url.Values{"client_secret": {"x"}}, 401, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"made-up"}, "client_id": {okta.JWTClientID}, "redirect_uri": {e.redirect}}
			if tt.assertion != "" {
				form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
				form.Set("client_assertion", tt.assertion)
			}
			for k, v := range tt.form {
				form[k] = v
			}
			code, _, body := post(t, tokenURL, form, nil)
			if code != tt.wantStatus || body["error"] != tt.wantError || (tt.wantDesc != "" && body["error_description"] != tt.wantDesc) {
				t.Errorf("%d %v, want %d %s %q", code, body, tt.wantStatus, tt.wantError, tt.wantDesc)
			}
		})
	}
}

// PAR: pushed with the client's authentication, an urn:okta: request_uri
// with expires_in, used once by an authorize request with only client_id
// and request_uri; the Require PAR app refuses a plain authorize request.
func TestPAR(t *testing.T) {
	e, _ := boundEnv(t)
	def := e.p.Issuer("default")
	push := func(t *testing.T, form url.Values) (int, map[string]any) {
		code, _, body := post(t, def+"/v1/par", form, nil)
		return code, body
	}
	authz := url.Values{"client_id": {okta.PublicClientID}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {e.redirect},
		"state": {"s-123456"}, "code_challenge": {strings.Repeat("c", 43)}, "code_challenge_method": {"S256"}}
	for _, tc := range []struct {
		name      string
		edit      func(url.Values)
		wantCode  int
		wantError string
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "0oanobody") }, 401, "invalid_client"},
		{"web app with a wrong secret", func(v url.Values) { v.Set("client_id", okta.WebClientID); v.Set("client_secret", "wrong") }, 401, "invalid_client"},
		{"redirect URI not registered", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:1/other") }, 400, "invalid_request"},
		{"request_uri inside", func(v url.Values) { v.Set("request_uri", "urn:okta:x") }, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			for k, x := range authz {
				v[k] = slices.Clone(x)
			}
			tc.edit(v)
			if code, body := push(t, v); code != tc.wantCode || body["error"] != tc.wantError {
				t.Errorf("%d %v, want %d %s", code, body, tc.wantCode, tc.wantError)
			}
		})
	}
	code, body := push(t, authz)
	uri, _ := body["request_uri"].(string)
	if code != 201 || !strings.HasPrefix(uri, "urn:okta:") || body["expires_in"] != float64(600) {
		t.Fatalf("push: %d %v", code, body)
	}
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	front := def + "/v1/authorize?" + url.Values{"client_id": {okta.PublicClientID}, "request_uri": {uri}}.Encode()
	resp, err := noRedirect.Get(front)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/signin?") {
		t.Errorf("first use: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = noRedirect.Get(front)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second use: %d, want 400", resp.StatusCode)
	}

	// The Require PAR app: a plain request is sent back with Okta's error.
	plain := url.Values{}
	for k, x := range authz {
		plain[k] = slices.Clone(x)
	}
	plain.Set("client_id", okta.PARClientID)
	resp, err = noRedirect.Get(def + "/v1/authorize?" + plain.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "Pushed Authorization Request (PAR) is required") {
		t.Errorf("Require PAR, plain request: %d %s", resp.StatusCode, loc)
	}
	// Pushed, it signs alice in.
	md := e.getJSON(t, def+"/.well-known/openid-configuration")
	c := flow.Config{Issuer: def, AuthorizationEndpoint: md["authorization_endpoint"].(string), TokenEndpoint: md["token_endpoint"].(string),
		ClientID: okta.PARClientID, RedirectURI: e.redirect, ResponseType: "code", Scopes: []string{"openid"},
		PushedAuthorizationRequestEndpoint: md["pushed_authorization_request_endpoint"].(string), PushAuthorizationRequest: true}
	res, err := flow.Run(e.ctx, c, flow.RunOptions{Opener: &standin.Browser{Username: "alice", Password: "alice-okta", RedirectURI: e.redirect}, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if _, idt := claims(t, res.Tokens.IDToken); idt["sub"] != "00ualice" {
		t.Errorf("sub %v", idt["sub"])
	}
}
