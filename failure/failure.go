// Package failure classifies what went wrong in a claimcheck run, so that a
// caller (a deploy pipeline, a Go test) can branch on the class of a failure
// rather than on its message. The classes and their exit statuses are part of
// claimcheck's command-line contract.
package failure

import (
	"context"
	"errors"
	"fmt"
)

// Class is the kind of a failure. Its string form appears in the JSON report.
type Class string

// The classes of the command-line contract, from the least to the most
// severe in the sense of "worst class wins" used by suites.
const (
	// Expectation: tokens verified, but a group or claim expectation failed.
	Expectation Class = "expectation"
	// Usage: a bad flag, file or configuration; nothing was sent.
	Usage Class = "usage"
	// Flow: the authorization flow was refused or broken.
	Flow Class = "flow"
	// Verification: a token or the provider's metadata failed verification.
	Verification Class = "verification"
	// Provider: the provider could not be used (network, TLS, 5xx, bad body).
	Provider Class = "provider"
	// Interrupted: the run was interrupted (Ctrl-C).
	Interrupted Class = "interrupted"
)

// ExitCode returns the process exit status for the class.
func (c Class) ExitCode() int {
	switch c {
	case Expectation:
		return 1
	case Usage:
		return 2
	case Flow:
		return 3
	case Verification:
		return 4
	case Provider:
		return 5
	case Interrupted:
		return 130
	}
	return 0
}

// Severity orders classes so that a suite of runs can report the worst one.
// A larger number is worse.
func (c Class) Severity() int {
	switch c {
	case Expectation:
		return 1
	case Flow:
		return 2
	case Verification:
		return 3
	case Provider:
		return 4
	case Usage:
		return 5
	case Interrupted:
		return 6
	}
	return 0
}

// Error is an error with a class. Op names what was being done ("token
// endpoint", "ID token", "discovery") and is the start of the message.
type Error struct {
	Class Class
	Op    string
	Err   error
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error of class c whose message is op followed by the
// formatted text. Use %w in format to keep a cause inspectable.
func New(c Class, op, format string, args ...any) error {
	return &Error{Class: c, Op: op, Err: fmt.Errorf(format, args...)}
}

// Wrap classifies err. It returns nil for a nil err and leaves an error that
// already carries a class unchanged, so the innermost classification wins.
func Wrap(c Class, op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		if op == "" {
			return err
		}
		return &Error{Class: fe.Class, Op: op, Err: err}
	}
	return &Error{Class: c, Op: op, Err: err}
}

// ClassOf returns the class of err: the class of the outermost *Error in its
// chain, Interrupted for a canceled context, and Provider for anything else
// (an unclassified error means claimcheck could not get an answer it could
// judge). ClassOf(nil) is "".
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Class
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Provider
}
