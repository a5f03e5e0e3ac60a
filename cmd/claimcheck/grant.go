package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
)

// GrantOptions select a non-interactive grant instead of the browser flow.
type GrantOptions struct {
	Grant             string
	PrintRefreshToken bool
	// The token exchange's token types (RFC 8693 §3); its tokens come from
	// the environment or stdin, never from a flag.
	SubjectTokenType   string
	ActorTokenType     string
	RequestedTokenType string
}

func (o *GrantOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Grant, "grant", "", "get tokens without a browser redirect: refresh_token (token from CLAIMCHECK_REFRESH_TOKEN or stdin), password (--username, password from CLAIMCHECK_PASSWORD or --password-stdin), client_credentials, device_code, token_exchange (subject token from CLAIMCHECK_SUBJECT_TOKEN or stdin)")
	fs.StringVar(&o.SubjectTokenType, "subject-token-type", "", "token_exchange: the subject token's type, a URI or access_token, refresh_token, id_token, jwt, saml1, saml2")
	fs.StringVar(&o.ActorTokenType, "actor-token-type", "", "token_exchange: the actor token's type (the token from CLAIMCHECK_ACTOR_TOKEN, or stdin when the subject token is in the environment)")
	fs.StringVar(&o.RequestedTokenType, "requested-token-type", "", "token_exchange: the type of token to ask for (default: the provider's choice)")
	fs.BoolVar(&o.PrintRefreshToken, "print-refresh-token", false, "print the refresh token the run got to stderr, for storing as CLAIMCHECK_REFRESH_TOKEN (ask for offline_access)")
}

// openIDScopes are the scopes OpenID Connect Core defines (section 5.4 and
// 11): they ask about a user.
var openIDScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// apply reads the grant's secrets (never from a flag) and puts the grant in
// cfg. stdin is read at most once: by one secret.
// stdinUsed says that the client secret was read from stdin already; given
// says whether a flag was set on the command line or in the environment.
func (o *GrantOptions) apply(ctx context.Context, cfg *check.Config, fl *FlowOptions, u *UserOptions, ios *IOStreams, stdinUsed bool, given func(string) bool) error {
	if o.PrintRefreshToken {
		cfg.OnRefreshToken = func(rt string) {
			fmt.Fprintf(ios.ErrOut, "refresh token (store it as CLAIMCHECK_REFRESH_TOKEN): %s\n", rt)
		}
	}
	if o.Grant != flow.GrantTokenExchange {
		for _, name := range []string{"subject-token-type", "actor-token-type", "requested-token-type"} {
			if given(name) {
				return failure.New(failure.Usage, "--"+name, "applies only to --grant token_exchange")
			}
		}
	}
	if o.Grant == "" {
		return nil
	}
	// A grant has no authorization request and no redirect: flags that
	// shape them would be silently ignored, so they are refused. A profile
	// may set them for its browser runs, so only a value given for this run
	// (command line or environment) counts.
	for _, name := range []string{"flow", "response-type", "response-mode", "param", "redirect-uri"} {
		if name == "flow" && fl.Flow == "code" {
			continue // the grants' tokens are what a code flow would give
		}
		if given(name) {
			return failure.New(failure.Usage, "--"+name, "has no meaning with --grant %s (no authorization request is made)", o.Grant)
		}
	}
	// --no-browser is never refused: "open no browser" holds for every
	// grant, and a pipeline may well set CLAIMCHECK_NO_BROWSER for all its
	// runs.
	if o.Grant != flow.GrantDeviceCode && given("browser-command") {
		return failure.New(failure.Usage, "--browser-command", "has no meaning with --grant %s (no browser is involved; only device_code opens one)", o.Grant)
	}
	if o.Grant == flow.GrantClientCredentials && !given("scopes") {
		// The grant acts for no user: OpenID scopes, the default included,
		// have no meaning in it and some providers refuse them (Okta:
		// "Client Credentials requests cannot contain OpenID scopes").
		cfg.Scopes = slices.DeleteFunc(slices.Clone(cfg.Scopes), func(s string) bool { return slices.Contains(openIDScopes, s) })
	}
	if o.Grant == flow.GrantTokenExchange && !given("scopes") {
		// No scope leaves it to the provider, which grants what the
		// subject token carries (RFC 8693 §2.1); the default openid alone
		// would narrow it to that.
		cfg.Scopes = nil
	}
	g := check.Grant{Type: o.Grant}
	switch o.Grant {
	case flow.GrantRefreshToken:
		g.RefreshToken = ios.Getenv("CLAIMCHECK_REFRESH_TOKEN")
		if g.RefreshToken == "" {
			if stdinUsed {
				return failure.New(failure.Usage, "--grant refresh_token", "set CLAIMCHECK_REFRESH_TOKEN: stdin already carries the client secret")
			}
			s, err := readLine(ctx, ios.In)
			if err != nil {
				if ctx.Err() != nil {
					return stdinError("--grant refresh_token", "the refresh token", err)
				}
				return failure.New(failure.Usage, "--grant refresh_token", "no refresh token in CLAIMCHECK_REFRESH_TOKEN or on stdin: %v", err)
			}
			g.RefreshToken = s
		}
	case flow.GrantPassword:
		if u.Username == "" {
			return failure.New(failure.Usage, "--username", "required with --grant password")
		}
		pw, err := u.password(ctx, ios, stdinUsed)
		if err != nil {
			return err
		}
		g.Username, g.Password = u.Username, pw
	case flow.GrantClientCredentials:
		if cfg.ClientSecret == "" && cfg.ClientKey == nil {
			return failure.New(failure.Usage, "--grant client_credentials", "needs a client secret (CLAIMCHECK_CLIENT_SECRET) or a client key (--client-key)")
		}
	case flow.GrantDeviceCode:
		g.DeviceShow = deviceShow(fl, ios)
	case flow.GrantTokenExchange:
		x, err := o.tokenExchange(ctx, ios, stdinUsed)
		if err != nil {
			return err
		}
		g.Exchange = x
	default:
		return failure.New(failure.Usage, "--grant", "unknown grant %q (want refresh_token, password, client_credentials, device_code or token_exchange)", o.Grant)
	}
	cfg.Grant = g
	return nil
}

// deviceShow prints the verification URI and the user code and, unless
// --no-browser, opens the browser at the complete URI; a browser that fails
// is a warning, as in the code flow.
func deviceShow(fl *FlowOptions, ios *IOStreams) func(context.Context, *flow.DeviceAuthorization) error {
	return func(ctx context.Context, da *flow.DeviceAuthorization) error {
		fmt.Fprintf(ios.ErrOut, "To sign in, open %s and enter the code %s\n", da.VerificationURI, da.UserCode)
		if fl.NoBrowser {
			return nil
		}
		target := da.VerificationURIComplete
		if target == "" {
			target = da.VerificationURI
		}
		// Polling starts when the opener returns: a browser command that
		// waits for the person to finish makes the first poll the last.
		if err := fl.opener(ios).Open(ctx, target); err != nil && ctx.Err() == nil {
			fmt.Fprintf(ios.ErrOut, "warning: could not open a browser (%s); open the URL yourself\n", oneLine(err.Error()))
		}
		return nil
	}
}

// tokenExchange reads the token exchange's request: the token types from
// the flags, the subject token from CLAIMCHECK_SUBJECT_TOKEN or else one
// line of stdin, and an actor token, with --actor-token-type, from
// CLAIMCHECK_ACTOR_TOKEN or else stdin. stdin carries one secret at most.
func (o *GrantOptions) tokenExchange(ctx context.Context, ios *IOStreams, stdinUsed bool) (flow.TokenExchange, error) {
	var x flow.TokenExchange
	if o.SubjectTokenType == "" {
		return x, failure.New(failure.Usage, "--subject-token-type", "required with --grant token_exchange (access_token, id_token, refresh_token, jwt or a token type URI)")
	}
	var err error
	if x.SubjectTokenType, err = flow.ParseTokenType("--subject-token-type", o.SubjectTokenType); err != nil {
		return x, err
	}
	if o.RequestedTokenType != "" {
		if x.RequestedTokenType, err = flow.ParseTokenType("--requested-token-type", o.RequestedTokenType); err != nil {
			return x, err
		}
	}
	x.SubjectToken = strings.TrimSpace(ios.Getenv("CLAIMCHECK_SUBJECT_TOKEN"))
	if x.SubjectToken == "" {
		if stdinUsed {
			return x, failure.New(failure.Usage, "--grant token_exchange", "set CLAIMCHECK_SUBJECT_TOKEN: stdin already carries the client secret")
		}
		if x.SubjectToken, err = stdinToken(ctx, ios, "subject token", "CLAIMCHECK_SUBJECT_TOKEN"); err != nil {
			return x, err
		}
		stdinUsed = true
	}
	actor := strings.TrimSpace(ios.Getenv("CLAIMCHECK_ACTOR_TOKEN"))
	switch {
	case o.ActorTokenType == "" && actor != "":
		return x, failure.New(failure.Usage, "--actor-token-type", "required with CLAIMCHECK_ACTOR_TOKEN (RFC 8693 §2.1)")
	case o.ActorTokenType == "":
		return x, nil
	}
	if x.ActorTokenType, err = flow.ParseTokenType("--actor-token-type", o.ActorTokenType); err != nil {
		return x, err
	}
	if actor == "" {
		if stdinUsed {
			return x, failure.New(failure.Usage, "--actor-token-type", "set CLAIMCHECK_ACTOR_TOKEN: stdin carries another secret already")
		}
		if actor, err = stdinToken(ctx, ios, "actor token", "CLAIMCHECK_ACTOR_TOKEN"); err != nil {
			return x, err
		}
	}
	x.ActorToken = actor
	return x, nil
}

// stdinToken reads a token from one line of stdin; env names the variable
// that would have carried it.
func stdinToken(ctx context.Context, ios *IOStreams, what, env string) (string, error) {
	const op = "--grant token_exchange"
	s, err := readLine(ctx, ios.In)
	if err != nil {
		if ctx.Err() != nil {
			return "", stdinError(op, "the "+what, err)
		}
		return "", failure.New(failure.Usage, op, "no %s in %s or on stdin: %v", what, env, err)
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", failure.New(failure.Usage, op, "no %s: %s is not set and stdin is empty", what, env)
	}
	return s, nil
}
