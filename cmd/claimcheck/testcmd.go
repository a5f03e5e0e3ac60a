package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/app/suite"
)

// TestOptions are the options of claimcheck test.
type TestOptions struct {
	File            string
	Parallel        int
	Shard           string
	Run             string
	List            bool
	Rate            float64
	HTTPTimeout     time.Duration
	ClockSkew       time.Duration
	Timeout         time.Duration
	CAFile          string
	Output          string
	JUnit           string
	UpdateSnapshots bool
}

func (o *TestOptions) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Parallel, "parallel", runtime.NumCPU(), "how many cases run at once")
	fs.StringVar(&o.Shard, "shard", "", "run only part K of N of the cases (K/N, stable by case name), for a CI matrix")
	fs.StringVar(&o.Run, "run", "", "run only the cases whose name this regular expression matches (as go test -run)")
	fs.BoolVar(&o.List, "list", false, "print the names of the cases that would run (after --shard and --run), one per line, and run none")
	fs.Float64Var(&o.Rate, "rate", 0, "at most this many requests per second to each issuer (0: no limit); 429 answers are retried after Retry-After")
	fs.DurationVar(&o.HTTPTimeout, "http-timeout", 10*time.Second, "deadline of each request to a provider")
	fs.DurationVar(&o.ClockSkew, "clock-skew", 2*time.Minute, "allowed clock difference for exp, iat and nbf (at most 10m)")
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "deadline of each case")
	fs.StringVar(&o.CAFile, "ca-file", "", "PEM file of extra CA certificates to trust (a private CA)")
	fs.StringVarP(&o.Output, "output", "o", "text", "report format: text or json")
	fs.StringVar(&o.JUnit, "junit", "", "also write one JUnit testcase per case to this file")
	fs.BoolVar(&o.UpdateSnapshots, "update-snapshots", false, "write each case's snapshot: file from this run instead of comparing")
}

func newTestCmd(ios *IOStreams, code *int) *cobra.Command {
	o := &TestOptions{}
	cmd := &cobra.Command{
		Use:   "test [FILE]",
		Short: "Run the cases of a suite file (default claimcheck.yaml) in parallel, for CI after a deploy",
		Long: `claimcheck test runs every case of a suite file: each a user or grant and what its tokens
must carry. Cases run in parallel, sharing one discovery document and one key set per issuer.
Secrets come only from environment variables the file names. The exit status is the worst
class among the cases. The format is described in the README (A suite file).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = "claimcheck.yaml"
			if len(args) == 1 {
				o.File = args[0]
			}
			*code = runTest(cmd.Context(), o, ios)
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func parseShard(s string) (suite.Shard, error) {
	if s == "" {
		return suite.Shard{}, nil
	}
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 1 || ki > ni {
		return suite.Shard{}, failure.New(failure.Usage, "--shard", "%q is not K/N with 1 <= K <= N", s)
	}
	return suite.Shard{Index: ki, Of: ni}, nil
}

func (o *TestOptions) validate() (suite.Shard, error) {
	if o.Output != "text" && o.Output != "json" {
		return suite.Shard{}, failure.New(failure.Usage, "--output", "unknown format %q (want text or json)", o.Output)
	}
	if o.Parallel < 1 {
		return suite.Shard{}, failure.New(failure.Usage, "--parallel", "must be at least 1")
	}
	if o.Rate < 0 {
		return suite.Shard{}, failure.New(failure.Usage, "--rate", "must not be negative")
	}
	if o.Timeout <= 0 || o.HTTPTimeout <= 0 {
		return suite.Shard{}, failure.New(failure.Usage, "--timeout", "--timeout and --http-timeout must be positive")
	}
	if err := checkClockSkew(o.ClockSkew); err != nil {
		return suite.Shard{}, err
	}
	if o.List && o.JUnit != "" {
		return suite.Shard{}, failure.New(failure.Usage, "--junit", "has no meaning with --list (no case runs)")
	}
	if o.List && o.UpdateSnapshots {
		return suite.Shard{}, failure.New(failure.Usage, "--update-snapshots", "has no meaning with --list (no case runs)")
	}
	return parseShard(o.Shard)
}

func runTest(ctx context.Context, o *TestOptions, ios *IOStreams) int {
	fail := func(err error) int {
		fmt.Fprintf(ios.ErrOut, "claimcheck: %s\n", oneLine(err.Error()))
		return failure.ClassOf(err).ExitCode()
	}
	shard, err := o.validate()
	if err != nil {
		return fail(err)
	}
	var match *regexp.Regexp
	if o.Run != "" {
		if match, err = regexp.Compile(o.Run); err != nil {
			return fail(failure.New(failure.Usage, "--run", "not a regular expression: %s", oneLine(err.Error())))
		}
	}
	s, err := suite.Load(o.File)
	if err != nil {
		return fail(err)
	}
	if match != nil && len(s.Select(suite.Options{Match: match})) == 0 {
		// A pattern that selects nothing anywhere is a mistake, and a
		// pipeline that runs no case must not pass. (One shard may well
		// hold none of the cases it selects.)
		return fail(failure.New(failure.Usage, "--run", "%q matches no case of %s", o.Run, o.File))
	}
	opts := suite.Options{
		Parallel: o.Parallel, Shard: shard, Match: match, Rate: o.Rate,
		HTTPTimeout: o.HTTPTimeout, ClockSkew: o.ClockSkew, Timeout: o.Timeout, CAFile: o.CAFile,
		Getenv: ios.Getenv, UpdateSnapshots: o.UpdateSnapshots,
	}
	if o.List {
		return listCases(ios, o, s.Select(opts))
	}
	live := ios.ErrTTY
	if live {
		opts.Progress = func(done, total, failed int) {
			fmt.Fprintf(ios.ErrOut, "\r\x1b[K%d/%d cases done, %d not passed", done, total, failed)
		}
	}
	res, err := suite.Run(ctx, s, opts)
	if live {
		fmt.Fprint(ios.ErrOut, "\r\x1b[K")
	}
	if err != nil {
		return fail(err)
	}
	if o.Output == "json" {
		err = res.WriteJSON(ios.Out)
	} else {
		err = res.WriteText(ios.Out)
	}
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "claimcheck: writing the report: %v\n", err)
	}
	if o.JUnit != "" {
		if err := writeFile(o.JUnit, res.WriteJUnit); err != nil {
			fmt.Fprintf(ios.ErrOut, "claimcheck: writing JUnit %s: %v\n", o.JUnit, err)
			if res.ExitCode == 0 {
				return failure.Usage.ExitCode()
			}
		}
	}
	return res.ExitCode
}

// listCases prints the names of the cases a run would run: one per line,
// or with -o json an object with the file, the shard and the names.
func listCases(ios *IOStreams, o *TestOptions, cases []suite.Case) int {
	names := make([]string, 0, len(cases))
	for _, c := range cases {
		names = append(names, c.Name)
	}
	var err error
	if o.Output == "json" {
		err = json.NewEncoder(ios.Out).Encode(struct {
			File  string   `json:"file"`
			Shard string   `json:"shard,omitempty"`
			Cases []string `json:"cases"`
		}{o.File, o.Shard, names})
	} else {
		for _, n := range names {
			if _, err = fmt.Fprintln(ios.Out, n); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "claimcheck: writing the list: %v\n", err)
		return failure.Usage.ExitCode()
	}
	return 0
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	werr := write(f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
