package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	oktaop "github.com/claimcheck/claimcheck/internal/op/okta"
	"github.com/claimcheck/claimcheck/report"
)

// oktaEnv is the Okta-shaped provider with the default clients registered
// for a free loopback redirect URI, and a server "idt" whose GroupsClaim is
// configured for the ID token.
type oktaEnv struct {
	p        *oktaop.Provider
	redirect string
}

func newOktaEnv(t *testing.T) *oktaEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := oktaop.Start(ctx, oktaop.Options{
		Clients: []oktaop.Client{
			{ID: oktaop.PublicClientID, RedirectURIs: []string{redirect}},
			{ID: oktaop.WebClientID, Secret: oktaop.WebClientSecret, RedirectURIs: []string{redirect}},
		},
		Servers: append(oktaop.DefaultServers(), oktaop.CustomServer{
			ID: "idt", Audience: "api://idt", Claims: []oktaop.Claim{{Name: "GroupsClaim", In: oktaop.InIDToken}},
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &oktaEnv{p: p, redirect: redirect}
}

func (e *oktaEnv) run(t *testing.T, user string, args ...string) (int, report.Report, string) {
	t.Helper()
	base := []string{"--okta-domain", e.p.Domain(), "--redirect-uri", e.redirect, "-o", "json", "--timeout", "20s"}
	if user != "" {
		base = append(base, "--username", user)
	}
	code, stdout, stderr := runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": user + "-okta"}, append(base, args...)...)
	if !strings.HasPrefix(strings.TrimSpace(stdout), "{") {
		return code, report.Report{}, stderr
	}
	return code, decodeReport(t, stdout), stderr
}

func failedDetails(r report.Report) string {
	var d []string
	for _, c := range r.Checks {
		if !c.OK {
			d = append(d, c.Name+": "+c.Detail)
		}
	}
	return strings.Join(d, "\n")
}

// The guide's two cases, one command each, signed in headlessly.
func TestOktaGuideCases(t *testing.T) {
	e := newOktaEnv(t)
	pub := oktaop.PublicClientID
	t.Run("org server, id_token, groups scope", func(t *testing.T) {
		code, r, stderr := e.run(t, "alice", "--authorization-server", "org", "--client-id", pub,
			"--flow", "implicit", "--scopes", "openid,groups", "--expect-groups", "IT,Everyone")
		if code != 0 {
			t.Fatalf("exit %d: %s %+v", code, stderr, r)
		}
		if r.Issuer != e.p.OrgIssuer() || !r.Tokens["id_token"].Verified {
			t.Errorf("issuer %s, id token %+v", r.Issuer, r.Tokens["id_token"])
		}
		if strings.Contains(r.Request.AuthorizeURL, "sessionToken=") && !strings.Contains(r.Request.AuthorizeURL, "sessionToken=REDACTED") {
			t.Errorf("sessionToken in the report: %s", r.Request.AuthorizeURL)
		}
	})
	t.Run("default server, token, GroupsClaim, api://default", func(t *testing.T) {
		code, r, stderr := e.run(t, "alice", "--authorization-server", "default", "--client-id", pub,
			"--response-type", "token", "--groups-claim", "access_token:GroupsClaim", "--expect-groups", "IT,Everyone")
		if code != 0 {
			t.Fatalf("exit %d: %s %+v", code, stderr, r)
		}
		at := r.Tokens["access_token"]
		if at == nil || !at.Verified || r.Issuer != e.p.Issuer("default") {
			t.Fatalf("access token %+v", at)
		}
	})
	t.Run("default server audience is checked", func(t *testing.T) {
		code, r, _ := e.run(t, "alice", "--client-id", pub, "--response-type", "token",
			"--groups-claim", "access_token:GroupsClaim", "--expect-groups", "IT", "--audience", "api://other")
		if code != 4 || r.Error == nil || !strings.Contains(r.Error.Message, "api://other") {
			t.Fatalf("exit %d %+v", code, r.Error)
		}
	})
}

// At the org server: the thin ID token is named and userinfo read; the
// access token is not verifiable locally and, with a secret, introspected.
func TestOktaOrgServer(t *testing.T) {
	e := newOktaEnv(t)
	code, r, stderr := e.run(t, "alice", "--authorization-server", "org", "--client-id", oktaop.WebClientID,
		"--client-secret", oktaop.WebClientSecret, "--scopes", "openid,groups", "--expect-groups", "IT,Everyone")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, failedDetails(r))
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "issued a thin ID token") {
		t.Errorf("notes %q", r.Notes)
	}
	at := r.Tokens["access_token"]
	if at.Verified || !strings.Contains(at.Note, "not verifiable locally") || !strings.Contains(at.Note, "only Okta can validate them") {
		t.Errorf("access token %+v", at)
	}
	in := r.Tokens["introspection"]
	if in == nil || in.Claims["active"] != true || in.Claims["username"] != "alice" {
		t.Errorf("introspection %+v", in)
	}
	for _, c := range r.Checks {
		if strings.Contains(c.Name, "group IT") && c.Source != "userinfo" {
			t.Errorf("IT found in %q, want userinfo", c.Source)
		}
	}
	// Without a secret: no introspection, and the note says what it takes.
	code, r, _ = e.run(t, "alice", "--authorization-server", "org", "--client-id", oktaop.PublicClientID,
		"--scopes", "openid,groups", "--expect-groups", "IT")
	if code != 0 || r.Tokens["introspection"] != nil || !strings.Contains(r.Tokens["access_token"].Note, "give the client secret") {
		t.Errorf("exit %d, tokens %+v", code, r.Tokens)
	}
}

// Each diagnosis of a missing group: exit 1 and the reason in the check.
func TestOktaDiagnosis(t *testing.T) {
	e := newOktaEnv(t)
	pub := oktaop.PublicClientID
	tests := []struct {
		name string
		user string
		args []string
		want string
	}{
		{"groups scope not requested at the org server", "alice",
			[]string{"--authorization-server", "org", "--flow", "implicit", "--scopes", "openid", "--expect-groups", "IT"},
			"the groups scope was not requested"},
		{"thin ID token", "alice",
			[]string{"--authorization-server", "org", "--response-type", "id_token token", "--scopes", "openid,groups", "--groups-from", "id_token", "--expect-groups", "IT"},
			"the ID token is thin"},
		{"claim under another name", "alice",
			[]string{"--response-type", "token", "--expect-groups", "IT"},
			"use --groups-claim access_token:GroupsClaim"},
		{"claim configured for the other token kind", "alice",
			[]string{"--authorization-server", "idt", "--groups-claim", "GroupsClaim", "--groups-from", "access_token", "--expect-groups", "IT"},
			"the GroupsClaim claim is in the id_token, not in the access_token"},
		{"more than 100 groups, claim left out", "carol",
			[]string{"--groups-claim", "access_token:GroupsClaim", "--expect-groups", "IT"},
			"more than 100 of the user's groups, Okta leaves the claim out"},
		{"more than 100 groups, per userinfo", "carol",
			[]string{"--authorization-server", "org", "--scopes", "openid,groups", "--expect-groups", "Team 999"},
			"the user is in 120 groups (per /userinfo), more than the 100"},
		{"present without the group, close match", "alice",
			[]string{"--response-type", "token", "--groups-claim", "access_token:GroupsClaim", "--expect-groups", "it"},
			`present: access_token.GroupsClaim [Everyone, IT]; close match "IT" (differs in case)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, r, stderr := e.run(t, tt.user, append([]string{"--client-id", pub}, tt.args...)...)
			if code != 1 || r.Error == nil || r.Error.Class != "expectation" {
				t.Fatalf("exit %d, error %+v: %s", code, r.Error, stderr)
			}
			if d := failedDetails(r); !strings.Contains(d, tt.want) {
				t.Fatalf("failed checks:\n%s\nwant %q", d, tt.want)
			}
		})
	}
}

// Okta refuses an implicit flow whose groups claim matches over 100 groups:
// exit 3 with the provider's words and the limit explained.
func TestOktaTooManyGroupsRefused(t *testing.T) {
	e := newOktaEnv(t)
	code, r, _ := e.run(t, "carol", "--authorization-server", "org", "--client-id", oktaop.PublicClientID,
		"--flow", "implicit", "--scopes", "openid,groups", "--expect-groups", "IT")
	if code != 3 || r.Error == nil || !strings.Contains(r.Error.Message, "matched too many groups") {
		t.Fatalf("exit %d %+v", code, r.Error)
	}
	if !strings.Contains(strings.Join(r.Notes, " "), "at most 100 groups") {
		t.Errorf("notes %q", r.Notes)
	}
}

// Headless sign-in: statuses other than SUCCESS end with exit 3 and a
// clear message; the password never shows.
func TestOktaHeadlessSignIn(t *testing.T) {
	e := newOktaEnv(t)
	for user, want := range map[string]string{
		"dave":  "status MFA_REQUIRED",
		"erin":  "status LOCKED_OUT",
		"frank": "status PASSWORD_EXPIRED",
	} {
		code, r, _ := e.run(t, user, "--client-id", oktaop.PublicClientID)
		if code != 3 || r.Error == nil || !strings.Contains(r.Error.Message, want) || strings.Contains(r.Error.Message, user+"-okta") {
			t.Errorf("%s: exit %d %+v", user, code, r.Error)
		}
	}
	code, stdout, stderr := runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": "wrong-password"},
		"--okta-domain", e.p.Domain(), "--client-id", oktaop.PublicClientID, "--redirect-uri", e.redirect, "--username", "alice")
	if code != 3 || !strings.Contains(stderr+stdout, "wrong username or password") || strings.Contains(stderr+stdout, "wrong-password") {
		t.Errorf("wrong password: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The password from stdin.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ios, _, errOut := testIO("alice-okta\n", nil)
	code = Main(ctx, ios, []string{"--okta-domain", e.p.Domain(), "--client-id", oktaop.PublicClientID,
		"--redirect-uri", e.redirect, "--username", "alice", "--password-stdin", "--groups-claim", "access_token:GroupsClaim", "--expect-groups", "Everyone"})
	if code != 0 {
		t.Errorf("--password-stdin: exit %d %s", code, errOut)
	}
}

// Okta matches redirect URIs exactly: a port not registered is refused on
// Okta's page, and claimcheck says so.
func TestOktaRedirectURIMismatch(t *testing.T) {
	e := newOktaEnv(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	other := "http://" + ln.Addr().String() + "/callback"
	ln.Close()
	code, stdout, stderr := runMain(t, map[string]string{"CLAIMCHECK_PASSWORD": "alice-okta"},
		"--okta-domain", e.p.Domain(), "--client-id", oktaop.PublicClientID, "--redirect-uri", other, "--username", "alice", "--timeout", "10s")
	if code != 3 || !strings.Contains(stdout, "not one of the app's sign-in redirect URIs exactly") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// claimcheck url takes the Okta server flags too.
func TestOktaURL(t *testing.T) {
	e := newOktaEnv(t)
	code, stdout, stderr := runMain(t, nil, "url", "--okta-domain", e.p.Domain(), "--authorization-server", "org",
		"--client-id", oktaop.PublicClientID, "--redirect-uri", e.redirect)
	if code != 0 || !strings.HasPrefix(stdout, e.p.OrgIssuer()+"/oauth2/v1/authorize?") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestOktaUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"domain and issuer", nil, []string{"--okta-domain", "x.okta.com", "--issuer", "https://x.okta.com", "--client-id", "c"}, "not both"},
		{"server without domain", nil, []string{"--issuer", "https://x.okta.com", "--authorization-server", "org", "--client-id", "c"}, "needs --okta-domain"},
		{"http off loopback", nil, []string{"--okta-domain", "http://x.okta.com", "--client-id", "c"}, "plain http"},
		{"bad server id", nil, []string{"--okta-domain", "x.okta.com", "--authorization-server", "a/b", "--client-id", "c"}, "neither org nor"},
		{"username without domain", nil, []string{"--issuer", "https://x.example", "--username", "a", "--client-id", "c"}, "or --okta-domain for Okta's Authentication API"},
		{"username without password", nil, []string{"--okta-domain", "x.okta.com", "--username", "a", "--client-id", "c"}, "CLAIMCHECK_PASSWORD"},
		{"password-stdin without username", nil, []string{"--okta-domain", "x.okta.com", "--password-stdin", "--client-id", "c"}, "needs --username"},
		{"username with no-browser", map[string]string{"CLAIMCHECK_PASSWORD": "p"}, []string{"--okta-domain", "x.okta.com", "--username", "a", "--no-browser", "--client-id", "c"}, "drop --browser-command and --no-browser"},
		{"groups-claim bad JSON Pointer", nil, []string{"--okta-domain", "x.okta.com", "--groups-claim", "/realm_access/~2", "--client-id", "c"}, "a JSON Pointer (RFC 6901) writes a literal ~ as ~0"},
		{"groups-claim empty name", nil, []string{"--okta-domain", "x.okta.com", "--groups-claim", "access_token:", "--client-id", "c"}, "claim name is empty"},
		{"password and secret both on stdin", nil, []string{"--okta-domain", "x.okta.com", "--username", "a", "--password-stdin", "--client-secret", "-", "--client-id", "c"}, "stdin cannot carry both"},
		{"groups-claim twice", nil, []string{"--okta-domain", "x.okta.com", "--groups-claim", "a,b", "--client-id", "c"}, "two claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.env, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Fatalf("exit %d, want 2 and %q\nstdout: %s\nstderr: %s", code, tt.want, stdout, stderr)
			}
		})
	}
}

// The audience follows from the server: api://default at the default
// server, by --okta-domain or an issuer on Okta's domain; nothing elsewhere;
// --audience wins.
func TestOktaAudienceDefault(t *testing.T) {
	tests := []struct {
		domain, server, issuer, audience, want string
	}{
		{domain: "x.okta.com", want: "api://default"},
		{domain: "x.okta.com", server: "default", want: "api://default"},
		{domain: "x.okta.com", server: "org", want: ""},
		{domain: "x.okta.com", server: "aus123", want: ""},
		{domain: "x.okta.com", audience: "api://mine", want: "api://mine"},
		{issuer: "https://x.okta.com/oauth2/default", want: "api://default"},
		{issuer: "https://x.example.com/oauth2/default", want: ""},
		{issuer: "https://x.okta.com", want: ""},
	}
	for _, tt := range tests {
		o := &OktaOptions{Domain: tt.domain, AuthorizationServer: tt.server}
		p := &ProviderOptions{Issuer: tt.issuer}
		c := &CheckOptions{Audience: tt.audience}
		if _, err := o.apply(p, c); err != nil {
			t.Fatalf("%+v: %v", tt, err)
		}
		if c.Audience != tt.want {
			t.Errorf("%+v: audience %q, want %q", tt, c.Audience, tt.want)
		}
	}
}

// claimcheck verify takes the Okta server flags: the guide's "paste the
// token into a decoder" step, with the issuer, the audience and the claim
// name following from them.
func TestOktaVerifyCommand(t *testing.T) {
	e := newOktaEnv(t)
	code, r, stderr := e.run(t, "alice", "--client-id", oktaop.PublicClientID, "--response-type", "token",
		"--groups-claim", "access_token:GroupsClaim", "--show-tokens")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	at := r.Tokens["access_token"].Raw
	code, stdout, stderr := runMain(t, nil, "verify", "--okta-domain", e.p.Domain(), "--kind", "access_token",
		"--groups-claim", "access_token:GroupsClaim", "--expect-groups", "IT,Everyone", "-o", "json", at)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runMain(t, nil, "verify", "--okta-domain", e.p.Domain(), "--kind", "access_token",
		"--audience", "api://other", at)
	if code != 4 {
		t.Fatalf("wrong audience: exit %d %s", code, stderr)
	}
}
