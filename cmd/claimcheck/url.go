package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
)

// URLOptions are the options of claimcheck url.
type URLOptions struct {
	RunOptions
}

func newURLCmd(ios *IOStreams, code *int) *cobra.Command {
	o := &URLOptions{}
	// url registers no check flags; the expectations it never evaluates
	// must still be valid.
	o.GroupsClaim = "groups"
	cmd := &cobra.Command{
		Use:   "url",
		Short: "Print the authorize URL (with -o json also its state, nonce and PKCE verifier) without running anything",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			*code = runURL(cmd.Context(), o, ios)
			return nil
		},
	}
	o.ProviderOptions.addFlags(cmd.Flags())
	o.OktaOptions.addServerFlags(cmd.Flags())
	o.FlowOptions.addFlags(cmd.Flags(), "http://127.0.0.1:8765/callback")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "text (the URL alone) or json")
	o.fs = cmd.Flags()
	return cmd
}

func runURL(ctx context.Context, o *URLOptions, ios *IOStreams) int {
	cfg, err := o.config(ctx, o.fs, ios)
	if err != nil {
		return emitError(ios, &o.OutputOptions, o.Issuer, o.Flow, err)
	}
	fc, err := check.FlowConfig(ctx, cfg)
	if err != nil {
		return emitError(ios, &o.OutputOptions, o.Issuer, o.Flow, err)
	}
	req, err := flow.NewRequest(fc)
	if err != nil {
		return emitError(ios, &o.OutputOptions, o.Issuer, o.Flow, err)
	}
	// A pushed request's URL holds only client_id and a request_uri, which
	// the provider issues: url pushes it, and the URL works until the
	// request_uri expires.
	if fc.PushAuthorizationRequest {
		if err := flow.Push(ctx, fc, req); err != nil {
			return emitError(ios, &o.OutputOptions, o.Issuer, o.Flow, err)
		}
	}
	if o.Output == "json" {
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		// flow.Request is what a script needs to run the rest of the flow
		// itself: the URL, state, nonce, PKCE verifier and the rest.
		if err := enc.Encode(req); err != nil {
			return failure.Provider.ExitCode()
		}
		return 0
	}
	fmt.Fprintln(ios.Out, req.URL)
	return 0
}
