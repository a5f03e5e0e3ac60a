// Command oktaserve runs the Okta-shaped test provider on loopback until
// interrupted, so that claimcheck's Okta flags can be tried by hand (and
// the README's Okta examples reproduced) with no Okta org:
//
//	go run ./internal/op/okta/oktaserve -addr 127.0.0.1:9440
//
// Its two apps have http://127.0.0.1:8765/callback, claimcheck's default
// redirect URI, registered.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/claimcheck/claimcheck/internal/op/okta"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9440", "loopback address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := okta.Start(ctx, okta.Options{Addr: *addr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "oktaserve:", err)
		os.Exit(2)
	}
	defer p.Close()
	fmt.Printf("Okta-shaped provider on --okta-domain %s\n", p.Domain())
	fmt.Printf("  org authorization server  %s\n  default custom server     %s\n", p.OrgIssuer(), p.Issuer("default"))
	fmt.Printf("  apps: %s (public), %s / %s; redirect URI %s\n", okta.PublicClientID, okta.WebClientID, okta.WebClientSecret, okta.RedirectURI)
	fmt.Println("  users (password NAME-okta): alice (Everyone, IT), bob (Everyone), carol (120 groups), dave (MFA_REQUIRED), erin (LOCKED_OUT), frank (PASSWORD_EXPIRED)")
	<-ctx.Done()
}
