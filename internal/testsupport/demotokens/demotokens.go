// Package demotokens gets real tokens from a running demo provider, for
// tests that need one to start from (the subject tokens of a token
// exchange).
package demotokens

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/verify"
)

// Get signs user in at the demo provider at issuer with the password
// grant, as its confidential client, or makes a client credentials grant
// when user is "", and returns the tokens. A failure ends the test.
func Get(t testing.TB, issuer, user, password string, scopes ...string) *flow.Tokens {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	p, err := verify.Discover(ctx, issuer, client)
	if err != nil {
		t.Fatal(err)
	}
	fc := flow.Config{Issuer: issuer, TokenEndpoint: p.Metadata().TokenEndpoint, ClientID: demo.ConfidentialClientID,
		ClientSecret: demo.ConfidentialClientSecret, Scopes: scopes, HTTPClient: client}
	var tok *flow.Tokens
	if user == "" {
		tok, err = flow.ClientCredentials(ctx, fc)
	} else {
		tok, err = flow.Password(ctx, fc, user, password)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
