// Command claimcheck runs an OpenID Connect or OAuth 2.0 authorization flow
// against a provider, verifies every token it gets, and checks that the
// expected groups and claims are there.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The embedded demo provider's library logs refused requests through
	// the default slog logger; the report is what claimcheck has to say.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, SystemIO(), os.Args[1:])
	stop()
	os.Exit(code)
}
