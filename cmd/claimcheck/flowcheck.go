package main

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/failure"
)

// validate checks --flow and the words of --response-type before anything
// is sent, so that a mistyped one is the same one-line usage error as any
// other bad flag. flowSet says --flow was given, on the command line or
// in the environment, rather than left at its default.
func (o *FlowOptions) validate(flowSet bool) error {
	// Zero would not mean "no deadline" but, deeper down, a default.
	if o.Timeout <= 0 {
		return failure.New(failure.Usage, "--timeout", "must be positive (got %s)", o.Timeout)
	}
	switch o.Flow {
	case "code", "implicit":
	default:
		return failure.New(failure.Usage, "--flow", "unknown flow %q (want code or implicit; a hybrid flow is --response-type \"code id_token\")", o.Flow)
	}
	if o.ResponseType == "" {
		return nil
	}
	words := strings.FieldsFunc(o.ResponseType, func(r rune) bool { return r == ' ' || r == ',' })
	if len(words) == 0 {
		return failure.New(failure.Usage, "--response-type", "empty")
	}
	for _, w := range words {
		switch w {
		case "code", "id_token", "token":
		default:
			return failure.New(failure.Usage, "--response-type", "unknown word %q in %q (want code, id_token and token, e.g. \"code\", \"id_token token\", \"code id_token\")", w, o.ResponseType)
		}
	}
	// --response-type decides the flow; a --flow given as well must not
	// say otherwise, or the run would silently be another flow.
	if flowSet {
		hasCode := slices.Contains(words, "code")
		if (o.Flow == "implicit" && hasCode) || (o.Flow == "code" && !hasCode) {
			return failure.New(failure.Usage, "--flow", "--flow %s contradicts --response-type %q: give only --response-type", o.Flow, o.ResponseType)
		}
	}
	return nil
}

// given says whether the flag name was set on the command line or from
// CLAIMCHECK_<NAME> (applyEnv leaves such a flag unchanged).
func given(fs *pflag.FlagSet, ios *IOStreams, name string) bool {
	if f := fs.Lookup(name); f != nil && f.Changed {
		return true
	}
	return ios.Getenv(envName(name)) != ""
}
