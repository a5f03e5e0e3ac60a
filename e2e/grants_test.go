package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/e2e/harness"
)

// Grants beyond the redirect flows (after the matrix): a refresh token got
// through the browser and redeemed by a second run that shares nothing else
// with the first (both providers), and the password grant (Dex, whose
// static passwords serve it with oauth2.passwordConnector: local).

// refreshTokenPrefix starts the stderr line of --print-refresh-token.
const refreshTokenPrefix = "refresh token (store it as CLAIMCHECK_REFRESH_TOKEN): "

// refreshCycle signs u in with offline_access and --print-refresh-token, then
// runs --grant refresh_token with that token: Alice passes both, Bob fails
// both on IT, and the refreshed ID token is verified.
func refreshCycle(t *testing.T, p *harness.Provider, port int, u harness.User, c cell) {
	t.Helper()
	first := c
	first.name += "/sign-in"
	first.args = append(append([]string{}, c.args...), "--print-refresh-token")
	r := claimcheck(t, p, port, u, first)
	verdict(t, u, r, "id_token")
	var rt string
	for _, line := range strings.Split(r.Stderr, "\n") {
		if s, ok := strings.CutPrefix(line, refreshTokenPrefix); ok {
			rt = strings.TrimSpace(s)
		}
	}
	if rt == "" {
		t.Fatalf("no refresh token on stderr (scopes %s)", c.scopes)
	}
	second := cell{name: c.name + "/refresh", client: c.client, scopes: c.scopes, grant: "refresh_token", env: []string{"CLAIMCHECK_REFRESH_TOKEN=" + rt}}
	r = claimcheck(t, p, port, u, second)
	verdict(t, u, r, "id_token")
	if strings.Contains(r.Stdout, rt) {
		t.Errorf("the refresh token is in the report")
	}
}

// verdict is the default: Alice exit 0, Bob exit 1 naming IT.
func verdict(t *testing.T, u harness.User, r ccRun, tokens ...string) {
	t.Helper()
	if u.Login == harness.Alice.Login {
		wantPass(t, r, tokens...)
	} else {
		wantMissingIT(t, r, tokens...)
	}
}

func TestGrantRefreshTokenDex(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, len(harness.Users))
	dex := harness.StartDex(t, harness.DexOptions{RedirectURIs: uris})
	for i, u := range harness.Users {
		t.Run(u.Login, func(t *testing.T) {
			t.Parallel()
			refreshCycle(t, dex, ps[i], u, cell{name: "refresh_token", client: harness.PublicClient, scopes: "openid,groups,offline_access"})
		})
	}
}

func TestGrantRefreshTokenOIDCProvider(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, len(harness.Users))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	for i, u := range harness.Users {
		t.Run(u.Login, func(t *testing.T) {
			t.Parallel()
			// oidc-provider grants offline_access only with prompt=consent.
			refreshCycle(t, op, ps[i], u, cell{name: "refresh_token", client: harness.PublicClient, scopes: "openid,groups,offline_access", args: []string{"--param", "prompt=consent"}})
		})
	}
}

func TestGrantPasswordDex(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, 1)
	dex := harness.StartDex(t, harness.DexOptions{RedirectURIs: uris, PasswordGrant: true})
	for _, u := range harness.Users {
		t.Run(u.Login, func(t *testing.T) {
			t.Parallel()
			c := cell{name: "password", client: harness.BasicClient, grant: "password",
				args: []string{"--username", u.Email, "--client-auth", "client_secret_basic"},
				env:  []string{"CLAIMCHECK_PASSWORD=" + u.Password}}
			r := claimcheck(t, dex, ps[0], u, c)
			verdict(t, u, r, "id_token")
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		c := cell{name: "password", client: harness.BasicClient, grant: "password",
			args: []string{"--username", harness.Alice.Email, "--client-auth", "client_secret_basic"},
			env:  []string{"CLAIMCHECK_PASSWORD=not-the-password"}}
		r := claimcheck(t, dex, ps[0], harness.Alice, c)
		// Dex answers 401 access_denied: the grant was refused, a flow
		// failure, with Dex's description shown.
		wantError(t, r, 3, "flow", "access_denied", "Invalid username or password")
		if len(r.Report.Tokens) != 0 {
			t.Errorf("a refused grant has tokens: %v", keys(r.Report.Tokens))
		}
	})
}

// client_credentials at oidc-provider (feature clientCredentials, granted to
// the confidential clients): a token about no user, so no groups are
// expected, no ID token comes, and userinfo is not asked; the opaque access
// token is introspected.
func TestGrantClientCredentialsOIDCProvider(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, 1)
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	for _, cl := range []harness.Client{harness.BasicClient, harness.PostClient} {
		t.Run(cl.ID, func(t *testing.T) {
			t.Parallel()
			c := cell{name: "client_credentials", client: cl, grant: "client_credentials", scopes: "openid", noExpect: true,
				args: []string{"--client-auth", cl.AuthMethod}}
			r := claimcheck(t, op, ps[0], harness.Alice, c)
			wantPass(t, r)
			if _, ok := r.Report.Tokens["id_token"]; ok {
				t.Errorf("client_credentials brought an ID token")
			}
			at, ok := r.Report.Tokens["access_token"]
			if !ok {
				t.Fatalf("no access token in the report: %v", keys(r.Report.Tokens))
			}
			// Opaque: introspected with the client secret (the provider
			// vouches for it), as after a browser flow.
			if at.Verified || !strings.Contains(at.Note, "opaque") {
				t.Errorf("want an opaque access token, got verified %v, note %q", at.Verified, at.Note)
			}
			in, ok := r.Report.Tokens["introspection"]
			if !ok || !in.Verified || in.Claims["active"] != true {
				t.Errorf("the access token was not introspected: %+v", in)
			}
			if _, ok := r.Report.Tokens["userinfo"]; ok {
				t.Errorf("userinfo was asked about a token that is about no user")
			}
		})
	}
}

// device_code at oidc-provider (feature deviceFlow, granted to cc-public):
// claimcheck asks for a device code and runs ccbrowser --device at the
// verification_uri_complete, which confirms the user code, signs in and
// approves consent (or aborts at the confirmation page); claimcheck's first
// poll, made when ccbrowser exits, gets the tokens (or access_denied).
func TestGrantDeviceCodeOIDCProvider(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, 1)
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	for _, u := range harness.Users {
		t.Run(u.Login, func(t *testing.T) {
			t.Parallel()
			c := cell{name: "device_code", client: harness.PublicClient, grant: "device_code", browser: []string{"--device"}}
			r := claimcheck(t, op, ps[0], u, c)
			verdict(t, u, r, "id_token")
			wantDeviceBrowserOK(t, r)
			wantDeviceOutcome(t, r, "approved", "Sign-in Success")
			groups, _ := r.Report.Tokens["id_token"].Claims["groups"].([]any)
			if hasIT := slices.Contains(groups, any("IT")); hasIT != (u.Login == harness.Alice.Login) {
				t.Errorf("the ID token's groups are %v", groups)
			}
		})
	}
	t.Run("aborted", func(t *testing.T) {
		t.Parallel()
		c := cell{name: "device_code", client: harness.PublicClient, grant: "device_code", browser: []string{"--device", "--consent", "cancel"}}
		r := claimcheck(t, op, ps[0], harness.Alice, c)
		wantError(t, r, 3, "flow", "denied the device authorization", "access_denied", "End-User aborted interaction")
		wantDeviceBrowserOK(t, r)
		wantDeviceOutcome(t, r, "denied", "The Sign-in request was interrupted")
		if len(r.Report.Tokens) != 0 {
			t.Errorf("an aborted device authorization has tokens: %v", keys(r.Report.Tokens))
		}
	})
}

// wantDeviceBrowserOK asserts that claimcheck showed the user code and that
// ccbrowser, its opener, exited 0 (claimcheck warns when the browser fails).
func wantDeviceBrowserOK(t *testing.T, r ccRun) {
	t.Helper()
	if !strings.Contains(r.Stderr, "To sign in, open ") {
		t.Errorf("claimcheck did not show the verification URI and user code")
	}
	if strings.Contains(r.Stderr, "could not open a browser") {
		t.Errorf("ccbrowser --device failed")
	}
}

// device_code at Dex: Dex's device flow needs a public client with its
// callback (/device/callback) registered (harness DexOptions.DeviceFlow).
// claimcheck opens verification_uri_complete, Dex's "Enter User Code" form
// with the code filled in; ccbrowser submits it, signs in with the static
// password, approves on Dex's approval page and waits for "Login Successful
// for …" (Dex redeems the code at /device/callback itself); claimcheck's
// first poll, made when ccbrowser exits, gets the tokens.
func TestGrantDeviceCodeDex(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, 1)
	dex := harness.StartDex(t, harness.DexOptions{RedirectURIs: uris, DeviceFlow: true})
	for _, u := range harness.Users {
		t.Run(u.Login, func(t *testing.T) {
			t.Parallel()
			c := cell{name: "device_code", client: harness.PublicClient, grant: "device_code", browser: []string{"--device"}}
			r := claimcheck(t, dex, ps[0], u, c)
			verdict(t, u, r, "id_token", "access_token")
			wantDeviceBrowserOK(t, r)
			wantDeviceOutcome(t, r, "approved", "Login Successful for claimcheck e2e "+harness.PublicClient.ID)
			id := r.Report.Tokens["id_token"].Claims
			groups, _ := id["groups"].([]any)
			if hasIT := slices.Contains(groups, any("IT")); hasIT != (u.Login == harness.Alice.Login) {
				t.Errorf("the ID token's groups are %v", groups)
			}
			// Dex's device flow is a code flow behind the scenes (its own
			// authorization request, redirect_uri /device/callback, and
			// its own code exchange): the ID token has no nonce (none was
			// sent), an at_hash (claimcheck checks it against the access
			// token it got, which is the one Dex minted then) and a c_hash
			// of Dex's internal code, which claimcheck never sees. Scopes
			// openid,groups: no email or profile claims.
			if _, ok := id["nonce"]; ok {
				t.Errorf("the device flow's ID token has a nonce: %v", id["nonce"])
			}
			for _, claim := range []string{"at_hash", "c_hash"} {
				if _, ok := id[claim]; !ok {
					t.Errorf("the device flow's ID token has no %s (claims %v)", claim, keys(id))
				}
			}
			if _, ok := id["email"]; ok {
				t.Errorf("an email claim without the email scope: %v", id["email"])
			}
			if id["aud"] != harness.PublicClient.ID {
				t.Errorf("the ID token's aud is %v", id["aud"])
			}
			// Dex's access token is a JWT too, verified, with the groups.
			atGroups, _ := r.Report.Tokens["access_token"].Claims["groups"].([]any)
			if !slices.Equal(atGroups, groups) {
				t.Errorf("the access token's groups %v differ from the ID token's %v", atGroups, groups)
			}
		})
	}
	// Dex's "Cancel" on its approval page shows "Approval rejected." and
	// leaves the device code pending: the polling client is never told
	// access_denied (Dex has no denied state for device codes; checked in
	// its source, server/deviceflowhandlers.go and handleApproval). The
	// wait ends when the device code expires, here after 30s
	// (expiry.deviceRequests; Dex's default is 5 minutes), and claimcheck
	// stops at that expiry: exit 3.
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		short := harness.StartDex(t, harness.DexOptions{RedirectURIs: uris, DeviceFlow: true, DeviceRequestsValidFor: 30 * time.Second})
		c := cell{name: "device_code", client: harness.PublicClient, grant: "device_code", browser: []string{"--device", "--consent", "cancel"}}
		r := claimcheck(t, short, ps[0], harness.Alice, c)
		wantError(t, r, 3, "flow", "the device code expired (expires_in 30s) before the user approved code", short.Issuer+"/device")
		wantDeviceBrowserOK(t, r)
		wantDeviceOutcome(t, r, "denied", "Approval rejected.")
		if len(r.Report.Tokens) != 0 {
			t.Errorf("a cancelled device authorization has tokens: %v", keys(r.Report.Tokens))
		}
	})
}

// wantDeviceOutcome asserts ccbrowser's line (passed on by claimcheck on
// stderr) saying how the device flow ended at the provider.
func wantDeviceOutcome(t *testing.T, r ccRun, how, words string) {
	t.Helper()
	for _, line := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(line, "ccbrowser: device authorization "+how+" at the provider: ") && strings.Contains(line, words) {
			return
		}
	}
	t.Errorf("ccbrowser did not say the device authorization was %s (%q)", how, words)
}
