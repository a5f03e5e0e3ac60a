// Package report holds the outcome of a claimcheck run and renders it as
// text for a person, as the JSON object of the command-line contract, and
// as JUnit XML for CI systems.
package report

import (
	"encoding/json"
	"io"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/verify"
)

// Token kinds, as used for the keys of Report.Tokens and the sources of checks.
const (
	IDToken     = "id_token"
	AccessToken = "access_token"
	UserInfo    = "userinfo"
	// Introspection is the provider's RFC 7662 answer about the access token.
	Introspection = "introspection"
)

// Report is the outcome of one run. Its JSON form is the contract that
// scripts read; fields are only ever added.
type Report struct {
	OK       bool              `json:"ok"`
	ExitCode int               `json:"exit_code"`
	Issuer   string            `json:"issuer"`
	Flow     string            `json:"flow"`
	Request  *Request          `json:"request,omitempty"`
	Tokens   map[string]*Token `json:"tokens"`
	Checks   []verify.Check    `json:"checks"`
	Notes    []string          `json:"notes,omitempty"`
	Error    *Error            `json:"error"`
}

// Request is what was asked of the provider.
type Request struct {
	ClientID     string            `json:"client_id,omitempty"`
	ClientAuth   string            `json:"client_auth,omitempty"`
	ResponseType string            `json:"response_type,omitempty"`
	ResponseMode string            `json:"response_mode,omitempty"`
	Scopes       []string          `json:"scopes,omitempty"`
	RedirectURI  string            `json:"redirect_uri,omitempty"`
	AuthorizeURL string            `json:"authorize_url,omitempty"`
	Endpoints    map[string]string `json:"endpoints,omitempty"`
}

// Token is what became of one token (or of the userinfo response).
type Token struct {
	Verified bool           `json:"verified"`
	Claims   map[string]any `json:"claims"`
	Header   map[string]any `json:"header,omitempty"`
	// Note explains a token that was not verified without it being an
	// error, such as an opaque access token.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
	// Raw is the token itself; set only with --show-tokens.
	Raw string `json:"raw,omitempty"`
}

// Error is the failure that ended a run.
type Error struct {
	Class   failure.Class `json:"class"`
	Message string        `json:"message"`
}

// New returns an empty report for issuer and flow.
func New(issuer, flow string) *Report {
	return &Report{Issuer: issuer, Flow: flow, Tokens: map[string]*Token{}, Checks: []verify.Check{}}
}

// Fail records err as the failure that ended the run. The first failure
// recorded wins; later ones are consequences.
func (r *Report) Fail(err error) {
	if err == nil || r.Error != nil {
		return
	}
	r.Error = &Error{Class: failure.ClassOf(err), Message: err.Error()}
}

// AddCheck appends a check.
func (r *Report) AddCheck(c verify.Check) { r.Checks = append(r.Checks, c) }

// Finish computes OK and ExitCode from the error and the checks.
func (r *Report) Finish() {
	switch {
	case r.Error != nil:
		r.OK, r.ExitCode = false, r.Error.Class.ExitCode()
	case r.failedChecks() > 0:
		r.OK, r.ExitCode = false, failure.Expectation.ExitCode()
	default:
		r.OK, r.ExitCode = true, 0
	}
}

// Class is the class of the run's outcome: the error's class, Expectation
// when a check failed, "" when the run passed.
func (r *Report) Class() failure.Class {
	if r.Error != nil {
		return r.Error.Class
	}
	if r.failedChecks() > 0 {
		return failure.Expectation
	}
	return ""
}

func (r *Report) failedChecks() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

// RedactTokens removes the raw tokens; reports keep them only when the user
// asked to see them.
func (r *Report) RedactTokens() {
	for _, t := range r.Tokens {
		t.Raw = ""
	}
}

// WriteJSON writes the report as one JSON object followed by a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
