package e2e_test

// Infrastructure proof: each real provider is started on loopback and
// ccbrowser signs the test users in through the provider's real pages in
// headless Chromium. A small loopback listener of the test's own catches
// the redirect, and the test redeems the code with golang.org/x/oauth2 and
// checks the groups. This exercises the harness, not claimcheck.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/claimcheck/claimcheck/e2e/harness"
)

var update = flag.Bool("update", false, "rewrite e2e/oidc-provider/example-config.json")

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

// callbackText is what the test's callback page shows; ccbrowser waits for it.
const callbackText = "e2e callback received"

// callbackListener is the test's own redirect target on 127.0.0.1:PORT/callback.
type callbackListener struct {
	URL string
	got chan url.Values
}

func newCallbackListener(t *testing.T) *callbackListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &callbackListener{
		URL: harness.RedirectURI(l.Addr().(*net.TCPAddr).Port),
		got: make(chan url.Values, 8),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		vals := r.URL.Query()
		if r.Method == http.MethodPost {
			vals = r.PostForm
		}
		cb.got <- vals
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>callback</title></head><body><p id=\"result\">%s</p></body></html>", callbackText)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return cb
}

// next returns the parameters of the next callback request.
func (cb *callbackListener) next(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-cb.got:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("ccbrowser finished but the callback listener got no request")
		return nil
	}
}

func randomString(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// runBrowser runs ccbrowser on authURL as u and returns its exit error and
// its combined output.
func runBrowser(t *testing.T, ccbrowser string, p *harness.Provider, u harness.User, authURL string, extra ...string) (string, error) {
	t.Helper()
	args := append([]string{"--user", p.LoginName(u), "--password-env", harness.PasswordEnv, "--timeout", "60s"}, extra...)
	args = append(args, authURL)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ccbrowser, args...)
	cmd.Env = append(os.Environ(), harness.PasswordEnv+"="+u.Password)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("ccbrowser as %s: %v, exit %v", p.LoginName(u), time.Since(start).Round(time.Millisecond), err)
	return out.String(), err
}

type flowResult struct {
	token    *oauth2.Token
	idClaims map[string]any
	provider *oidc.Provider
}

// codeFlow runs an authorization code flow with PKCE for client as u:
// ccbrowser signs in, the listener catches the code, x/oauth2 redeems it and
// go-oidc verifies the ID token (signature, issuer, audience, expiry) and
// the test its nonce.
func codeFlow(t *testing.T, ccbrowser string, p *harness.Provider, cb *callbackListener, client harness.Client, u harness.User, scopes []string) flowResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	endpoint := provider.Endpoint()
	switch client.AuthMethod {
	case "client_secret_basic":
		endpoint.AuthStyle = oauth2.AuthStyleInHeader
	default: // public clients and client_secret_post
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	conf := oauth2.Config{
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		Endpoint:     endpoint,
		RedirectURL:  cb.URL,
		Scopes:       scopes,
	}
	state, nonce, verifier := randomString(t), randomString(t), oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

	out, err := runBrowser(t, ccbrowser, p, u, authURL, "--wait-text", callbackText)
	if err != nil {
		t.Fatalf("ccbrowser failed: %v\n%s", err, out)
	}
	vals := cb.next(t)
	if e := vals.Get("error"); e != "" {
		t.Fatalf("provider answered error=%s: %s", e, vals.Get("error_description"))
	}
	if vals.Get("state") != state {
		t.Fatalf("state %q came back, want %q", vals.Get("state"), state)
	}
	code := vals.Get("code")
	if code == "" {
		t.Fatalf("no code in the callback: %v", vals)
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange (%s): %v", client.AuthMethod, err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		t.Fatal("the token response has no id_token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: client.ID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("ID token nonce %q, want %q", idt.Nonce, nonce)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return flowResult{token: tok, idClaims: claims, provider: provider}
}

// groupsOf returns the string array claim name of claims.
func groupsOf(t *testing.T, claims map[string]any, name string) []string {
	t.Helper()
	raw, ok := claims[name].([]any)
	if !ok {
		t.Fatalf("claim %q is missing or not an array: %v", name, claims)
	}
	var out []string
	for _, g := range raw {
		s, ok := g.(string)
		if !ok {
			t.Fatalf("claim %q holds a non-string %v", name, g)
		}
		out = append(out, s)
	}
	return out
}

func wantGroups(t *testing.T, got []string, u harness.User) {
	t.Helper()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(u.Groups))) {
		t.Fatalf("groups of %s: got %v, want %v", u.Login, got, u.Groups)
	}
}

func stringsOf(doc map[string]any, key string) []string {
	var out []string
	if arr, ok := doc[key].([]any); ok {
		for _, v := range arr {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestDexSignInThroughBrowser(t *testing.T) {
	ccbrowser := harness.BuildCCBrowser(t)
	cb := newCallbackListener(t)
	start := time.Now()
	dex := harness.StartDex(t, harness.DexOptions{RedirectURIs: []string{cb.URL}})
	t.Logf("Dex up at %s in %v", dex.Issuer, time.Since(start).Round(time.Millisecond))

	t.Run("discovery", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		doc, err := harness.Discovery(ctx, dex.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range harness.DexResponseTypes {
			if !slices.Contains(stringsOf(doc, "response_types_supported"), rt) {
				t.Errorf("response_types_supported lacks %q: %v", rt, doc["response_types_supported"])
			}
		}
		if !slices.Contains(stringsOf(doc, "scopes_supported"), "groups") {
			t.Errorf("scopes_supported lacks groups: %v", doc["scopes_supported"])
		}
		t.Logf("Dex: response_types %v, response_modes %v, auth methods %v, scopes %v",
			doc["response_types_supported"], doc["response_modes_supported"], doc["token_endpoint_auth_methods_supported"], doc["scopes_supported"])
	})

	scopes := []string{oidc.ScopeOpenID, "profile", "email", "groups"}
	cases := []struct {
		client harness.Client
		user   harness.User
	}{
		{harness.PublicClient, harness.Alice},
		{harness.PublicClient, harness.Bob},
		{harness.BasicClient, harness.Bob},
		{harness.PostClient, harness.Alice},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("code %s %s", c.client.AuthMethod, c.user.Login), func(t *testing.T) {
			res := codeFlow(t, ccbrowser, dex, cb, c.client, c.user, scopes)
			wantGroups(t, groupsOf(t, res.idClaims, "groups"), c.user)
			if res.idClaims["email"] != c.user.Email {
				t.Errorf("email %v, want %s", res.idClaims["email"], c.user.Email)
			}
		})
	}

	// Dex answers implicit responses in the fragment whatever response_mode
	// asks, and for "id_token token" builds the ID token before the access
	// token, so that ID token has no at_hash; "token id_token" has one.
	implicit := func(t *testing.T, responseType, responseMode string) map[string]any {
		t.Helper()
		u := url.Values{
			"client_id":     {harness.PublicClient.ID},
			"response_type": {responseType},
			"scope":         {"openid groups"},
			"redirect_uri":  {cb.URL},
			"state":         {randomString(t)},
			"nonce":         {randomString(t)},
		}
		if responseMode != "" {
			u.Set("response_mode", responseMode)
		}
		out, err := runBrowser(t, ccbrowser, dex, harness.Alice, dex.Issuer+"/auth?"+u.Encode(), "--print-url", "--wait-text", callbackText)
		if err != nil {
			t.Fatalf("ccbrowser: %v\n%s", err, out)
		}
		if posted := cb.next(t); len(posted) != 0 {
			t.Fatalf("the listener got parameters %v; Dex was expected to use the fragment", posted)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		arrived, err := url.Parse(lines[len(lines)-1])
		if err != nil {
			t.Fatalf("ccbrowser --print-url printed %q: %v", lines[len(lines)-1], err)
		}
		frag, err := url.ParseQuery(arrived.Fragment)
		if err != nil || frag.Get("id_token") == "" || frag.Get("access_token") == "" {
			t.Fatalf("the fragment of %s lacks id_token or access_token", arrived.Redacted())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		provider, err := oidc.NewProvider(ctx, dex.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := provider.Verifier(&oidc.Config{ClientID: harness.PublicClient.ID}).Verify(ctx, frag.Get("id_token"))
		if err != nil {
			t.Fatalf("fragment id_token: %v", err)
		}
		var claims map[string]any
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		wantGroups(t, groupsOf(t, claims, "groups"), harness.Alice)
		return claims
	}
	t.Run("implicit id_token token: fragment, no at_hash", func(t *testing.T) {
		if c := implicit(t, "id_token token", ""); c["at_hash"] != nil {
			t.Fatalf("Dex now sets at_hash for \"id_token token\" (%v): update PITFALLS.md and e2e/README.md", c["at_hash"])
		}
	})
	t.Run("implicit token id_token with form_post: fragment, at_hash", func(t *testing.T) {
		if c := implicit(t, "token id_token", "form_post"); c["at_hash"] == nil {
			t.Fatal("no at_hash in the ID token of \"token id_token\"")
		}
	})

	t.Run("cancelled consent ends on Dex's error page", func(t *testing.T) {
		authURL := dex.Issuer + "/auth?" + url.Values{
			"client_id": {harness.PublicClient.ID}, "response_type": {"code"}, "scope": {"openid groups"},
			"redirect_uri": {cb.URL}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"},
		}.Encode()
		out, err := runBrowser(t, ccbrowser, dex, harness.Alice, authURL, "--consent", "cancel")
		if err == nil {
			t.Fatalf("ccbrowser succeeded although Dex does not redirect after a cancel:\n%s", out)
		}
		if !strings.Contains(out, "Approval rejected") {
			t.Fatalf("ccbrowser's message does not quote Dex's error page:\n%s", out)
		}
	})

	t.Run("wrong password is refused", func(t *testing.T) {
		authURL := dex.Issuer + "/auth?" + url.Values{
			"client_id": {harness.PublicClient.ID}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {cb.URL}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"},
		}.Encode()
		wrong := harness.Alice
		wrong.Password = "not-the-password"
		out, err := runBrowser(t, ccbrowser, dex, wrong, authURL)
		if err == nil || !strings.Contains(out, "refused the sign-in") {
			t.Fatalf("want a refused sign-in, got %v:\n%s", err, out)
		}
	})
}

// TestDexDevicePagesThroughBrowser: ccbrowser --device on Dex's device pages
// when the flow cannot go on, and what Dex's device flow needs (the
// grants_test.go cells run it to the end).
func TestDexDevicePagesThroughBrowser(t *testing.T) {
	ccbrowser := harness.BuildCCBrowser(t)
	cb := newCallbackListener(t)
	// No DeviceFlow: cc-public lacks /device/callback.
	dex := harness.StartDex(t, harness.DexOptions{RedirectURIs: []string{cb.URL}})

	// deviceCode asks Dex for a device code as a device would.
	deviceCode := func(t *testing.T, clientID string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		form := url.Values{"client_id": {clientID}, "scope": {"openid groups"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, dex.Issuer+"/device/code", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("device authorization: status %s, %v", resp.Status, err)
		}
		return out
	}
	// wantFail runs ccbrowser and wants exit 1 with a message holding each
	// of words.
	wantFail := func(t *testing.T, u string, extra []string, words ...string) {
		t.Helper()
		out, err := runBrowser(t, ccbrowser, dex, harness.Alice, u, extra...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("want exit 1, got %v:\n%s", err, out)
		}
		for _, w := range words {
			if !strings.Contains(out, w) {
				t.Errorf("ccbrowser's message lacks %q:\n%s", w, out)
			}
		}
	}

	t.Run("unknown user code is refused", func(t *testing.T) {
		wantFail(t, dex.Issuer+"/device?user_code=BCDF-GHJK", []string{"--device"}, "refused the user code", "Invalid or Expired User Code")
	})
	t.Run("no user code in the URL", func(t *testing.T) {
		wantFail(t, dex.Issuer+"/device", []string{"--device"}, "asks for the user code", "verification_uri_complete")
	})
	t.Run("device page without --device", func(t *testing.T) {
		wantFail(t, dex.Issuer+"/device?user_code=BCDF-GHJK", []string{"--redirect-uri", cb.URL}, "without --device")
	})
	t.Run("without /device/callback registered", func(t *testing.T) {
		// Dex's verification page sends the browser to its authorization
		// endpoint with redirect_uri /device/callback, which a client with
		// registered redirect URIs must list.
		dc := deviceCode(t, harness.PublicClient.ID)
		complete, _ := dc["verification_uri_complete"].(string)
		wantFail(t, complete, []string{"--device"}, "error page", "Unregistered redirect_uri")
	})
	t.Run("unregistered client gets a device code", func(t *testing.T) {
		// Dex does not check client_id at its device authorization
		// endpoint (the sign-in fails later, on "Invalid client_id.").
		if dc := deviceCode(t, "no-such-client"); dc["device_code"] == nil {
			t.Fatalf("Dex now refuses an unknown client at /device/code (%v): update e2e/README.md", dc)
		}
	})
}

func TestOIDCProviderSignInThroughBrowser(t *testing.T) {
	ccbrowser := harness.BuildCCBrowser(t)
	cb := newCallbackListener(t)
	start := time.Now()
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: []string{cb.URL}})
	t.Logf("oidc-provider up at %s in %v (kid %v)", op.Issuer, time.Since(start).Round(time.Millisecond), op.Kids)

	t.Run("discovery", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		doc, err := harness.Discovery(ctx, op.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range harness.OIDCProviderResponseTypes {
			if !slices.Contains(stringsOf(doc, "response_types_supported"), rt) {
				t.Errorf("response_types_supported lacks %q: %v", rt, doc["response_types_supported"])
			}
		}
		for _, m := range []string{"query", "fragment", "form_post"} {
			if !slices.Contains(stringsOf(doc, "response_modes_supported"), m) {
				t.Errorf("response_modes_supported lacks %q", m)
			}
		}
		t.Logf("oidc-provider: response_types %v, response_modes %v, auth methods %v, scopes %v",
			doc["response_types_supported"], doc["response_modes_supported"], doc["token_endpoint_auth_methods_supported"], doc["scopes_supported"])
	})

	scopes := []string{oidc.ScopeOpenID, "groups"}
	cases := []struct {
		client harness.Client
		user   harness.User
	}{
		{harness.PublicClient, harness.Alice},
		{harness.PublicClient, harness.Bob},
		{harness.BasicClient, harness.Alice},
		{harness.PostClient, harness.Bob},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("code %s %s", c.client.AuthMethod, c.user.Login), func(t *testing.T) {
			res := codeFlow(t, ccbrowser, op, cb, c.client, c.user, scopes)
			wantGroups(t, groupsOf(t, res.idClaims, "groups"), c.user)
		})
	}

	t.Run("JWT access token for the API carries GroupsClaim", func(t *testing.T) {
		res := codeFlow(t, ccbrowser, op, cb, harness.APIClient, harness.Alice, scopes)
		wantGroups(t, groupsOf(t, res.idClaims, "groups"), harness.Alice)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// go-oidc's verifier checks signature, iss, exp and that aud holds
		// the "client id" given: here the resource.
		at, err := res.provider.Verifier(&oidc.Config{ClientID: harness.APIResource}).Verify(ctx, res.token.AccessToken)
		if err != nil {
			t.Fatalf("access token: %v", err)
		}
		var claims map[string]any
		if err := at.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		wantGroups(t, groupsOf(t, claims, harness.APIGroupsClaim), harness.Alice)
		if _, ok := claims["groups"]; ok {
			t.Errorf("the access token also has a claim named groups: %v", claims)
		}
	})

	t.Run("form_post carries an implicit id_token", func(t *testing.T) {
		nonce := randomString(t)
		authURL := op.Issuer + "/auth?" + url.Values{
			"client_id": {harness.PublicClient.ID}, "response_type": {"id_token"}, "response_mode": {"form_post"},
			"scope": {"openid groups"}, "redirect_uri": {cb.URL}, "state": {"s"}, "nonce": {nonce},
		}.Encode()
		out, err := runBrowser(t, ccbrowser, op, harness.Bob, authURL, "--wait-text", callbackText)
		if err != nil {
			t.Fatalf("ccbrowser: %v\n%s", err, out)
		}
		vals := cb.next(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		provider, err := oidc.NewProvider(ctx, op.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := provider.Verifier(&oidc.Config{ClientID: harness.PublicClient.ID}).Verify(ctx, vals.Get("id_token"))
		if err != nil {
			t.Fatalf("form_post id_token: %v (posted %v)", err, vals)
		}
		var claims map[string]any
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if idt.Nonce != nonce {
			t.Errorf("nonce %q, want %q", idt.Nonce, nonce)
		}
		wantGroups(t, groupsOf(t, claims, "groups"), harness.Bob)
	})

	t.Run("cancelled consent redirects with access_denied", func(t *testing.T) {
		authURL := op.Issuer + "/auth?" + url.Values{
			"client_id": {harness.PublicClient.ID}, "response_type": {"code"}, "scope": {"openid groups"},
			"redirect_uri": {cb.URL}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"},
		}.Encode()
		out, err := runBrowser(t, ccbrowser, op, harness.Alice, authURL, "--consent", "cancel", "--wait-text", callbackText)
		if err != nil {
			t.Fatalf("ccbrowser: %v\n%s", err, out)
		}
		if vals := cb.next(t); vals.Get("error") != "access_denied" {
			t.Fatalf("callback got %v, want error=access_denied", vals)
		}
	})

	t.Run("wrong password is refused", func(t *testing.T) {
		authURL := op.Issuer + "/auth?" + url.Values{
			"client_id": {harness.PublicClient.ID}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {cb.URL}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"},
		}.Encode()
		wrong := harness.Bob
		wrong.Password = "not-the-password"
		out, err := runBrowser(t, ccbrowser, op, wrong, authURL)
		if err == nil || !strings.Contains(out, "refused the sign-in") {
			t.Fatalf("want a refused sign-in, got %v:\n%s", err, out)
		}
	})
}

// With conformIdTokenClaims (oidc-provider's own default) the code flow's ID
// token carries no groups; userinfo does.
func TestOIDCProviderConformIDTokenClaims(t *testing.T) {
	ccbrowser := harness.BuildCCBrowser(t)
	cb := newCallbackListener(t)
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: []string{cb.URL}, ConformIDTokenClaims: true})
	res := codeFlow(t, ccbrowser, op, cb, harness.PublicClient, harness.Alice, []string{oidc.ScopeOpenID, "groups"})
	if g, ok := res.idClaims["groups"]; ok {
		t.Fatalf("the ID token has groups %v although conformIdTokenClaims is on", g)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ui, err := res.provider.UserInfo(ctx, oauth2.StaticTokenSource(res.token))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	wantGroups(t, groupsOf(t, claims, "groups"), harness.Alice)
}

// Each start without a key file has a new signing key; a key file keeps the
// key across restarts until --new-key replaces it.
func TestOIDCProviderKeyRotation(t *testing.T) {
	redirect := []string{harness.RedirectURI(harness.FreePort(t))}
	kid := func(opts harness.OIDCProviderOptions) string {
		t.Helper()
		opts.RedirectURIs = redirect
		p := harness.StartOIDCProvider(t, opts)
		defer p.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		doc, err := harness.Discovery(ctx, p.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, doc["jwks_uri"].(string), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var jwks struct {
			Keys []struct {
				Kid string `json:"kid"`
				D   string `json:"d"`
			} `json:"keys"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
			t.Fatal(err)
		}
		if len(jwks.Keys) != 1 || jwks.Keys[0].Kid != p.Kids[0] {
			t.Fatalf("the JWKS %+v does not hold exactly the key %v", jwks.Keys, p.Kids)
		}
		if jwks.Keys[0].D != "" {
			t.Fatal("the published JWKS holds a private key")
		}
		return p.Kids[0]
	}
	a, b := kid(harness.OIDCProviderOptions{}), kid(harness.OIDCProviderOptions{})
	if a == b {
		t.Fatalf("two starts without a key file share the key %s", a)
	}
	file := filepath.Join(t.TempDir(), "jwks.json")
	c := kid(harness.OIDCProviderOptions{JWKSFile: file})
	if d := kid(harness.OIDCProviderOptions{JWKSFile: file}); d != c {
		t.Fatalf("a restart with the same key file changed the key: %s, then %s", c, d)
	}
	if e := kid(harness.OIDCProviderOptions{JWKSFile: file, NewKey: true}); e == c {
		t.Fatalf("--new-key kept the key %s", c)
	}
}

// e2e/oidc-provider/example-config.json is what the harness configures, for
// running server.js by hand. Regenerate it with: go test -run TestExampleConfig -update
func TestExampleConfigUpToDate(t *testing.T) {
	want, err := harness.ExampleOIDCProviderConfig()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := harness.E2EDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "oidc-provider", "example-config.json")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run go test -run TestExampleConfig -update", path)
	}
}
