package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/okta"
	"github.com/claimcheck/claimcheck/verify"
)

// OktaOptions address an Okta org by its domain and authorization server,
// and sign in without a browser through Okta's Authentication API.
type OktaOptions struct {
	Domain              string
	AuthorizationServer string
}

// addServerFlags are the flags that name the server.
func (o *OktaOptions) addServerFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Domain, "okta-domain", "", "your Okta domain, e.g. example.okta.com (instead of --issuer)")
	fs.StringVar(&o.AuthorizationServer, "authorization-server", "", `with --okta-domain: "org" for the org authorization server, or a custom authorization server's id (default "default")`)
}

// apply turns the Okta flags into the issuer, the default audience and the
// run's Okta configuration; nil when no Okta flag is set. The sign-in user,
// if any, is added by the caller.
func (o *OktaOptions) apply(p *ProviderOptions, c *CheckOptions) (*check.Okta, error) {
	if o.Domain == "" {
		// An issuer on Okta's own domain gets the default server's audience
		// all the same.
		if s, ok := okta.ServerOf(p.Issuer); ok && okta.Hosted(p.Issuer) && c.Audience == "" {
			c.Audience = s.Audience()
		}
		if o.AuthorizationServer != "" {
			return nil, failure.New(failure.Usage, "--authorization-server", "needs --okta-domain")
		}
		return nil, nil
	}
	if p.Issuer != "" {
		return nil, failure.New(failure.Usage, "--okta-domain", "give either --okta-domain or --issuer, not both")
	}
	s, err := okta.NewServer(o.Domain, o.AuthorizationServer)
	if err != nil {
		return nil, err
	}
	p.Issuer = s.Issuer()
	if c.Audience == "" {
		c.Audience = s.Audience()
	}
	return &check.Okta{Server: s}, nil
}

// UserOptions name a user signed in without a browser: by the password
// grant, or by Okta's Authentication API. The password never comes from a
// flag.
type UserOptions struct {
	Username      string
	PasswordStdin bool
}

func (o *UserOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Username, "username", "", "sign in as this user without a browser: with --grant password, or with --okta-domain through Okta's Authentication API (password from CLAIMCHECK_PASSWORD or --password-stdin)")
	fs.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the --username password from the first line of stdin")
}

// validate refuses a user that nothing would sign in. --username alone with
// another grant is allowed: a configuration file may set it for the
// profiles that use the password grant.
func (o *UserOptions) validate(grant, oktaDomain string, secretStdin bool) error {
	switch {
	case o.PasswordStdin && secretStdin:
		return failure.New(failure.Usage, "--password-stdin", "stdin cannot carry both the password and the client secret; set CLAIMCHECK_CLIENT_SECRET")
	case o.PasswordStdin && o.Username == "":
		return failure.New(failure.Usage, "--password-stdin", "needs --username")
	case o.PasswordStdin && grant != "" && grant != flow.GrantPassword:
		return failure.New(failure.Usage, "--password-stdin", "only with --grant password or --okta-domain")
	case o.Username != "" && grant == "" && oktaDomain == "":
		return failure.New(failure.Usage, "--username", "signs in without a browser: it needs --grant password, or --okta-domain for Okta's Authentication API")
	}
	return nil
}

// password reads the user's password from stdin (--password-stdin) or
// CLAIMCHECK_PASSWORD. stdinUsed says that stdin carried the client secret.
func (o *UserOptions) password(ctx context.Context, ios *IOStreams, stdinUsed bool) (string, error) {
	if o.PasswordStdin {
		if stdinUsed {
			return "", failure.New(failure.Usage, "--password-stdin", "stdin cannot carry both the password and the client secret; set CLAIMCHECK_CLIENT_SECRET")
		}
		pw, err := readLine(ctx, ios.In)
		if err != nil {
			return "", stdinError("--password-stdin", "the password", err)
		}
		return pw, nil
	}
	if pw := ios.Getenv("CLAIMCHECK_PASSWORD"); pw != "" {
		return pw, nil
	}
	return "", failure.New(failure.Usage, "--username", "no password: set CLAIMCHECK_PASSWORD or pass --password-stdin")
}

// headless is the browser stand-in that follows the authorize request with
// a sessionToken to the redirect, delivering it to the listener.
// It uses the run's client (deadline per request, body cap, --ca-file)
// with a cookie jar of its own.
func headless(f *FlowOptions, client *http.Client) (*check.HeadlessBrowser, error) {
	if f.BrowserCommand != "" || f.NoBrowser {
		return nil, failure.New(failure.Usage, "--username", "signs in without a browser: drop --browser-command and --no-browser")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, "--username", err)
	}
	c := *client
	c.Jar = jar
	return &check.HeadlessBrowser{Client: &c}, nil
}

// groupsClaims parses --groups-claim: a comma separated list of NAME (for
// every token) and KIND:NAME (KIND id_token, access_token or userinfo),
// e.g. "access_token:GroupsClaim" or "groups,access_token:GroupsClaim".
// NAME is a claim name exactly as written — "cognito:groups" and
// "https://claims.example.com/groups" are names, as the text before their
// first colon is no token kind — or a JSON Pointer ("/realm_access/roles").
func groupsClaims(s string) (def string, bySource map[string]string, err error) {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		kind, name := "", part
		if k, n, ok := strings.Cut(part, ":"); ok {
			switch k {
			case verify.SourceIDToken, verify.SourceAccessToken, verify.SourceUserinfo:
				kind, name = k, n
			}
		}
		if err := verify.CheckClaimRef(name); err != nil {
			return "", nil, failure.New(failure.Usage, "--groups-claim", "%q: %w", s, err)
		}
		if kind == "" {
			if def != "" {
				return "", nil, failure.New(failure.Usage, "--groups-claim", "%q names two claims for every token", s)
			}
			def = name
			continue
		}
		if bySource == nil {
			bySource = map[string]string{}
		}
		if bySource[kind] != "" {
			return "", nil, failure.New(failure.Usage, "--groups-claim", "%q names two claims for %s", s, kind)
		}
		bySource[kind] = name
	}
	return def, bySource, nil
}
