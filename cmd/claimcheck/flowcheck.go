package main

import (
	"strings"

	"github.com/claimcheck/claimcheck/failure"
)

// validate checks --flow and the words of --response-type before anything
// is sent, so that a mistyped one is the same one-line usage error as any
// other bad flag.
func (o *FlowOptions) validate() error {
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
	return nil
}
