package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pkg/browser"

	"github.com/claimcheck/claimcheck/failure"
)

// Opener shows the authorize URL to the person (or signs in by itself).
// Run calls Open while the listener already serves, in its own goroutine,
// and cancels ctx when the run ends: Open must return promptly then. An
// error means the person will not see the page.
type Opener interface {
	Open(ctx context.Context, url string) error
}

// browserMu guards github.com/pkg/browser's package-level Stdout and
// Stderr, which each SystemBrowser sets for its own call.
var browserMu sync.Mutex

// SystemBrowser opens the URL in the system's browser through
// github.com/pkg/browser (xdg-open on Linux). The opener program's output
// goes to Stdout and Stderr, or nowhere when they are nil: never to the
// process's stdout, which may carry a JSON report.
type SystemBrowser struct {
	Stdout, Stderr io.Writer
}

// Open asks the system to open url. pkg/browser cannot be canceled: when
// ctx ends first, Open returns and the opener program is left to finish.
func (s *SystemBrowser) Open(ctx context.Context, url string) error {
	done := make(chan error, 1)
	go func() {
		browserMu.Lock()
		defer browserMu.Unlock()
		browser.Stdout, browser.Stderr = orDiscard(s.Stdout), orDiscard(s.Stderr)
		done <- browser.OpenURL(url)
	}()
	select {
	case err := <-done:
		if err != nil {
			return failure.New(failure.Flow, "system browser", "could not be opened: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CommandBrowser runs Command with the URL as its last argument, as
// --browser-command does. Command is split into words like a shell would
// (quotes and backslashes), but no shell runs it. The authorize URL (with
// the request's state and nonce, never a token or the PKCE verifier) is
// then in the process's argument list, which other local users can read.
type CommandBrowser struct {
	Command string
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout, Stderr io.Writer
}

// commandStopDelay is how long a command that was asked to stop (because
// the run ended) may take before it is killed.
const commandStopDelay = 2 * time.Second

// Open runs the command and returns when it exits, so that a command that
// drives a browser through the whole sign-in works. A non-zero exit is an
// error as soon as it happens; Run reports it instead of waiting out the
// timeout. When ctx ends the command is interrupted, then killed.
func (b *CommandBrowser) Open(ctx context.Context, url string) error {
	const op = "browser command"
	args, err := splitCommand(b.Command)
	if err != nil {
		return failure.New(failure.Usage, op, "%w", err)
	}
	if len(args) == 0 {
		return failure.New(failure.Usage, op, "empty")
	}
	name := filepath.Base(args[0])
	cmd := exec.CommandContext(ctx, args[0], append(args[1:], url)...)
	cmd.Stdout, cmd.Stderr = orDiscard(b.Stdout), orDiscard(b.Stderr)
	if runtime.GOOS != "windows" {
		// A browser cleans up its profile on SIGINT; SIGKILL follows after
		// commandStopDelay.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	}
	cmd.WaitDelay = commandStopDelay
	if err := cmd.Start(); err != nil {
		return failure.New(failure.Usage, op, "%s could not be started: %w", name, cause(err))
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		// Stopped because the run ended; how it exited says nothing.
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return failure.New(failure.Flow, op, "%s ended with %s", name, ee.ProcessState.String())
	}
	if err != nil {
		return failure.New(failure.Flow, op, "%s: %w", name, err)
	}
	return nil
}

// splitCommand splits s into words: blanks separate words, single quotes
// keep everything literally, double quotes keep everything but \" and \\,
// and a backslash outside quotes escapes the next character.
func splitCommand(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if escaped {
		return nil, errors.New("ends with a backslash")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// PrintURL prints the authorize URL for the person to open, for
// --no-browser.
type PrintURL struct {
	W io.Writer
}

// Open writes url to p.W.
func (p *PrintURL) Open(_ context.Context, url string) error {
	if p.W == nil {
		return failure.New(failure.Usage, "print URL", "no writer")
	}
	if _, err := fmt.Fprintf(p.W, "Open this URL in a browser to sign in:\n\n  %s\n\n", url); err != nil {
		return failure.New(failure.Flow, "print URL", "%w", err)
	}
	return nil
}

// cause drops the wrapper that repeats the program name or address, which
// the message names already.
func cause(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
