package main

import (
	"net/url"

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
	fs.StringArrayVar(&o.TrustedClaimsIssuers, "trusted-claims-issuer", nil,
		"an issuer besides --issuer whose signed aggregated or distributed claims count (repeatable; discovered as --issuer is)")
	fs.StringVar(&o.ClaimsSourceToken, "claims-source-token", "",
		`"run" sends the run's access token to a distributed claims endpoint whose source gives no access_token (default: such a source fails)`)
	fs.BoolVar(&o.ClaimsSourceGraph, "claims-source-graph", false,
		"let a distributed claims endpoint on Microsoft Graph be called (Entra ID's group overage); without it it is skipped")
}

// claimSources validates the options and returns them for check.Config.
func (o *ClaimSourceOptions) claimSources() (check.ClaimSources, error) {
	if o.ClaimsSourceToken != "" && o.ClaimsSourceToken != check.ClaimSourcesTokenRun {
		return check.ClaimSources{}, failure.New(failure.Usage, "--claims-source-token", "unknown value %q (want run)", o.ClaimsSourceToken)
	}
	for _, iss := range o.TrustedClaimsIssuers {
		u, err := url.Parse(iss)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return check.ClaimSources{}, failure.New(failure.Usage, "--trusted-claims-issuer", "%q is not an http(s) issuer URL", iss)
		}
	}
	return check.ClaimSources{TrustedIssuers: o.TrustedClaimsIssuers, Token: o.ClaimsSourceToken, Graph: o.ClaimsSourceGraph}, nil
}
