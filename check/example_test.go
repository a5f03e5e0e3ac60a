package check_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/verify"
)

// provider starts claimcheck's demo provider in-process, on loopback: in a
// test of your own service, use your provider's issuer instead.
func provider() *demo.Provider {
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

// A code flow signed in without a browser, and the groups it proves.
func ExampleRun() {
	p := provider()
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	r, err := check.Run(ctx, check.Config{
		Issuer:      p.Issuer(),
		ClientID:    demo.PublicClientID,
		RedirectURI: "http://127.0.0.1:0/callback",
		Scopes:      []string{"openid", "groups"},
		Expect:      verify.Expectations{ExpectGroups: []string{"IT", "Everyone"}},
		Opener:      &check.HeadlessBrowser{Username: "alice", Password: "alice-demo"},
		HTTPClient:  &http.Client{Timeout: 10 * time.Second},
		Timeout:     20 * time.Second,
	})
	fmt.Println("error:", err)
	for _, c := range r.Checks {
		fmt.Println(c.Name, c.OK)
	}
	// Output:
	// error: <nil>
	// id_token verified true
	// access_token verified true
	// group IT true
	// group Everyone true
}

// A user without the group: the error's class is the command's exit
// status class, and the check says where it looked.
func ExampleRun_missingGroup() {
	p := provider()
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	r, err := check.Run(ctx, check.Config{
		Issuer:      p.Issuer(),
		ClientID:    demo.PublicClientID,
		RedirectURI: "http://127.0.0.1:0/callback",
		Scopes:      []string{"openid", "groups"},
		Expect:      verify.Expectations{ExpectGroups: []string{"IT"}},
		Opener:      &check.HeadlessBrowser{Username: "bob", Password: "bob-demo"},
		HTTPClient:  &http.Client{Timeout: 10 * time.Second},
		Timeout:     20 * time.Second,
	})
	fmt.Println("class:", failure.ClassOf(err), "exit status:", r.ExitCode)
	for _, c := range r.Checks {
		if !c.OK {
			fmt.Println(c.Name+":", c.Detail)
		}
	}
	// Output:
	// class: expectation exit status: 1
	// group IT: missing everywhere; present: id_token.groups [Everyone]; access_token.groups [Everyone]
}

// A grant needs no Opener: client_credentials with the client's secret.
func ExampleRun_grant() {
	p := provider()
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	r, err := check.Run(ctx, check.Config{
		Issuer:       p.Issuer(),
		ClientID:     demo.ConfidentialClientID,
		ClientSecret: demo.ConfidentialClientSecret,
		Grant:        check.Grant{Type: flow.GrantClientCredentials},
		HTTPClient:   &http.Client{Timeout: 10 * time.Second},
	})
	fmt.Println("error:", err)
	fmt.Println("access token verified:", r.Tokens["access_token"] != nil && r.Tokens["access_token"].Verified)
	// Output:
	// error: <nil>
	// access token verified: true
}
