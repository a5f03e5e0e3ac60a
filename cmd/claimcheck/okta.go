package main

import (
	"net/http"
	"net/http/cookiejar"
	"strings"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/runner"
	"github.com/claimcheck/claimcheck/internal/standin"
	"github.com/claimcheck/claimcheck/okta"
	"github.com/claimcheck/claimcheck/verify"
)

// OktaOptions address an Okta org by its domain and authorization server,
// and sign in without a browser through Okta's Authentication API.
type OktaOptions struct {
	Domain              string
	AuthorizationServer string
	Username            string
	PasswordStdin       bool
}

func (o *OktaOptions) addFlags(fs *pflag.FlagSet) {
	o.addServerFlags(fs)
	fs.StringVar(&o.Username, "username", "", "with --okta-domain: sign in as this user through Okta's Authentication API, no browser (password from CLAIMCHECK_PASSWORD or --password-stdin)")
	fs.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the --username password from the first line of stdin")
}

// addServerFlags are the flags that name the server, for commands that
// sign no one in.
func (o *OktaOptions) addServerFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Domain, "okta-domain", "", "your Okta domain, e.g. example.okta.com (instead of --issuer)")
	fs.StringVar(&o.AuthorizationServer, "authorization-server", "", `with --okta-domain: "org" for the org authorization server, or a custom authorization server's id (default "default")`)
}

// apply turns the Okta flags into the issuer, the default audience and the
// run's Okta configuration; nil when no Okta flag is set.
func (o *OktaOptions) apply(p *ProviderOptions, c *CheckOptions, ios *IOStreams) (*runner.OktaConfig, error) {
	if o.Domain == "" {
		// An issuer on Okta's own domain gets the default server's audience
		// all the same.
		if s, ok := okta.ServerOf(p.Issuer); ok && okta.Hosted(p.Issuer) && c.Audience == "" {
			c.Audience = s.Audience()
		}
		switch {
		case o.AuthorizationServer != "":
			return nil, failure.New(failure.Usage, "--authorization-server", "needs --okta-domain")
		case o.Username != "" || o.PasswordStdin:
			return nil, failure.New(failure.Usage, "--username", "headless sign-in is Okta's: it needs --okta-domain")
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
	oc := &runner.OktaConfig{Server: s}
	if o.PasswordStdin && o.Username == "" {
		return nil, failure.New(failure.Usage, "--password-stdin", "needs --username")
	}
	if o.Username == "" {
		return oc, nil
	}
	oc.Username = o.Username
	switch {
	case o.PasswordStdin && p.ClientSecret == "-":
		return nil, failure.New(failure.Usage, "--password-stdin", "stdin cannot carry both the password and the client secret; set CLAIMCHECK_CLIENT_SECRET")
	case o.PasswordStdin:
		pw, err := readLine(ios.In)
		if err != nil {
			return nil, failure.New(failure.Usage, "--password-stdin", "reading the password from stdin: %w", err)
		}
		oc.Password = pw
	default:
		oc.Password = ios.Getenv("CLAIMCHECK_PASSWORD")
	}
	if oc.Password == "" {
		return nil, failure.New(failure.Usage, "--username", "no password: set CLAIMCHECK_PASSWORD or pass --password-stdin")
	}
	return oc, nil
}

// headless is the browser stand-in that follows the authorize request with
// a sessionToken to the redirect, delivering it to the listener.
// It uses the run's client (deadline per request, body cap, --ca-file)
// with a cookie jar of its own.
func headless(f *FlowOptions, client *http.Client) (*standin.Browser, error) {
	if f.BrowserCommand != "" || f.NoBrowser {
		return nil, failure.New(failure.Usage, "--username", "signs in without a browser: drop --browser-command and --no-browser")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, "--username", err)
	}
	c := *client
	c.Jar = jar
	return &standin.Browser{Client: &c}, nil
}

// groupsClaims parses --groups-claim: NAME for every token, or a comma
// separated list of NAME and KIND:NAME (KIND id_token, access_token or
// userinfo), e.g. "access_token:GroupsClaim" or "groups,access_token:GroupsClaim".
func groupsClaims(s string) (def string, bySource map[string]string, err error) {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		kind, name, scoped := strings.Cut(part, ":")
		if !scoped {
			kind, name = "", part
		}
		if name == "" {
			return "", nil, failure.New(failure.Usage, "--groups-claim", "%q: a claim name is empty", s)
		}
		switch kind {
		case "":
			if def != "" {
				return "", nil, failure.New(failure.Usage, "--groups-claim", "%q names two claims for every token", s)
			}
			def = name
		case verify.SourceIDToken, verify.SourceAccessToken, verify.SourceUserinfo:
			if bySource == nil {
				bySource = map[string]string{}
			}
			if bySource[kind] != "" {
				return "", nil, failure.New(failure.Usage, "--groups-claim", "%q names two claims for %s", s, kind)
			}
			bySource[kind] = name
		default:
			return "", nil, failure.New(failure.Usage, "--groups-claim", "%q: unknown token kind %q (want id_token, access_token or userinfo)", s, kind)
		}
	}
	return def, bySource, nil
}
