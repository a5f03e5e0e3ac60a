// Package provider recognises the kind of an authorization server from its
// issuer and discovery metadata together — Okta, Microsoft Entra ID,
// Keycloak, Auth0, AWS Cognito, Google, Zitadel, Dex, authentik — and knows,
// for each, what a user most often gets wrong when an expected group is
// missing from the tokens.
//
// Each kind is one file holding one Provider value: what recognises it and
// what explains a missing group there. A new provider is a new file and
// one line in the table that All returns.
package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/internal/suggest"
	"github.com/claimcheck/claimcheck/verify"
)

// The names of the providers, as --provider and Lookup take them.
const (
	Generic   = "generic"
	Okta      = "okta"
	Entra     = "entra"
	Keycloak  = "keycloak"
	Auth0     = "auth0"
	Cognito   = "cognito"
	Google    = "google"
	Zitadel   = "zitadel"
	Dex       = "dex"
	Authentik = "authentik"
)

// Facts are what a run asked for, which an explanation may depend on.
type Facts struct {
	// Issuer is the run's issuer.
	Issuer string
	// Scopes are the scopes requested.
	Scopes []string
	// ResponseType is the response_type asked for; empty for a grant.
	ResponseType string
	// Expect are the run's expectations: the groups claim looked for and
	// where.
	Expect verify.Expectations
}

// Provider is what claimcheck knows about one kind of authorization
// server.
type Provider struct {
	// Name is the short name, e.g. "keycloak".
	Name string
	// Title is the name for people, e.g. "Keycloak".
	Title string
	// recognise says whether issuer and md are this provider's, and why.
	recognise func(issuer string, md verify.Metadata) (why string, ok bool)
	// explain says why group is missing from sources at this provider;
	// "" when it knows nothing to add. nil for none at all.
	explain func(group string, sources []verify.Source, f Facts) string
}

// Recognise says whether issuer and md are p's, and why.
func (p Provider) Recognise(issuer string, md verify.Metadata) (why string, ok bool) {
	if p.recognise == nil {
		return "", false
	}
	return p.recognise(issuer, md)
}

// Explain returns the function for verify.Expectations.Explain at p, or nil
// when p has nothing to explain (the generic provider).
func (p Provider) Explain(f Facts) func(group string, sources []verify.Source) string {
	if p.explain == nil {
		return nil
	}
	return func(group string, sources []verify.Source) string {
		return p.explain(group, sources, f)
	}
}

// All returns the known providers, in the order recognition tries them,
// with the generic provider, which recognises nothing, last. Each call
// builds the table anew.
func All() []Provider {
	return []Provider{
		entra(), cognito(), google(), keycloak(), authentik(), zitadel(), okta(), auth0(), dex(),
		generic(),
	}
}

// Names returns the names Lookup accepts, sorted.
func Names() []string {
	var names []string
	for _, p := range All() {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the provider named name (case aside). An unknown name is
// an error that lists the known ones and suggests the closest.
func Lookup(name string) (Provider, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, p := range All() {
		if p.Name == n {
			return p, nil
		}
	}
	return Provider{}, fmt.Errorf("unknown provider %q (want %s)%s", name, strings.Join(Names(), ", "), suggest.Hint(n, Names(), ""))
}

// Recognition is the provider of a run and why it is the one.
type Recognition struct {
	Provider Provider
	Why      string
}

// Recognise returns the first provider of All whose issuer and endpoint
// shapes match issuer and md, or the generic provider.
func Recognise(issuer string, md verify.Metadata) Recognition {
	for _, p := range All() {
		if why, ok := p.Recognise(issuer, md); ok {
			return Recognition{Provider: p, Why: why}
		}
	}
	return Recognition{Provider: generic(), Why: "neither the issuer nor the discovery metadata has the shape of a provider claimcheck knows"}
}

// Resolve is the provider of a run: the one named, when name is not empty
// ("generic" turns provider-specific diagnosis off), else the one
// recognised from issuer and md. An unknown name is Lookup's error.
func Resolve(name, issuer string, md verify.Metadata) (Recognition, error) {
	if name == "" {
		return Recognise(issuer, md), nil
	}
	p, err := Lookup(name)
	if err != nil {
		return Recognition{}, err
	}
	why := "named in the configuration, not recognised"
	if p.Name == Generic {
		why = "named in the configuration: provider-specific diagnosis is off"
	}
	if r := Recognise(issuer, md); r.Provider.Name != p.Name && r.Provider.Name != Generic {
		why += fmt.Sprintf(" (the metadata looks like %s's)", r.Provider.Title)
	}
	return Recognition{Provider: p, Why: why}, nil
}
