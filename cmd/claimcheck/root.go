package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/suggest"
)

// Main runs the command line args and returns the exit status.
func Main(ctx context.Context, ios *IOStreams, args []string) int {
	code := 0
	root := newRootCmd(ctx, ios, &code)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	if err := root.ExecuteContext(ctx); err != nil {
		// Errors that reach here are cobra's own (unknown flag or command,
		// bad value) or usage errors found before anything was sent.
		fmt.Fprintf(ios.ErrOut, "claimcheck: %s\n", oneLine(err.Error()))
		if c := failure.ClassOf(err); c != failure.Provider {
			return c.ExitCode()
		}
		return failure.Usage.ExitCode()
	}
	return code
}

func newRootCmd(ctx context.Context, ios *IOStreams, code *int) *cobra.Command {
	runOpts := &RunOptions{}
	root := &cobra.Command{
		Use:   "claimcheck",
		Short: "Prove that an OpenID Connect / OAuth 2.0 configuration issues the tokens and groups you expect",
		Long: `claimcheck runs an authorization flow against your provider (code with PKCE, implicit or
hybrid), captures the redirect on a loopback listener, verifies every token against the issuer's
published keys, and checks that the groups claim holds what you expect.

  claimcheck --issuer https://example.okta.com --client-id 0oa... --scopes openid,groups --expect-groups IT,Everyone

Every flag can also be set as CLAIMCHECK_<FLAG> in the environment (CLAIMCHECK_CLIENT_SECRET, ...).

Exit status: 0 all good; 1 an expectation not met; 2 usage; 3 the flow failed; 4 a token or the
provider's metadata failed verification; 5 the provider could not be used; 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A word that is no command is most often a misspelt one.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			var names []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return failure.New(failure.Usage, "", "unknown command %q for %q%s", args[0], cmd.CommandPath(), suggest.Hint(args[0], names, ""))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			runOpts.fs = cmd.Flags()
			*code = runRun(cmd.Context(), runOpts, ios)
			return nil
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return failure.New(failure.Usage, "", "%s%s (see '%s --help')", err, flagSuggestion(c, err), c.CommandPath())
	})
	runOpts.addFlags(root.Flags())
	addConfigFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := checkFlagLists(cmd.Flags()); err != nil {
			return err
		}
		if err := applyEnv(cmd.Flags(), ios.Getenv); err != nil {
			return err
		}
		return applyConfig(cmd, ios)
	}

	runCmd := &cobra.Command{
		Use:   "run",
		Short: "Run a flow, verify the tokens, check the expectations (the default command)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			runOpts.fs = cmd.Flags()
			*code = runRun(cmd.Context(), runOpts, ios)
			return nil
		},
	}
	runOpts.addFlags(runCmd.Flags())

	root.AddCommand(runCmd, newURLCmd(ios, code), newVerifyCmd(ios, code), newDemoCmd(ios, code), newTestCmd(ios, code), newVersionCmd(ios))
	root.CompletionOptions.HiddenDefaultCmd = true
	return root
}

// applyEnv fills every flag not given on the command line from
// CLAIMCHECK_<FLAG>, so flags win over the environment. A list longer than
// checkListLen allows is refused naming the variable.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name := "CLAIMCHECK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if v == "" {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = failure.New(failure.Usage, name, "%w", e)
		} else {
			err = checkListLen(f, name)
		}
		// Set marks the flag changed; clear it so that "given on the command
		// line" stays distinguishable (the secret warning relies on it).
		f.Changed = false
	})
	return err
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// flagSuggestion is "; did you mean --NAME?" when err is pflag's unknown
// flag error and one of c's flags is near the name given.
func flagSuggestion(c *cobra.Command, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return suggest.Hint(name, names, "--")
}
