package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/suggest"
)

// demoHTTPTimeout bounds each request to the embedded provider, as
// --http-timeout's default does for a real one.
const demoHTTPTimeout = 10 * time.Second

// demoReads says whether demo reads the CLAIMCHECK_* variable name: its
// own and how to present the run, none that describe a real provider or
// its expectations.
func demoReads(name string) bool {
	switch name {
	case "CLAIMCHECK_USER", "CLAIMCHECK_CLIENT", "CLAIMCHECK_OUTPUT", "CLAIMCHECK_JUNIT",
		"CLAIMCHECK_SHOW_TOKENS", "CLAIMCHECK_NO_BROWSER", "CLAIMCHECK_BROWSER_COMMAND", "CLAIMCHECK_TIMEOUT", "CLAIMCHECK_GROUPS_SHAPE":
		return true
	}
	return false
}

// DemoOptions are the options of claimcheck demo.
type DemoOptions struct {
	FlowOptions
	CheckOptions
	OutputOptions
	User   string
	Client string
	// GroupsShape is how the demo provider issues the groups: as the
	// provider it names does (demo.Shapes).
	GroupsShape string
	// flowSet: --flow was given, not left at its default.
	flowSet bool
}

func newDemoCmd(ios *IOStreams, code *int) *cobra.Command {
	o := &DemoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole flow against an embedded demo provider on loopback, with no account anywhere",
		Long: `demo starts an OpenID Provider inside claimcheck, on a random loopback port, with two users:
alice (groups Everyone, IT) and bob (Everyone only), and runs a real flow against it: the
authorize URL, the provider's sign-in page, the redirect to the loopback listener, the code
exchange, verification against the provider's keys, and the groups check (IT,Everyone by default).

When a browser can be opened it is, and you sign in there; with --no-browser, or where no browser
can be opened, claimcheck signs in by itself through the provider's sign-in form over HTTP.

  claimcheck demo                      # alice: passes
  claimcheck demo --user bob           # bob lacks IT: a failing check, exit 1
  claimcheck demo --flow implicit      # ID token in the fragment, relayed by the loopback page
  claimcheck demo --response-mode form_post

--groups-shape issues the groups as another provider does, so that its claim can be tried
(the demo then diagnoses a missing group as that provider's):

  claimcheck demo --groups-shape keycloak --groups-claim /realm_access/roles
  claimcheck demo --groups-shape keycloak --groups-claim /resource_access/claimcheck-public/roles
  claimcheck demo --groups-shape keycloak-path --expect-groups /IT   # "Full group path" on
  claimcheck demo --groups-shape cognito --groups-claim cognito:groups
  claimcheck demo --groups-shape auth0 --groups-claim https://claimcheck.example/groups
  claimcheck demo --groups-shape zitadel --groups-claim urn:zitadel:iam:org:project:roles
  claimcheck demo --groups-shape entra                # object IDs: IT is missing, and why
  claimcheck demo --groups-shape entra-overage        # _claim_sources to Microsoft Graph, not called

Of the environment, demo reads only CLAIMCHECK_USER, CLAIMCHECK_CLIENT, CLAIMCHECK_OUTPUT,
CLAIMCHECK_JUNIT, CLAIMCHECK_SHOW_TOKENS, CLAIMCHECK_NO_BROWSER, CLAIMCHECK_BROWSER_COMMAND,
CLAIMCHECK_TIMEOUT and CLAIMCHECK_GROUPS_SHAPE (and NO_COLOR), and no configuration file: the variables for a real provider,
such as CLAIMCHECK_EXPECT_GROUPS or CLAIMCHECK_SCOPES, do not change the demo.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.flowSet = given(cmd.Flags(), ios, "flow")
			*code = runDemo(cmd.Context(), o, ios)
			return nil
		},
	}
	// The demo has its own provider, users and defaults: the CLAIMCHECK_*
	// variables and the configuration file meant for a real provider
	// (expected groups, scopes, a redirect URI) must not change it.
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if f := cmd.Flags().Lookup("profile"); f != nil && f.Changed {
			return failure.New(failure.Usage, "--profile", "demo reads no configuration file")
		}
		if err := checkFlagLists(cmd.Flags()); err != nil {
			return err
		}
		return applyEnv(cmd.Flags(), func(name string) string {
			if demoReads(name) {
				return ios.Getenv(name)
			}
			return ""
		})
	}
	fs := cmd.Flags()
	// Port 0: the demo provider accepts any loopback port (RFC 8252 §7.3),
	// so the demo never collides with a port in use.
	o.FlowOptions.addFlags(fs, "http://127.0.0.1:0/callback")
	fs.Lookup("scopes").DefValue = "[openid,profile,groups]"
	o.Scopes = []string{"openid", "profile", "groups"}
	o.CheckOptions.addFlags(fs, "IT", "Everyone")
	o.OutputOptions.addFlags(fs)
	fs.StringVar(&o.User, "user", "alice", "demo user to sign in as: alice (Everyone, IT) or bob (Everyone)")
	fs.StringVar(&o.Client, "client", "public", "demo client: public (PKCE, no secret) or confidential (client secret)")
	fs.StringVar(&o.GroupsShape, "groups-shape", demo.ShapeGroups, "issue the groups as a provider does: "+strings.Join(demo.Shapes(), ", "))
	return cmd
}

func runDemo(ctx context.Context, o *DemoOptions, ios *IOStreams) int {
	started := time.Now()
	fail := func(err error) int { return emitError(ios, &o.OutputOptions, "", o.Flow, err) }
	if err := o.OutputOptions.validate(); err != nil {
		return fail(err)
	}
	var user *demo.User
	for _, u := range demo.DefaultUsers() {
		if u.Username == o.User {
			user = &u
		}
	}
	if user == nil {
		return fail(failure.New(failure.Usage, "--user", "unknown demo user %q (want alice or bob)", o.User))
	}
	if !slices.Contains(demo.Shapes(), o.GroupsShape) {
		return fail(failure.New(failure.Usage, "--groups-shape", "unknown shape %q (want one of %s)%s", o.GroupsShape, strings.Join(demo.Shapes(), ", "), suggest.Hint(o.GroupsShape, demo.Shapes(), "")))
	}
	var clientID, secret string
	switch o.Client {
	case "public":
		clientID = demo.PublicClientID
	case "confidential":
		clientID, secret = demo.ConfidentialClientID, demo.ConfidentialClientSecret
	default:
		return fail(failure.New(failure.Usage, "--client", "unknown demo client %q (want public or confidential)", o.Client))
	}
	exp, err := o.CheckOptions.expectations()
	if err != nil {
		return fail(err)
	}
	if err := o.FlowOptions.validate(o.flowSet); err != nil {
		return fail(err)
	}
	extra, err := o.FlowOptions.extraParams()
	if err != nil {
		return fail(err)
	}
	if err := o.FlowOptions.checkRichRequest(); err != nil {
		return fail(err)
	}

	p, err := demo.Start(ctx, demo.Options{GroupsShape: o.GroupsShape})
	if err != nil {
		return fail(failure.Wrap(failure.Provider, "demo provider", err))
	}
	defer p.Close()

	// The same client as a run against a real provider: a deadline on
	// each request and a cap on each body.
	client, err := httpclient.New(httpclient.Options{Timeout: demoHTTPTimeout})
	if err != nil {
		return fail(failure.Wrap(failure.Usage, "http client", err))
	}
	cfg := check.Config{
		Issuer: p.Issuer(), ClientID: clientID, ClientSecret: secret,
		RedirectURI: o.RedirectURI, Flow: o.Flow, ResponseType: o.ResponseType, ResponseMode: o.ResponseMode,
		Scopes: trimAll(o.Scopes), ExtraParams: extra, Audience: o.Audience, Expect: exp,
		ClockSkew: defaultClockSkew, HTTPClient: client, Timeout: o.Timeout,
		Opener: o.demoOpener(ios, user), ShowTokens: o.ShowTokens,
		PAR: o.PAR, RequestObject: o.RequestObject, Resources: o.Resources, AuthorizationDetails: o.AuthorizationDetails,
		// A loopback issuer is recognised as no provider; the shape's
		// provider explains a missing group.
		ProviderKind: demo.ShapeProvider(o.GroupsShape),
	}
	done := attachProgress(&cfg, ios)
	r, _ := check.Run(ctx, cfg)
	done()
	return emit(ios, &o.OutputOptions, r, started)
}

// demoOpener signs in by itself when no browser can be shown, and otherwise
// opens one, falling back to signing in by itself if that fails.
func (o *DemoOptions) demoOpener(ios *IOStreams, u *demo.User) flow.Opener {
	jar, _ := cookiejar.New(nil)
	self := &standin.Browser{
		Client:   &http.Client{Jar: jar, Timeout: 10 * time.Second},
		Username: u.Username, Password: u.Password,
	}
	switch {
	case o.BrowserCommand != "":
		return &flow.CommandBrowser{Command: o.BrowserCommand, Stdout: ios.ErrOut, Stderr: ios.ErrOut}
	case o.NoBrowser || !canOpenBrowser(ios.Getenv):
		fmt.Fprintf(ios.ErrOut, "signing in as %s through the demo provider's sign-in form (no browser)\n", u.Username)
		return self
	}
	fmt.Fprintf(ios.ErrOut, "opening your browser: sign in as %s with password %s\n", u.Username, u.Password)
	return &fallbackOpener{first: &flow.SystemBrowser{Stdout: io.Discard, Stderr: io.Discard}, second: self, ios: ios}
}

// canOpenBrowser says whether a system browser could be shown: on Linux and
// the BSDs that takes a display.
func canOpenBrowser(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

type fallbackOpener struct {
	first, second flow.Opener
	ios           *IOStreams
}

func (f *fallbackOpener) Open(ctx context.Context, u string) error {
	if err := f.first.Open(ctx, u); err != nil {
		fmt.Fprintf(f.ios.ErrOut, "could not open a browser (%s); signing in by itself instead\n", strings.TrimSpace(err.Error()))
		return f.second.Open(ctx, u)
	}
	return nil
}
