package main

import (
	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/yamlfile"
)

// lister is a flag value that holds a list: pflag's string slices and
// arrays, and this command's own repeatable values.
type lister interface {
	GetSlice() []string
}

// checkListLen refuses a list flag holding more than yamlfile.MaxItems
// items, the limit a suite or configuration file has, so that a list is
// bounded however it is given; where names the flag, the CLAIMCHECK_*
// variable or the file's line.
func checkListLen(f *pflag.Flag, where string) error {
	l, ok := f.Value.(lister)
	if !ok {
		return nil
	}
	if n := len(l.GetSlice()); n > yamlfile.MaxItems {
		return failure.New(failure.Usage, where, "a list of %d items, more than the limit of %d", n, yamlfile.MaxItems)
	}
	return nil
}

// checkFlagLists applies checkListLen to every list given on the command
// line, before the environment or the configuration file adds to any.
func checkFlagLists(fs *pflag.FlagSet) error {
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if err == nil {
			err = checkListLen(f, "--"+f.Name)
		}
	})
	return err
}
