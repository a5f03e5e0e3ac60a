package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/report"
)

// maxTokenLen bounds one token; real ones are a few kilobytes.
const maxTokenLen = 64 << 10

// VerifyOptions are the options of claimcheck verify.
type VerifyOptions struct {
	ProviderOptions
	CheckOptions
	OutputOptions
	OktaOptions
	ProviderKindOptions
	StreamOptions
	ClaimSourceOptions
	Kind   string
	Tokens []string
}

func newVerifyCmd(ios *IOStreams, code *int) *cobra.Command {
	o := &VerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [TOKEN ... | -]",
		Short: "Verify tokens given as arguments, or one per line on stdin with -, and check them",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Tokens = args
			*code = runVerify(cmd.Context(), o, cmd, ios)
			return nil
		},
	}
	fs := cmd.Flags()
	o.ProviderOptions.addFlags(fs)
	o.OktaOptions.addServerFlags(fs)
	o.ProviderKindOptions.addFlags(fs)
	o.CheckOptions.addFlags(fs)
	o.OutputOptions.addFlags(fs)
	o.StreamOptions.addFlags(fs)
	o.ClaimSourceOptions.addFlags(fs)
	fs.StringVar(&o.Kind, "kind", "auto", "what the tokens are: id_token, access_token, or auto (an ID token names the client in aud)")
	return cmd
}

func runVerify(ctx context.Context, o *VerifyOptions, cmd *cobra.Command, ios *IOStreams) int {
	started := time.Now()
	fail := func(err error) int { return emitError(ios, &o.OutputOptions, o.Issuer, "verify", err) }
	if err := o.OutputOptions.validate(); err != nil {
		return fail(err)
	}
	switch o.Kind {
	case "auto", report.IDToken, report.AccessToken:
	default:
		return fail(failure.New(failure.Usage, "--kind", "unknown kind %q (want id_token, access_token or auto)", o.Kind))
	}
	if err := o.checkStreamFlags(cmd); err != nil {
		return fail(err)
	}
	if err := o.ProviderKindOptions.validate(o.Domain); err != nil {
		return fail(err)
	}
	if f := cmd.Flags().Lookup("provider"); f.Changed && o.isStream() {
		return fail(failure.New(failure.Usage, "--provider", "does not apply to a token stream (claimcheck verify -), which names no provider"))
	}
	if o.isStream() {
		for _, name := range []string{"trusted-claims-issuer", "claims-source-token", "claims-source-graph"} {
			if cmd.Flags().Lookup(name).Changed {
				return fail(failure.New(failure.Usage, "--"+name, "does not apply to a token stream (claimcheck verify -), which resolves no claim sources"))
			}
		}
		return runVerifyStream(ctx, o, cmd, ios)
	}
	tokens, err := readTokens(o.Tokens, o.Kind == report.AccessToken)
	if err != nil {
		return fail(err)
	}
	if o.Kind != report.AccessToken && o.ClientID == "" {
		return fail(failure.New(failure.Usage, "--client-id", "required to verify ID tokens (their aud); use --kind access_token for access tokens alone"))
	}
	if _, err := o.OktaOptions.apply(&o.ProviderOptions, &o.CheckOptions); err != nil {
		return fail(err)
	}
	if err := o.ProviderOptions.resolve(ctx, cmd.Flags(), ios); err != nil {
		return fail(err)
	}
	exp, err := o.CheckOptions.expectations()
	if err != nil {
		return fail(err)
	}
	sources, err := o.ClaimSourceOptions.claimSources()
	if err != nil {
		return fail(err)
	}
	client, err := o.ProviderOptions.httpClient()
	if err != nil {
		return fail(err)
	}
	cfg := check.Config{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, AuthMethod: o.ClientAuth,
		ClientKey: o.clientKey, AssertionAudience: o.AssertionAud, DPoPKey: o.dpopKey, ClientCertificate: o.clientCert,
		Audience: o.Audience, Expect: exp,
		ClockSkew: o.ClockSkew, HTTPClient: client, ShowTokens: o.ShowTokens,
		ProviderKind: o.ProviderKind, ClaimSources: sources,
	}
	r, _ := check.Verify(ctx, cfg, o.Kind, tokens)
	return emit(ios, &o.OutputOptions, r, started)
}

// readTokens takes the tokens from the arguments and rejects anything that
// is not a compact JWS before any request is made; with opaqueOK (--kind
// access_token) a bearer token of any form passes, to be introspected. (A
// lone "-" is a token stream, verified as it is read by runVerifyStream.)
// A malformed token is a verification failure (4), as the same token on
// stdin is: the token is the input under test, not a flag. No token at all
// is a usage error.
func readTokens(args []string, opaqueOK bool) ([]string, error) {
	tokens := args
	if len(tokens) == 0 {
		return nil, failure.New(failure.Usage, "verify", "no token given (pass tokens as arguments, or - and one per line on stdin)")
	}
	for i, t := range tokens {
		check := checkCompact
		if opaqueOK {
			check = checkBearer
		}
		if err := check(t); err != nil {
			return nil, failure.New(failure.Verification, "verify", "token %d: %w", i+1, err)
		}
	}
	return tokens, nil
}

// checkBearer accepts what RFC 6750 2.1 allows as a bearer token
// (b64token), bounded in length.
func checkBearer(t string) error {
	if len(t) > maxTokenLen {
		return fmt.Errorf("is %d bytes long; a token may be at most %d", len(t), maxTokenLen)
	}
	body := strings.TrimRight(t, "=")
	if body == "" || strings.Trim(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") != "" {
		return fmt.Errorf("is not a bearer token: only letters, digits and -._~+/ (then =) may appear")
	}
	return nil
}

func checkCompact(t string) error {
	if len(t) > maxTokenLen {
		return fmt.Errorf("is %d bytes long; a token may be at most %d", len(t), maxTokenLen)
	}
	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return fmt.Errorf("is not a JWT: %d dot-separated parts, want 3 (an opaque access token needs --kind access_token)", len(parts))
	}
	for _, p := range parts[:2] {
		if p == "" || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return fmt.Errorf("is not a JWT: a part is not base64url")
		}
	}
	if strings.Trim(parts[2], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return fmt.Errorf("is not a JWT: the signature is not base64url")
	}
	return nil
}
