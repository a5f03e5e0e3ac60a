package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/internal/app/claimsnap"
	"github.com/claimcheck/claimcheck/report"
)

// DriftOptions save the verified claims of a run, or compare them with a
// saved snapshot.
type DriftOptions struct {
	SaveClaims       string
	ExpectClaimsLike string
	expectedSnapshot claimsnap.Snapshot
}

func (o *DriftOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.SaveClaims, "save-claims", "", "write the verified claims of each token (volatile ones left out, arrays sorted) to this JSON file")
	fs.StringVar(&o.ExpectClaimsLike, "expect-claims-like", "", "compare the verified claims with a file written by --save-claims: each added, removed or changed claim or group fails")
}

// load reads the expected snapshot before anything is sent, so that a bad
// file is a usage error.
func (o *DriftOptions) load() error {
	if o.ExpectClaimsLike == "" {
		return nil
	}
	s, err := claimsnap.Load(o.ExpectClaimsLike)
	if err != nil {
		return err
	}
	o.expectedSnapshot = s
	return nil
}

// apply compares or saves after a run that got as far as its checks.
func (o *DriftOptions) apply(r *report.Report, ios *IOStreams) {
	if r.Error != nil {
		return
	}
	if o.expectedSnapshot != nil {
		for _, c := range claimsnap.Compare(o.expectedSnapshot, r) {
			r.AddCheck(c)
		}
		r.Finish()
	}
	if o.SaveClaims != "" {
		if err := claimsnap.Take(r).Save(o.SaveClaims); err != nil {
			fmt.Fprintf(ios.ErrOut, "claimcheck: %s\n", oneLine(err.Error()))
			r.Fail(err)
			r.Finish()
		}
	}
}
