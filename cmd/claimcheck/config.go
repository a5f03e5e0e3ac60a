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
	if err := checkSettings(cmd.Root(), file); err != nil {
		return err
	}
	for _, s := range file.Settings {
		where := file.Where(s)
		f := fs.Lookup(s.Flag)
		if f == nil || s.Flag == "profile" || s.Flag == "help" {
			continue // a setting for another command
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

// checkSettings checks every setting of the file, those of the profiles
// not chosen too, against the flags of every command: a key that is no
// flag, or a list for a flag of one value, is a usage error naming the
// file, the line and the profile, whichever command runs.
func checkSettings(root *cobra.Command, file *config.File) error {
	lists := settingNames(root)
	var names []string
	for n := range lists {
		names = append(names, n)
	}
	slices.Sort(names)
	all := append(slices.Clone(file.Settings), file.Unselected...)
	// In the file's order, so that the first mistake is the one reported.
	slices.SortStableFunc(all, func(a, b config.Setting) int { return a.Line - b.Line })
	for _, s := range all {
		name := strings.ReplaceAll(s.Flag, "-", "_")
		list, ok := lists[name]
		if !ok {
			return failure.New(failure.Usage, file.Where(s), "unknown setting (not a flag of any claimcheck command)%s", suggest.Hint(name, names, ""))
		}
		if len(s.Values) > 1 && !list {
			return failure.New(failure.Usage, file.Where(s), "takes one value, not a list")
		}
	}
	return nil
}

// settingNames are the flags of every command as the file spells them,
// each with whether it takes a list (on any command that has it).
func settingNames(root *cobra.Command) map[string]bool {
	names := map[string]bool{}
	add := func(f *pflag.Flag) {
		n := strings.ReplaceAll(f.Name, "-", "_")
		if f.Name != "help" && f.Name != "profile" {
			_, list := f.Value.(lister)
			names[n] = names[n] || list
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
