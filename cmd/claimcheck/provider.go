package main

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/provider"
)

// ProviderKindOptions is --provider: the kind of provider whose diagnosis
// explains a missing group.
type ProviderKindOptions struct {
	ProviderKind string
}

func (o *ProviderKindOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ProviderKind, "provider", "", "the kind of provider, for its diagnosis of a missing group: "+strings.Join(provider.Names(), ", ")+
		` (default: recognised from the issuer and discovery metadata; "generic" turns it off)`)
}

// validate refuses an unknown --provider, or one other than okta with
// --okta-domain, and spells a known one as package provider does.
func (o *ProviderKindOptions) validate(oktaDomain string) error {
	if o.ProviderKind == "" {
		return nil
	}
	p, err := provider.Lookup(o.ProviderKind)
	if err != nil {
		return failure.Wrap(failure.Usage, "--provider", err)
	}
	if oktaDomain != "" && p.Name != provider.Okta {
		return failure.New(failure.Usage, "--provider", "%s contradicts --okta-domain, which is Okta", p.Name)
	}
	o.ProviderKind = p.Name
	return nil
}
