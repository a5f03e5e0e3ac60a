// Command demoserve runs claimcheck's embedded demo provider on loopback
// until interrupted, so that what needs a provider that stays up — the
// grants, a suite file, a stream of tokens — can be tried by hand with no
// account anywhere:
//
//	go run ./internal/op/demo/demoserve            # http://127.0.0.1:9400
//	go run ./cmd/claimcheck test examples/demo-suite.yaml
//
// examples/demo-suite.yaml names its issuer, so -addr stays at its default
// for it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/claimcheck/claimcheck/internal/op/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9400", "loopback address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := demo.Start(ctx, demo.Options{Addr: *addr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demoserve:", err)
		os.Exit(2)
	}
	defer p.Close()
	fmt.Printf("demo provider at %s (Ctrl-C stops it)\n", p.Issuer())
	fmt.Printf("  clients: %s (public, PKCE), %s (secret %s)\n", demo.PublicClientID, demo.ConfidentialClientID, demo.ConfidentialClientSecret)
	for _, u := range demo.DefaultUsers() {
		fmt.Printf("  user %s, password %s, groups %s\n", u.Username, u.Password, strings.Join(u.Groups, ", "))
	}
	fmt.Println("  redirect URIs: any loopback http URI; scopes openid, profile, email, groups, offline_access")
	<-ctx.Done()
}
