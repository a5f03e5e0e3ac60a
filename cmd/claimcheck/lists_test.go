package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/yamlfile"
)

func items(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "http://127.0.0.1/" + itoa(i)
	}
	return out
}

func TestCheckListLen(t *testing.T) {
	var slice, array, issuers []string
	var scalar string
	o := &CheckOptions{}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.StringSliceVar(&slice, "slice", nil, "")
	fs.StringArrayVar(&array, "array", nil, "")
	fs.Var(&audienceValue{o}, "audience", "")
	fs.Var(&issuerList{&issuers}, "issuer-list", "")
	fs.StringVar(&scalar, "scalar", "", "")
	tests := []struct {
		name, flag string
		n          int
		want       string // "" when accepted
	}{
		{"a slice at the limit", "slice", yamlfile.MaxItems, ""},
		{"a slice over the limit", "slice", yamlfile.MaxItems + 1, "--slice: a list of 1001 items, more than the limit of 1000"},
		{"an array at the limit", "array", yamlfile.MaxItems, ""},
		{"an array over the limit", "array", yamlfile.MaxItems + 1, "--array: a list of 1001 items, more than the limit of 1000"},
		{"audiences over the limit", "audience", yamlfile.MaxItems + 1, "--audience: a list of 1001 items, more than the limit of 1000"},
		{"issuers over the limit", "issuer-list", yamlfile.MaxItems + 1, "--issuer-list: a list of 1001 items, more than the limit of 1000"},
		// Not a list: one value, however long.
		{"a scalar", "scalar", yamlfile.MaxItems + 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slice, array, o.Audiences, issuers = nil, nil, nil, nil
			f := fs.Lookup(tt.flag)
			for _, v := range items(tt.n) {
				if err := fs.Set(tt.flag, v); err != nil {
					t.Fatal(err)
				}
			}
			err := checkListLen(f, "--"+tt.flag)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want || failure.ClassOf(err) != failure.Usage {
				t.Fatalf("err %v, want the usage error %q", err, tt.want)
			}
		})
	}
}

// TestListFlagLimits: every list-valued flag of every command holds at
// most yamlfile.MaxItems items, as a suite or configuration file's lists
// do, on the command line and in its CLAIMCHECK_* variable: more is a usage
// error (2) naming the flag or the variable and the limit, found before
// anything is sent. The flags are found by walking the command tree, so a
// list flag added later is covered too.
func TestListFlagLimits(t *testing.T) {
	issuer, sent := countingIssuer(t)
	t.Chdir(t.TempDir())
	suiteFile := filepath.Join(t.TempDir(), "claimcheck.yaml")
	if err := os.WriteFile(suiteFile, []byte("defaults: {issuer: "+issuer+", client_id: x, grant: client_credentials, client_secret_env: S}\ncases:\n  - {name: a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Arguments that make each command run as far as its flags.
	positional := map[string][]string{"verify": {"-"}, "test": {suiteFile}}
	over := items(yamlfile.MaxItems + 1)
	var seen []string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if _, ok := f.Value.(lister); !ok {
				return
			}
			if !slices.Contains(seen, f.Name) {
				seen = append(seen, f.Name)
			}
			args := append(append([]string{}, path...), positional[c.Name()]...)
			if c.Flags().Lookup("issuer") != nil && f.Name != "issuer" {
				args = append(args, "--issuer", issuer, "--client-id", "x")
			}
			name := strings.Join(append(path, "--"+f.Name), " ")
			t.Run(name+" on the command line", func(t *testing.T) {
				a := args
				if f.Value.Type() == "stringSlice" {
					a = append(a, "--"+f.Name, strings.Join(over, ","))
				} else {
					for _, v := range over {
						a = append(a, "--"+f.Name, v)
					}
				}
				sent.Store(0)
				code, stdout, stderr := runMain(t, nil, a...)
				checkExactUsage(t, name, "claimcheck: --"+f.Name+": a list of 1001 items, more than the limit of 1000", code, stdout, stderr, sent)
			})
			// A variable is one value: only a comma-separated list can be
			// long there; the demo reads none of them.
			env := envName(f.Name)
			if f.Value.Type() != "stringSlice" || (c.Name() == "demo" && !demoReads(env)) {
				return
			}
			t.Run(name+" in "+env, func(t *testing.T) {
				sent.Store(0)
				code, stdout, stderr := runMain(t, map[string]string{env: strings.Join(over, ",")}, args...)
				checkExactUsage(t, name, "claimcheck: "+env+": a list of 1001 items, more than the limit of 1000", code, stdout, stderr, sent)
			})
		})
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(newRootCmd(context.Background(), &IOStreams{}, new(int)), nil)
	for _, want := range []string{"expect-groups", "forbid-groups", "groups-from", "scopes", "param", "resource", "audience", "trusted-claims-issuer", "trusted-issuer"} {
		if !slices.Contains(seen, want) {
			t.Errorf("no command has a list flag --%s", want)
		}
	}
}

// checkExactUsage is checkUsageNothingSent with stderr exactly the line want.
func checkExactUsage(t *testing.T, name, want string, code int, stdout, stderr string, sent *atomic.Int64) {
	t.Helper()
	checkUsageNothingSent(t, name, want, code, stdout, stderr, sent)
	if stderr != want+"\n" || stdout != "" {
		t.Errorf("stderr %.300q, stdout %.300q; want stderr %q alone", stderr, stdout, want)
	}
}
