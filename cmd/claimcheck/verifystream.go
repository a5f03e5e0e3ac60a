package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/app/stream"
	"github.com/claimcheck/claimcheck/report"
)

// streamGCPercent is GOGC while a stream is verified, and
// streamMemoryLimit the soft memory limit (GOMEMLIMIT).
const (
	streamGCPercent   = 400
	streamMemoryLimit = 40 << 20
)

// StreamOptions are the options only claimcheck verify - has.
type StreamOptions struct {
	// TrustedIssuers may sign the tokens of the stream, besides --issuer.
	TrustedIssuers []string
	// Parallel is the number of tokens verified at once; 0 means one per
	// CPU.
	Parallel int
}

func (o *StreamOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.TrustedIssuers, "trusted-issuer", nil, "with -: an issuer whose tokens the stream may hold, besides --issuer (repeatable); tokens of any other issuer are rejected without a request")
	fs.IntVar(&o.Parallel, "parallel", 0, "with -: tokens verified at once (default: the number of CPUs)")
}

// isStream says whether verify reads a token stream: its only argument is -.
func (o *VerifyOptions) isStream() bool {
	return len(o.Tokens) == 1 && o.Tokens[0] == "-"
}

// checkStreamFlags refuses the stream flags outside a stream.
func (o *VerifyOptions) checkStreamFlags(cmd *cobra.Command) error {
	if o.isStream() {
		return nil
	}
	for _, name := range []string{"trusted-issuer", "parallel"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			return failure.New(failure.Usage, "--"+name, "applies only to a token stream (claimcheck verify -)")
		}
	}
	return nil
}

// runVerifyStream is claimcheck verify -: JSON lines on stdout, a summary
// on stderr, the worst class as exit status (README: Verifying a stream of tokens).
func runVerifyStream(ctx context.Context, o *VerifyOptions, cmd *cobra.Command, ios *IOStreams) int {
	fail := func(err error) int {
		fmt.Fprintf(ios.ErrOut, "claimcheck: %s\n", oneLine(err.Error()))
		return failure.ClassOf(err).ExitCode()
	}
	if f := cmd.Flags().Lookup("output"); f != nil && f.Changed && o.Output != "json" {
		return fail(failure.New(failure.Usage, "--output", "a token stream is always written as JSON lines; leave out -o or use -o json"))
	}
	if o.JUnit != "" {
		return fail(failure.New(failure.Usage, "--junit", "is not available for a token stream (one JSON line per token is written instead)"))
	}
	if o.ClientSecret == "-" {
		return fail(failure.New(failure.Usage, "--client-secret", "cannot be read from stdin, which holds the tokens (verify -); set the secret in CLAIMCHECK_CLIENT_SECRET instead"))
	}
	switch o.Kind {
	case "auto", report.IDToken, report.AccessToken:
	default:
		return fail(failure.New(failure.Usage, "--kind", "unknown kind %q (want id_token, access_token or auto)", o.Kind))
	}
	if o.Kind != report.AccessToken && o.ClientID == "" {
		return fail(failure.New(failure.Usage, "--client-id", "required to verify ID tokens (their aud); use --kind access_token for access tokens alone"))
	}
	if o.Parallel < 0 {
		return fail(failure.New(failure.Usage, "--parallel", "must be at least 1"))
	}
	if err := checkClockSkew(o.ClockSkew); err != nil {
		return fail(err)
	}
	if _, err := o.OktaOptions.apply(&o.ProviderOptions, &o.CheckOptions); err != nil {
		return fail(err)
	}
	issuers := stream.TrustedIssuers(append([]string{o.Issuer}, o.TrustedIssuers...)...)
	if len(issuers) == 0 {
		return fail(failure.New(failure.Usage, "--issuer", "required (or --trusted-issuer, repeated, for a stream of several issuers)"))
	}
	for _, iss := range issuers {
		if err := checkIssuerURL("--trusted-issuer", iss); err != nil {
			return fail(err)
		}
	}
	exp, err := o.CheckOptions.expectations()
	if err != nil {
		return fail(err)
	}
	client, err := o.ProviderOptions.httpClient()
	if err != nil {
		return fail(err)
	}
	cfg := stream.Config{
		ClientID: o.ClientID, Audience: o.Audience, Expect: exp,
		ClockSkew: o.ClockSkew, HTTPClient: client, ShowTokens: o.ShowTokens,
		Issuers: issuers, Kind: o.Kind, Workers: o.Parallel,
	}
	// The stream's live heap is small and constant (the window), while it
	// allocates a few kilobytes per token: collecting at 4x the live heap
	// instead of 2x halves the collector's share of the CPU and keeps the
	// process well under its memory target (README: Verifying a stream of tokens).
	defer debug.SetGCPercent(debug.SetGCPercent(streamGCPercent))
	// A soft limit makes the collector work harder rather than let the
	// heap overshoot when the process is starved of CPU on a busy machine.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(streamMemoryLimit))
	sum, err := stream.Verify(ctx, cfg, ios.In, ios.Out)
	fmt.Fprintln(ios.ErrOut, streamSummaryLine(sum))
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "claimcheck: %s\n", oneLine(err.Error()))
		if sum.Worst.Severity() < failure.Usage.Severity() {
			return failure.Usage.ExitCode()
		}
	}
	return sum.ExitCode()
}

// streamSummaryLine is the one line written to stderr at the end.
func streamSummaryLine(s stream.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "claimcheck verify: %d tokens, %d ok, %d failed", s.Tokens, s.OK, s.Tokens-s.OK)
	if len(s.Classes) > 0 {
		var parts []string
		for c, n := range s.Classes {
			parts = append(parts, fmt.Sprintf("%s %d", c, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if s.Worst == failure.Interrupted {
		b.WriteString("; interrupted")
	}
	fmt.Fprintf(&b, "; exit status %d", s.ExitCode())
	return b.String()
}
