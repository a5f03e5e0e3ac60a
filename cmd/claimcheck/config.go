package main

import (
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/app/config"
	"github.com/claimcheck/claimcheck/internal/suggest"
)

// addConfigFlags adds --profile to every command.
func addConfigFlags(fs *pflag.FlagSet) {
	fs.String("profile", "", "use this profile of the configuration file (.claimcheck.yaml here, or claimcheck/config.yaml in the user's configuration directory)")
}

// applyConfig fills the flags that neither the command line nor a
// CLAIMCHECK_* variable set from the configuration file: flags win, then
// the environment, then the file.
func applyConfig(cmd *cobra.Command, ios *IOStreams) error {
	fs := cmd.Flags()
	profile := ""
	if f := fs.Lookup("profile"); f != nil {
		profile = f.Value.String()
	}
	dir, err := os.Getwd()
	if err != nil {
		return failure.New(failure.Usage, "configuration file", "%v", err)
	}
	path, err := config.Find(dir, config.UserDir(ios.Getenv))
	if err != nil {
		return err
	}
	if path == "" {
		if profile != "" {
			return failure.New(failure.Usage, "--profile", "no configuration file (%s here, or claimcheck/config.yaml in the user's configuration directory) to take profile %q from", config.LocalName, profile)
		}
		return nil
	}
	file, err := config.Load(path, profile)
	if err != nil {
		return err
	}
	for _, s := range file.Settings {
		name := strings.ReplaceAll(s.Flag, "-", "_")
		where := file.Where(s) + ": " + name
		f := fs.Lookup(s.Flag)
		if f == nil || s.Flag == "profile" || s.Flag == "help" {
			known := settingNames(cmd.Root())
			if slices.Contains(known, name) {
				continue // a setting for another command
			}
			return failure.New(failure.Usage, where, "unknown setting (not a flag of any claimcheck command)%s", suggest.Hint(name, known, ""))
		}
		if len(s.Values) > 1 && f.Value.Type() != "stringSlice" && f.Value.Type() != "stringArray" {
			return failure.New(failure.Usage, where, "takes one value, not a list")
		}
		if f.Changed || ios.Getenv(envName(s.Flag)) != "" {
			continue
		}
		values := s.Values
		if s.FromEnv != "" {
			v := ios.Getenv(s.FromEnv)
			if v == "" {
				return failure.New(failure.Usage, where+"_env", "names the environment variable %s, which is not set", s.FromEnv)
			}
			values = []string{v}
		}
		if f.Value.Type() == "stringSlice" {
			values = []string{strings.Join(values, ",")}
		}
		for _, v := range values {
			if err := fs.Set(f.Name, v); err != nil {
				// The value itself is not repeated: it may be a secret.
				return failure.New(failure.Usage, where, "%s", oneLine(strings.ReplaceAll(err.Error(), v, "…")))
			}
		}
		// The file bounds its YAML lists; a comma-separated value is split
		// only here.
		if err := checkListLen(f, where); err != nil {
			return err
		}
		// As with the environment: not "given on the command line".
		f.Changed = false
	}
	return nil
}

func envName(flag string) string {
	return "CLAIMCHECK_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// settingNames are the flags of every command as the file spells them.
func settingNames(root *cobra.Command) []string {
	var names []string
	add := func(f *pflag.Flag) {
		n := strings.ReplaceAll(f.Name, "-", "_")
		if f.Name != "help" && f.Name != "profile" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return names
}
