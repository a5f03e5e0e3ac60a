package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/e2e/harness"
)

// matrixCase is a flow run once as Alice and once as Bob.
type matrixCase struct {
	cell
	// tokens must be in the report, verified, whenever the run gets that
	// far.
	tokens []string
	// check replaces the default verdicts (Alice: exit 0; Bob: exit 1
	// naming IT).
	check func(t *testing.T, u harness.User, r ccRun)
	// then runs after the verdict (extra assertions, either user).
	then func(t *testing.T, u harness.User, r ccRun)
	// users replaces Alice and Bob.
	users []harness.User
}

func (mc matrixCase) runUsers() []harness.User {
	if mc.users != nil {
		return mc.users
	}
	return harness.Users
}

// runCount is the number of runs (and redirect ports) of cases.
func runCount(cases []matrixCase) int {
	n := 0
	for _, mc := range cases {
		n += len(mc.runUsers())
	}
	return n
}

func implicit(responseType string, more ...string) []string {
	return append([]string{"--flow", "implicit", "--response-type", responseType}, more...)
}

func hybrid(responseType string, more ...string) []string {
	return append([]string{"--flow", "code", "--response-type", responseType}, more...)
}

var (
	basic = []string{"--client-auth", "client_secret_basic"}
	post  = []string{"--client-auth", "client_secret_post"}
)

// wantResponseMode asserts how the report says the response arrived.
func wantResponseMode(mode string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, u harness.User, r ccRun) {
		t.Helper()
		if r.Report.Request.ResponseMode != mode {
			t.Errorf("the report's response_mode is %q, want %q", r.Report.Request.ResponseMode, mode)
		}
	}
}

// wantArrivedAs asserts that the report notes the response arriving in
// another mode than the one asked for (and asked is still what the request
// says).
func wantArrivedAs(asked, arrived string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, u harness.User, r ccRun) {
		t.Helper()
		wantResponseMode(asked)(t, u, r)
		want := "response_mode " + asked + " was asked for; the provider answered with " + arrived + " instead"
		for _, n := range r.Report.Notes {
			if n == want {
				return
			}
		}
		t.Errorf("the report's notes %q lack %q", r.Report.Notes, want)
	}
}

// wantNoModeNote asserts that a response that came as asked has no note
// about its mode.
func wantNoModeNote(t *testing.T, _ harness.User, r ccRun) {
	t.Helper()
	for _, n := range r.Report.Notes {
		if strings.Contains(n, "response_mode") {
			t.Errorf("unexpected note: %q", n)
		}
	}
}

// wantMissingAtHash is Dex's "id_token token" (and "code id_token token"):
// its front-channel ID token has no at_hash, which OpenID Core 3.2.2.10
// (3.3.2.11 for the hybrid flow) requires: exit 4 for either user, naming
// at_hash.
func wantMissingAtHash(t *testing.T, _ harness.User, r ccRun) {
	t.Helper()
	wantError(t, r, 4, "verification", "at_hash")
}

// dexCases are the flows Dex supports.
var dexCases = []matrixCase{
	{cell: cell{name: "code_pkce_public", client: harness.PublicClient}, tokens: []string{"id_token"}},
	{cell: cell{name: "code_basic", client: harness.BasicClient, args: basic}, tokens: []string{"id_token"}},
	{cell: cell{name: "code_post", client: harness.PostClient, args: post}, tokens: []string{"id_token"}},
	{cell: cell{name: "implicit_id_token", client: harness.PublicClient, args: implicit("id_token")}, tokens: []string{"id_token"}},
	{cell: cell{name: "implicit_id_token_token", client: harness.PublicClient, args: implicit("id_token token")}, check: wantMissingAtHash},
	// Dex ignores response_mode: the form_post request is answered in the
	// fragment, which the listener takes too.
	{cell: cell{name: "implicit_id_token_form_post", client: harness.PublicClient, args: implicit("id_token", "--response-mode", "form_post")}, tokens: []string{"id_token"}, then: wantArrivedAs("form_post", "fragment")},
	{cell: cell{name: "code_form_post", client: harness.PublicClient, args: []string{"--response-mode", "form_post"}}, tokens: []string{"id_token"}, then: wantArrivedAs("form_post", "query")},
	{cell: cell{name: "hybrid_code_id_token", client: harness.PublicClient, args: hybrid("code id_token")}, tokens: []string{"id_token"}},
	{cell: cell{name: "hybrid_code_token", client: harness.PublicClient, args: hybrid("code token")}, tokens: []string{"id_token"}},
	{cell: cell{name: "hybrid_code_id_token_token", client: harness.PublicClient, args: hybrid("code id_token token")}, check: wantMissingAtHash},
}

// oidcProviderCases are the flows oidc-provider supports, on one provider
// start.
var oidcProviderCases = []matrixCase{
	{cell: cell{name: "code_pkce_public", client: harness.PublicClient}, tokens: []string{"id_token"}},
	{cell: cell{name: "code_basic", client: harness.BasicClient, args: basic}, tokens: []string{"id_token"}},
	{cell: cell{name: "code_post", client: harness.PostClient, args: post}, tokens: []string{"id_token"}},
	{cell: cell{name: "implicit_id_token", client: harness.PublicClient, args: implicit("id_token")}, tokens: []string{"id_token"}},
	{cell: cell{name: "implicit_id_token_token", client: harness.PublicClient, args: implicit("id_token token")}, tokens: []string{"id_token"}, then: wantClaim("id_token", "at_hash")},
	{cell: cell{name: "code_form_post", client: harness.PublicClient, args: []string{"--response-mode", "form_post"}}, tokens: []string{"id_token"}, then: both(wantResponseMode("form_post"), wantNoModeNote)},
	{cell: cell{name: "implicit_id_token_form_post", client: harness.PublicClient, args: implicit("id_token", "--response-mode", "form_post")}, tokens: []string{"id_token"}, then: both(wantResponseMode("form_post"), wantNoModeNote)},
	{cell: cell{name: "implicit_id_token_token_form_post", client: harness.PublicClient, args: implicit("id_token token", "--response-mode", "form_post")}, tokens: []string{"id_token"}, then: wantClaim("id_token", "at_hash")},
	{cell: cell{name: "hybrid_code_id_token", client: harness.PublicClient, args: hybrid("code id_token")}, tokens: []string{"id_token"}},
	{cell: cell{name: "hybrid_code_token", client: harness.PublicClient, args: hybrid("code token")}, tokens: []string{"id_token"}},
	{cell: cell{name: "hybrid_code_id_token_token", client: harness.PublicClient, args: hybrid("code id_token token")}, tokens: []string{"id_token"}},
	{cell: cell{name: "hybrid_code_id_token_form_post", client: harness.BasicClient, args: hybrid("code id_token", append([]string{"--response-mode", "form_post"}, basic...)...)}, tokens: []string{"id_token"}},
	// The access token is a JWT for api://claimcheck with the groups in
	// GroupsClaim: verified with that audience, groups read from there.
	{
		cell: cell{
			name: "api_access_token_groups_claim", client: harness.APIClient,
			scopes: "openid,groups," + harness.APIScope,
			args:   []string{"--groups-claim", "access_token:" + harness.APIGroupsClaim, "--audience", harness.APIResource},
		},
		tokens: []string{"id_token", "access_token"},
		then:   wantAccessTokenGroupsClaim,
	},
	// "[ Cancel ]" on the consent page: oidc-provider redirects with
	// error=access_denied, which ends the run as a flow failure (exit 3)
	// that shows the provider's error.
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

// parCases: PARClient, which oidc-provider holds to pushed authorization
// requests (RFC 9126). With --par the browser gets client_id and
// request_uri alone and the run passes as usual; without it the provider's
// refusal is explained.
var parCases = []matrixCase{
	{cell: cell{name: "par_basic", client: harness.PARClient, args: append([]string{"--par"}, basic...)}, tokens: []string{"id_token"}, then: wantPushed},
	{
		cell:  cell{name: "par_required_not_pushed", client: harness.PARClient, args: basic},
		users: []harness.User{harness.Alice},
		check: func(t *testing.T, _ harness.User, r ccRun) {
			t.Helper()
			wantError(t, r, 3, "flow", "run again with --par")
		},
	},
}

// dpopCases: DPoPClient, whose tokens oidc-provider binds to a DPoP key
// (RFC 9449) and which asks for a nonce in every proof. With --dpop the
// run passes as usual; without it the refusal names --dpop.
var dpopCases = []matrixCase{
	{cell: cell{name: "dpop_public", client: harness.DPoPClient, args: []string{"--dpop"}}, tokens: []string{"id_token"}, then: wantDPoP},
	{
		cell:  cell{name: "dpop_required_without", client: harness.DPoPClient},
		users: []harness.User{harness.Alice},
		check: func(t *testing.T, _ harness.User, r ccRun) {
			t.Helper()
			wantError(t, r, 3, "flow", "--dpop")
		},
	},
}

// wantDPoP checks the report's DPoP key: its thumbprint, also sent as
// dpop_jkt, and ES256.
func wantDPoP(t *testing.T, _ harness.User, r ccRun) {
	t.Helper()
	q := r.Report.Request
	if q.DPoP == nil || q.DPoP.JKT == "" || q.DPoP.Alg != "ES256" {
		t.Fatalf("no DPoP key in the report: %+v", q.DPoP)
	}
	u, err := url.Parse(q.AuthorizeURL)
	if err != nil || u.Query().Get("dpop_jkt") != q.DPoP.JKT {
		t.Errorf("authorize URL %q has no dpop_jkt %s", q.AuthorizeURL, q.DPoP.JKT)
	}
}

// wantPushed checks the report's pushed request: a request_uri, and an
// authorize URL with client_id and request_uri alone.
func wantPushed(t *testing.T, _ harness.User, r ccRun) {
	t.Helper()
	q := r.Report.Request
	if q.PAR == nil || q.PAR.RequestURI == "" || q.PAR.ExpiresIn <= 0 {
		t.Fatalf("no pushed request in the report: %+v", q)
	}
	u, err := url.Parse(q.AuthorizeURL)
	if err != nil || len(u.Query()) != 2 || u.Query().Get("request_uri") != q.PAR.RequestURI || u.Query().Get("client_id") == "" {
		t.Errorf("authorize URL %q", q.AuthorizeURL)
	}
}

// requirePARCases run at an oidc-provider whose metadata says
// require_pushed_authorization_requests: the request is pushed without
// --par, with a note.
var requirePARCases = []matrixCase{
	{cell: cell{name: "par_required_by_metadata", client: harness.PublicClient}, tokens: []string{"id_token"}, then: both(wantPushed, func(t *testing.T, _ harness.User, r ccRun) {
		t.Helper()
		if !slices.ContainsFunc(r.Report.Notes, func(n string) bool { return strings.Contains(n, "without --par") }) {
			t.Errorf("no note about the request pushed without asking: %q", r.Report.Notes)
		}
	})},
}

// conformCases run at an oidc-provider with conformIdTokenClaims on: the
// code flow's ID token has no groups, so claimcheck asks userinfo and says
// so.
var conformCases = []matrixCase{
	{cell: cell{name: "code_pkce_public_userinfo", client: harness.PublicClient}, tokens: []string{"id_token"}, then: wantGroupsFromUserinfo},
	// The claim sources come in the userinfo answer then, and are
	// resolved from there (OpenID Connect Core 5.6.2).
	{cell: cell{name: "aggregated_in_userinfo", client: shapeClient("aggregated")}, tokens: []string{"id_token"}, then: wantFoundVia("userinfo", "aggregated src1")},
	{cell: cell{name: "distributed_in_userinfo", client: shapeClient("distributed")}, tokens: []string{"id_token"}, then: wantFoundVia("userinfo", "distributed src1")},
}

func wantGroupsFromUserinfo(t *testing.T, u harness.User, r ccRun) {
	t.Helper()
	if _, ok := r.Report.Tokens["id_token"].Claims["groups"]; ok {
		t.Errorf("the ID token has groups although conformIdTokenClaims is on")
	}
	noted := false
	for _, n := range r.Report.Notes {
		if strings.Contains(n, "userinfo endpoint was asked") {
			noted = true
		}
	}
	if !noted {
		t.Errorf("the report does not note that userinfo was asked: %q", r.Report.Notes)
	}
	for _, c := range r.Report.Checks {
		if c.Name == "group Everyone" && !strings.Contains(c.Source, "userinfo") {
			t.Errorf("group Everyone was not found in userinfo: %+v", c)
		}
	}
}

func both(a, b func(t *testing.T, u harness.User, r ccRun)) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, u harness.User, r ccRun) {
		t.Helper()
		a(t, u, r)
		b(t, u, r)
	}
}

// wantClaim asserts that the token kind carries the claim.
func wantClaim(kind, claim string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, u harness.User, r ccRun) {
		t.Helper()
		if _, ok := r.Report.Tokens[kind].Claims[claim]; !ok {
			t.Errorf("the %s has no %s", kind, claim)
		}
	}
}

func wantAccessTokenGroupsClaim(t *testing.T, u harness.User, r ccRun) {
	t.Helper()
	at := r.Report.Tokens["access_token"]
	if _, ok := at.Claims[harness.APIGroupsClaim]; !ok {
		t.Errorf("the access token has no %s: %v", harness.APIGroupsClaim, at.Claims)
	}
	if !strings.Contains(fmt.Sprint(at.Claims["aud"]), harness.APIResource) {
		t.Errorf("the access token's aud is %v, want %s", at.Claims["aud"], harness.APIResource)
	}
	found := false
	for _, c := range r.Report.Checks {
		if strings.Contains(c.Source, "access_token") {
			found = true
		}
	}
	if !found {
		t.Errorf("no check rests on the access token: %+v", r.Report.Checks)
	}
}

// runCases runs each case as Alice and as Bob, in parallel, each run with
// its own redirect port (uris, in the order cases × users, registered at p).
func runCases(t *testing.T, p *harness.Provider, cases []matrixCase, ps []int) {
	i := 0
	for _, mc := range cases {
		for _, u := range mc.runUsers() {
			mc, u, port := mc, u, ps[i]
			i++
			t.Run(mc.name+"/"+u.Login, func(t *testing.T) {
				t.Parallel()
				r := claimcheck(t, p, port, u, mc.cell)
				switch {
				case mc.check != nil:
					mc.check(t, u, r)
				case u.Login == harness.Alice.Login:
					wantPass(t, r, mc.tokens...)
				default:
					wantMissingIT(t, r, mc.tokens...)
				}
				if mc.then != nil {
					mc.then(t, u, r)
				}
			})
		}
	}
}

func TestMatrixDex(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(dexCases))
	dex := harness.StartDex(t, harness.DexOptions{RedirectURIs: uris})
	runCases(t, dex, dexCases, ps)
}

// dexDocumentedCases run against Dex configured as its documentation
// shows (responseTypes: [code, token, id_token]): it lists the words, not
// their combinations, and accepts "id_token token", so claimcheck sends it
// with a note and shows the at_hash Dex leaves out.
var dexDocumentedCases = []matrixCase{
	{cell: cell{name: "implicit_id_token_token_documented", client: harness.PublicClient, args: implicit("id_token token")}, check: func(t *testing.T, u harness.User, r ccRun) {
		t.Helper()
		wantMissingAtHash(t, u, r)
		if !slices.ContainsFunc(r.Report.Notes, func(n string) bool { return strings.Contains(n, "but each of its words is, so it was sent") }) {
			t.Errorf("no note about the response type sent: %q", r.Report.Notes)
		}
	}},
}

func TestMatrixDexDocumentedResponseTypes(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(dexDocumentedCases))
	dex := harness.StartDex(t, harness.DexOptions{RedirectURIs: uris, ResponseTypes: []string{"code", "token", "id_token"}})
	runCases(t, dex, dexDocumentedCases, ps)
}

func TestMatrixOIDCProvider(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(oidcProviderCases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	runCases(t, op, oidcProviderCases, ps)
}

func TestMatrixOIDCProviderPAR(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(parCases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	runCases(t, op, parCases, ps)
}

func TestMatrixOIDCProviderDPoP(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(dpopCases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	runCases(t, op, dpopCases, ps)
}

// jarmCases: JARMClient, whose authorization responses oidc-provider
// signs as response JWTs (JARM) in every mode the response type allows:
// each verified before its code is redeemed, then the run as usual.
var jarmCases = []matrixCase{
	{cell: cell{name: "jarm_query", client: harness.JARMClient, args: []string{"--response-mode", "query.jwt"}}, tokens: []string{"id_token", "response_jwt"}, then: wantJARM("query.jwt")},
	{cell: cell{name: "jarm_default_code", client: harness.JARMClient, args: []string{"--response-mode", "jwt"}}, tokens: []string{"id_token", "response_jwt"}, then: wantJARM("query.jwt")},
	{cell: cell{name: "jarm_form_post", client: harness.JARMClient, args: []string{"--response-mode", "form_post.jwt"}}, tokens: []string{"id_token", "response_jwt"}, then: wantJARM("form_post.jwt")},
	{cell: cell{name: "jarm_fragment_code", client: harness.JARMClient, args: []string{"--response-mode", "fragment.jwt"}}, tokens: []string{"id_token", "response_jwt"}, then: wantJARM("fragment.jwt")},
	{cell: cell{name: "jarm_fragment_hybrid", client: harness.JARMClient, args: hybrid("code id_token", "--response-mode", "fragment.jwt")}, tokens: []string{"id_token", "front_id_token", "response_jwt"}, then: wantJARM("fragment.jwt")},
	{cell: cell{name: "jarm_fragment_implicit", client: harness.JARMClient, args: implicit("id_token token", "--response-mode", "fragment.jwt")}, tokens: []string{"id_token", "response_jwt"}, then: wantJARM("fragment.jwt")},
	{cell: cell{name: "jarm_form_post_implicit", client: harness.JARMClient, args: implicit("id_token token", "--response-mode", "form_post.jwt")}, tokens: []string{"id_token", "response_jwt"}, then: wantJARM("form_post.jwt")},
}

// wantJARM checks the report of a JARM run: the mode and the verified
// alg and kid of the response JWT, whose code is not shown.
func wantJARM(mode string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, _ harness.User, r ccRun) {
		t.Helper()
		j := r.Report.Request.JARM
		if j == nil || j.Mode != mode || j.Alg != "RS256" || j.KeyID == "" {
			t.Fatalf("request.jarm %+v, want mode %s, alg RS256 and a kid", j, mode)
		}
		if code, has := r.Report.Tokens["response_jwt"].Claims["code"]; has && code != "[redacted]" {
			t.Errorf("the response JWT's code is shown")
		}
	}
}

func TestMatrixOIDCProviderJARM(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(jarmCases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	runCases(t, op, jarmCases, ps)
}

func TestMatrixOIDCProviderRequirePAR(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(requirePARCases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris, RequirePAR: true})
	runCases(t, op, requirePARCases, ps)
}

func TestMatrixOIDCProviderConformIDTokenClaims(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(conformCases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris, ConformIDTokenClaims: true})
	runCases(t, op, conformCases, ps)
}

// Key rotation: two runs that share nothing, each against its own
// oidc-provider start with a key of its own; each verifies its ID token
// with the key its provider published, and the second does not hold on to
// the first's.
func TestMatrixOIDCProviderKeyRotation(t *testing.T) {
	t.Parallel()
	var kids []string
	for i := range 2 {
		ps, uris := harness.FreePorts(t, 1)
		op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
		r := claimcheck(t, op, ps[0], harness.Alice, cell{name: fmt.Sprintf("run%d", i+1), client: harness.PublicClient})
		wantPass(t, r, "id_token")
		kid, _ := r.Report.Tokens["id_token"].Header["kid"].(string)
		if kid != op.Kids[0] {
			t.Fatalf("run %d: the ID token's kid is %q, the provider's key is %q", i+1, kid, op.Kids[0])
		}
		kids = append(kids, kid)
		op.Stop()
	}
	if kids[0] == kids[1] {
		t.Fatalf("both runs verified with the key %s", kids[0])
	}
}

// jarCases: JARClient, which oidc-provider holds to signed request objects
// (RFC 9101) and private_key_jwt, both with the key in keyFile: by value
// and pushed, the run passes as usual; without --request-object the
// provider's refusal ends the run.
func jarCases(keyFile string) []matrixCase {
	jar := []string{"--request-object", "--client-key", keyFile}
	return []matrixCase{
		{cell: cell{name: "jar_by_value", client: harness.JARClient, args: jar}, tokens: []string{"id_token"}, then: wantRequestObject(false)},
		{cell: cell{name: "jar_pushed", client: harness.JARClient, args: append([]string{"--par"}, jar...)}, tokens: []string{"id_token"}, then: both(wantPushed, wantRequestObject(true))},
		{
			cell:  cell{name: "jar_required_not_signed", client: harness.JARClient, args: []string{"--client-key", keyFile}},
			users: []harness.User{harness.Alice},
			check: func(t *testing.T, _ harness.User, r ccRun) {
				t.Helper()
				wantError(t, r, 3, "flow", "Request Object must be used", "run again with --request-object")
			},
		},
	}
}

// clientAuthCases: JWTClient (private_key_jwt with the key in keyFile)
// and SecretJWTClient (client_secret_jwt, its secret from
// CLAIMCHECK_CLIENT_SECRET as for every secret client) pass for alice and
// fail for bob on IT, with the assertion's alg, kid and aud (the token
// endpoint) in the report.
func clientAuthCases(keyFile string) []matrixCase {
	wantAssertion := func(alg, kid string) func(t *testing.T, u harness.User, r ccRun) {
		return func(t *testing.T, _ harness.User, r ccRun) {
			t.Helper()
			q := r.Report.Request
			if q.ClientAssertion == nil || q.ClientAssertion.Alg != alg || q.ClientAssertion.KeyID != kid || !strings.HasSuffix(q.ClientAssertion.Audience, "/token") {
				t.Errorf("request.client_assertion = %+v, want %s kid %q aud the token endpoint", q.ClientAssertion, alg, kid)
			}
			if q.ClientAuth != alg2method[alg] {
				t.Errorf("request.client_auth = %q", q.ClientAuth)
			}
		}
	}
	return []matrixCase{
		{cell: cell{name: "private_key_jwt", client: harness.JWTClient, args: []string{"--client-auth", "private_key_jwt", "--client-key", keyFile}}, tokens: []string{"id_token"}, then: wantAssertion("RS256", jarKeyID)},
		{cell: cell{name: "client_secret_jwt", client: harness.SecretJWTClient, args: []string{"--client-auth", "client_secret_jwt"}}, tokens: []string{"id_token"}, then: wantAssertion("HS256", "")},
	}
}

var alg2method = map[string]string{"RS256": "private_key_jwt", "HS256": "client_secret_jwt"}

// wantRequestObject checks the report's request object (RS256, the kid of
// the key) and, unless it was pushed, an authorize URL with client_id,
// request, response_type and scope alone.
func wantRequestObject(pushed bool) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, _ harness.User, r ccRun) {
		t.Helper()
		q := r.Report.Request
		if q.RequestObject == nil || q.RequestObject.Alg != "RS256" || q.RequestObject.KeyID != jarKeyID {
			t.Fatalf("request object in the report: %+v", q.RequestObject)
		}
		if q.ClientAuth != "private_key_jwt" {
			t.Errorf("client auth %q", q.ClientAuth)
		}
		if pushed {
			return
		}
		u, err := url.Parse(q.AuthorizeURL)
		if err != nil || len(u.Query()) != 4 || u.Query().Get("request") == "" || u.Query().Get("client_id") != harness.JARClient.ID {
			t.Errorf("authorize URL %q", q.AuthorizeURL)
		}
	}
}

// jarKeyID is the kid of JARClient's key.
const jarKeyID = "cc-jar-1"

func TestMatrixOIDCProviderRequestObject(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "cc-jar-key.json")
	jwk, err := harness.WriteClientKey(keyFile, jarKeyID)
	if err != nil {
		t.Fatal(err)
	}
	cases := append(jarCases(keyFile), clientAuthCases(keyFile)...)
	ps, uris := harness.FreePorts(t, runCount(cases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris, ClientJWK: jwk})
	runCases(t, op, cases, ps)
}

// shapeClient is the ShapeClients entry of the shape.
func shapeClient(shape string) harness.Client {
	for _, c := range harness.ShapeClients {
		if c.GroupsShape == shape {
			return c
		}
	}
	panic("no shape client " + shape)
}

// wantFoundVia asserts that group Everyone was found through the claim
// source of the token kind from (the report's "id_token → aggregated
// src1") and that the source's own check passed.
func wantFoundVia(from, via string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, u harness.User, r ccRun) {
		t.Helper()
		source := false
		for _, c := range r.Report.Checks {
			switch {
			case c.Name == from+" claim source src1":
				source = c.OK
			case c.Name == "group Everyone" && !strings.Contains(c.Detail, from+" → "+via):
				t.Errorf("group Everyone did not come through the %s's %s: %+v", from, via, c)
			}
		}
		if !source {
			t.Errorf("no passed check of the %s's claim source src1: %+v", from, r.Report.Checks)
		}
	}
}

// wantNearMiss asserts exit 1 with the IT check naming what it found.
func wantNearMiss(words ...string) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, _ harness.User, r ccRun) {
		t.Helper()
		wantError(t, r, 1, "expectation", "group IT")
		for _, c := range r.Report.Checks {
			if c.Name != "group IT" {
				continue
			}
			for _, w := range words {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("the IT check %q does not name %q", c.Detail, w)
				}
			}
			return
		}
		t.Errorf("no check of group IT: %+v", r.Report.Checks)
	}
}

// shapeCases: oidc-provider issuing the groups as other providers do (see
// harness.ShapeClients). Read with the claim each shape needs, alice passes
// and bob fails on IT; read as groups, the near miss is named; aggregated
// and distributed groups are resolved and say where they came from.
var shapeCases = []matrixCase{
	{cell: cell{name: "keycloak_realm_roles", client: shapeClient("keycloak"), args: []string{"--groups-claim", "/realm_access/roles"}}, tokens: []string{"id_token"}},
	{
		cell:  cell{name: "keycloak_read_as_groups", client: shapeClient("keycloak"), args: []string{"--provider", "keycloak"}},
		users: []harness.User{harness.Alice},
		check: wantNearMiss("realm_access", "--groups-claim id_token:/realm_access/roles", "is a realm role"),
	},
	{cell: cell{name: "auth0_namespaced", client: shapeClient("namespaced"), args: []string{"--groups-claim", harness.NamespacedGroupsClaim}}, tokens: []string{"id_token"}},
	{
		cell:  cell{name: "auth0_read_as_groups", client: shapeClient("namespaced")},
		users: []harness.User{harness.Alice},
		check: wantNearMiss("under " + harness.NamespacedGroupsClaim),
	},
	{cell: cell{name: "zitadel_roles_object", client: shapeClient("zitadel"), args: []string{"--groups-claim", harness.ZitadelRolesClaim}}, tokens: []string{"id_token"}},
	{cell: cell{name: "aggregated", client: shapeClient("aggregated")}, tokens: []string{"id_token"}, then: wantFoundVia("id_token", "aggregated src1")},
	{cell: cell{name: "distributed", client: shapeClient("distributed")}, tokens: []string{"id_token"}, then: wantFoundVia("id_token", "distributed src1")},
}

func TestMatrixOIDCProviderGroupsShapes(t *testing.T) {
	t.Parallel()
	ps, uris := harness.FreePorts(t, runCount(shapeCases))
	op := harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris})
	runCases(t, op, shapeCases, ps)
}

// mtlsCases: MTLSClient (tls_client_auth with a certificate the test CA
// issued for its registered subject) and SelfSignedMTLSClient
// (self_signed_tls_client_auth with the certificate of its jwks) at an
// oidc-provider on https, whose access tokens are JWTs bound to the
// certificate (RFC 8705): alice passes and bob fails on IT, each with the
// cnf.x5t#S256 check passed; a certificate for another subject from the
// same CA is refused as invalid_client, explained.
// providerLog gives the provider's log file once it runs.
func mtlsCases(pki *harness.PKI, client, self, other *harness.ClientCert, providerLog func() string) []matrixCase {
	mtls := func(method string, c *harness.ClientCert) []string {
		return []string{"--ca-file", pki.CAFile, "--client-auth", method, "--client-cert", c.CertFile, "--client-key", c.KeyFile, "--audience", harness.APIResource}
	}
	browser := []string{"--trust-cert", pki.CAFile}
	scopes := "openid,groups," + harness.APIScope
	return []matrixCase{
		{
			cell:   cell{name: "tls_client_auth", client: harness.MTLSClient, scopes: scopes, args: mtls("tls_client_auth", client), browser: browser},
			tokens: []string{"id_token", "access_token"},
			then:   wantCertificateBound("tls_client_auth", client),
		},
		{
			cell:   cell{name: "self_signed_tls_client_auth", client: harness.SelfSignedMTLSClient, scopes: scopes, args: mtls("self_signed_tls_client_auth", self), browser: browser},
			tokens: []string{"id_token", "access_token"},
			then:   wantCertificateBound("self_signed_tls_client_auth", self),
		},
		{
			cell:  cell{name: "tls_client_auth_other_subject", client: harness.MTLSClient, scopes: scopes, args: mtls("tls_client_auth", other), browser: browser},
			users: []harness.User{harness.Alice},
			check: func(t *testing.T, _ harness.User, r ccRun) {
				t.Helper()
				wantError(t, r, 3, "flow", "invalid_client", "the provider refused the client certificate", other.SubjectDN, other.Thumbprint, "tls_client_auth_subject_dn")
				if len(r.Report.Tokens) != 0 {
					t.Errorf("a refused client has tokens: %v", keys(r.Report.Tokens))
				}
				// The provider's reason, which it does not send: the
				// certificate reached it and its subject was compared.
				log, err := os.ReadFile(providerLog())
				if err != nil || !strings.Contains(string(log), "certificate subject value does not match the registered one") {
					t.Errorf("the provider's log does not show the subject refused (%v)", err)
				}
			},
		},
	}
}

// wantCertificateBound checks an mTLS run's report: the client
// authentication method, the certificate in request.client_certificate,
// and the access token's cnf.x5t#S256 check passed with its thumbprint.
func wantCertificateBound(method string, c *harness.ClientCert) func(t *testing.T, u harness.User, r ccRun) {
	return func(t *testing.T, _ harness.User, r ccRun) {
		t.Helper()
		q := r.Report.Request
		if q.ClientAuth != method {
			t.Errorf("request.client_auth = %q, want %s", q.ClientAuth, method)
		}
		cc := q.ClientCertificate
		if cc == nil || cc.X5tS256 != c.Thumbprint || cc.File != c.CertFile || cc.Subject == "" {
			t.Errorf("request.client_certificate = %+v, want x5t#S256 %s of %s", cc, c.Thumbprint, c.CertFile)
		}
		if got := r.Report.Tokens["access_token"].Claims["cnf"]; fmt.Sprint(got) != fmt.Sprint(map[string]any{"x5t#S256": c.Thumbprint}) {
			t.Errorf("the access token's cnf is %v, want x5t#S256 %s", got, c.Thumbprint)
		}
		i := slices.IndexFunc(r.Report.Checks, func(ch ccCheck) bool { return ch.Name == "access_token cnf.x5t#S256" })
		if i < 0 || !r.Report.Checks[i].OK {
			t.Errorf("no passed check access_token cnf.x5t#S256: %+v", r.Report.Checks)
		}
	}
}

func TestMatrixOIDCProviderMTLS(t *testing.T) {
	t.Parallel()
	pki, err := harness.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	client, err := pki.IssueClient(harness.MTLSClientCN, harness.MTLSOrganization, false)
	if err != nil {
		t.Fatal(err)
	}
	if client.SubjectDN != harness.MTLSClientSubjectDN {
		t.Fatalf("the client certificate's subject is %q, MTLSClient is registered with %q", client.SubjectDN, harness.MTLSClientSubjectDN)
	}
	self, err := pki.IssueClient("cc-mtls-self", harness.MTLSOrganization, true)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.IssueClient("cc-mtls-other", harness.MTLSOrganization, false)
	if err != nil {
		t.Fatal(err)
	}
	var op *harness.Provider
	cases := mtlsCases(pki, client, self, other, func() string { return op.Log })
	ps, uris := harness.FreePorts(t, runCount(cases))
	op = harness.StartOIDCProvider(t, harness.OIDCProviderOptions{RedirectURIs: uris, PKI: pki, SelfSignedCert: self})
	if !strings.HasPrefix(op.Issuer, "https://127.0.0.1:") {
		t.Fatalf("the issuer is %s, want https://127.0.0.1:PORT", op.Issuer)
	}
	runCases(t, op, cases, ps)
}
