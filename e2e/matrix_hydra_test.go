package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/e2e/harness"
)

// Ory Hydra (e2e/tools/hydra): the harness's login and consent app signs
// the users in; the consent app puts the groups into the ID token (and so
// userinfo) and the access token, a JWT.

// hydraKeyID is the kid of JWTClient's key at Hydra.
const hydraKeyID = "cc-jwt-hydra-1"

// hydraCases are the flows of Hydra, on one start; keyFile holds
// JWTClient's private key.
func hydraCases(keyFile string) []matrixCase {
	atGroups := []string{"--groups-from", "access_token", "--groups-claim", "access_token:groups", "--param", "audience=" + harness.APIResource, "--audience", harness.APIResource}
	return []matrixCase{
		{cell: cell{name: "code_pkce_public", client: harness.PublicClient}, tokens: []string{"id_token", "access_token"}},
		{cell: cell{name: "code_basic", client: harness.BasicClient, args: basic}, tokens: []string{"id_token", "access_token"}},
		{cell: cell{name: "code_post", client: harness.PostClient, args: post}, tokens: []string{"id_token", "access_token"}},
		{cell: cell{name: "code_private_key_jwt", client: harness.JWTClient, args: []string{"--client-auth", "private_key_jwt", "--client-key", keyFile}}, tokens: []string{"id_token", "access_token"}, then: wantHydraAssertion},
		{cell: cell{name: "implicit_id_token", client: harness.PublicClient, args: implicit("id_token")}, tokens: []string{"id_token"}},
		{cell: cell{name: "implicit_id_token_token", client: harness.PublicClient, args: implicit("id_token token")}, tokens: []string{"id_token", "access_token"}, then: wantClaim("id_token", "at_hash")},
		{cell: cell{name: "code_form_post", client: harness.PublicClient, args: []string{"--response-mode", "form_post"}}, tokens: []string{"id_token"}, then: both(wantResponseMode("form_post"), wantNoModeNote)},
		{cell: cell{name: "implicit_id_token_form_post", client: harness.PublicClient, args: implicit("id_token", "--response-mode", "form_post")}, tokens: []string{"id_token"}, then: both(wantResponseMode("form_post"), wantNoModeNote)},
		{cell: cell{name: "hybrid_code_id_token", client: harness.PublicClient, args: hybrid("code id_token")}, tokens: []string{"id_token", "front_id_token"}, then: wantClaim("front_id_token", "c_hash")},
		{cell: cell{name: "hybrid_code_token", client: harness.PublicClient, args: hybrid("code token")}, tokens: []string{"id_token"}},
		{cell: cell{name: "hybrid_code_id_token_token", client: harness.PublicClient, args: hybrid("code id_token token")}, tokens: []string{"id_token", "front_id_token"}, then: wantClaim("front_id_token", "at_hash")},
		// The groups of the JWT access token, for the audience asked for
		// (Hydra's audience parameter) and checked with --audience.
		{cell: cell{name: "access_token_groups", client: harness.PublicClient, args: atGroups}, tokens: []string{"id_token", "access_token"}, then: wantHydraAccessTokenGroups},
		// userinfo answers with the ID token's session claims; the note
		// gives the flag as the reason, not a token without groups.
		{cell: cell{name: "userinfo_groups", client: harness.PublicClient, args: []string{"--groups-from", "userinfo"}}, tokens: []string{"id_token", "userinfo"}, then: both(wantGroupsSource("userinfo"), wantNote("--groups-from names userinfo, so the userinfo endpoint was asked"))},
		// "[ Cancel ]" on the consent app's page: the app rejects the
		// consent challenge, and Hydra redirects with access_denied.
		{
			cell:  cell{name: "consent_cancelled", client: harness.PublicClient, browser: []string{"--consent", "cancel"}},
			users: []harness.User{harness.Alice},
			check: func(t *testing.T, _ harness.User, r ccRun) {
				t.Helper()
				wantError(t, r, 3, "flow", "access_denied")
				if len(r.Report.Tokens) != 0 {
					t.Errorf("a refused authorization has tokens: %v", keys(r.Report.Tokens))
				}
			},
		},
	}
}

// wantHydraAssertion: the client assertion was RS256 with JWTClient's kid
// for Hydra's token endpoint.
func wantHydraAssertion(t *testing.T, _ harness.User, r ccRun) {
	t.Helper()
	q := r.Report.Request
	if q.ClientAuth != "private_key_jwt" || q.ClientAssertion == nil || q.ClientAssertion.Alg != "RS256" || q.ClientAssertion.KeyID != hydraKeyID || !strings.HasSuffix(q.ClientAssertion.Audience, "/oauth2/token") {
		t.Errorf("request.client_auth %q, client_assertion %+v", q.ClientAuth, q.ClientAssertion)
	}
}

// wantNote asserts that the report has the note.
func wantNote(note string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, _ harness.User, r ccRun) {
		t.Helper()
		if !slices.Contains(r.Report.Notes, note) {
			t.Errorf("the report's notes %q lack %q", r.Report.Notes, note)
		}
	}
}

// wantGroupsSource asserts that every group check that passed rests on the
// token kind.
func wantGroupsSource(kind string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, _ harness.User, r ccRun) {
		t.Helper()
		n := 0
		for _, c := range r.Report.Checks {
			if strings.HasPrefix(c.Name, "group ") && c.OK {
				n++
				if !strings.Contains(c.Source, kind) {
					t.Errorf("check %q rests on %q, want %s", c.Name, c.Source, kind)
				}
			}
		}
		if n == 0 {
			t.Errorf("no group checks: %+v", r.Report.Checks)
		}
	}
}

func wantHydraAccessTokenGroups(t *testing.T, u harness.User, r ccRun) {
	t.Helper()
	wantGroupsSource("access_token")(t, u, r)
	at := r.Report.Tokens["access_token"]
	if got := fmt.Sprint(at.Claims["groups"]); got != fmt.Sprint(u.Groups) {
		t.Errorf("the access token's groups are %s, want %v", got, u.Groups)
	}
	if !strings.Contains(fmt.Sprint(at.Claims["aud"]), harness.APIResource) {
		t.Errorf("the access token's aud is %v, want %s", at.Claims["aud"], harness.APIResource)
	}
}

func TestMatrixHydra(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "cc-jwt-key.json")
	jwk, err := harness.WriteClientKey(keyFile, hydraKeyID)
	if err != nil {
		t.Fatal(err)
	}
	cases := hydraCases(keyFile)
	ps, uris := harness.FreePorts(t, runCount(cases)+len(harness.Users))
	hydra := harness.StartHydra(t, harness.HydraOptions{RedirectURIs: uris, ClientJWK: jwk})
	runCases(t, hydra, cases, ps)
	// A refresh token (offline_access) redeemed by a second run.
	for i, u := range harness.Users {
		t.Run("refresh_token/"+u.Login, func(t *testing.T) {
			t.Parallel()
			refreshCycle(t, hydra, ps[runCount(cases)+i], u, cell{name: "refresh_token", client: harness.PublicClient, scopes: "openid,groups,offline_access"})
		})
	}
	// client_credentials: a JWT access token about no user, so no
	// groups, no ID token and no userinfo.
	t.Run("client_credentials", func(t *testing.T) {
		t.Parallel()
		c := cell{name: "client_credentials", client: harness.BasicClient, grant: "client_credentials", scopes: "groups", noExpect: true, args: basic}
		r := claimcheck(t, hydra, ps[0], harness.Alice, c)
		wantPass(t, r, "access_token")
		if got := keys(r.Report.Tokens); !slices.Equal(got, []string{"access_token"}) {
			t.Errorf("tokens %v, want only the access token", got)
		}
		if g, ok := r.Report.Tokens["access_token"].Claims["groups"]; ok {
			t.Errorf("a client's access token has groups: %v", g)
		}
	})
}
