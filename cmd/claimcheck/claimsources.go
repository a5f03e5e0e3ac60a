package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
)

// ClaimSourceOptions say how distributed and aggregated claims (OpenID
// Connect Core 5.6.2) are resolved: --trusted-claims-issuer,
// --claims-source-token and --claims-source-graph.
type ClaimSourceOptions struct {
	TrustedClaimsIssuers []string
	ClaimsSourceToken    string
	ClaimsSourceGraph    bool
}

func (o *ClaimSourceOptions) addFlags(fs *pflag.FlagSet) {
	// The values are checked as they are set, so that a bad one in the
	// configuration file is refused with its line.
	fs.Var(&issuerList{&o.TrustedClaimsIssuers}, "trusted-claims-issuer",
		"an issuer besides --issuer whose signed aggregated or distributed claims count (repeatable; discovered as --issuer is)")
	fs.Var(&sourceToken{&o.ClaimsSourceToken}, "claims-source-token",
		`"run" sends the run's access token to a distributed claims endpoint whose source gives no access_token (default: such a source fails; claimcheck verify calls no endpoint without it)`)
	fs.BoolVar(&o.ClaimsSourceGraph, "claims-source-graph", false,
		"let a distributed claims endpoint on Microsoft Graph be called (Entra ID's group overage); without it it is skipped")
}

// issuerList is the value of --trusted-claims-issuer: http(s) URLs, one per
// use of the flag.
type issuerList struct{ p *[]string }

func (l *issuerList) String() string { return strings.Join(*l.p, ",") }
func (l *issuerList) Type() string   { return "stringArray" }

// GetSlice makes the list's length known to checkListLen.
func (l *issuerList) GetSlice() []string { return *l.p }
func (l *issuerList) Set(s string) error {
	if err := checkClaimsIssuer(s); err != nil {
		return err
	}
	*l.p = append(*l.p, s)
	return nil
}

func checkClaimsIssuer(iss string) error {
	u, err := url.Parse(iss)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) issuer URL", iss)
	}
	return nil
}

// sourceToken is the value of --claims-source-token: "run" or nothing.
type sourceToken struct{ p *string }

func (t *sourceToken) String() string { return *t.p }
func (t *sourceToken) Type() string   { return "string" }
func (t *sourceToken) Set(s string) error {
	if s != "" && s != check.ClaimSourcesTokenRun {
		return fmt.Errorf("unknown value %q (want run)", s)
	}
	*t.p = s
	return nil
}

// claimSources validates the options and returns them for check.Config.
func (o *ClaimSourceOptions) claimSources() (check.ClaimSources, error) {
	if o.ClaimsSourceToken != "" && o.ClaimsSourceToken != check.ClaimSourcesTokenRun {
		return check.ClaimSources{}, failure.New(failure.Usage, "--claims-source-token", "unknown value %q (want run)", o.ClaimsSourceToken)
	}
	for _, iss := range o.TrustedClaimsIssuers {
		if err := checkClaimsIssuer(iss); err != nil {
			return check.ClaimSources{}, failure.New(failure.Usage, "--trusted-claims-issuer", "%w", err)
		}
	}
	return check.ClaimSources{TrustedIssuers: o.TrustedClaimsIssuers, Token: o.ClaimsSourceToken, Graph: o.ClaimsSourceGraph}, nil
}
