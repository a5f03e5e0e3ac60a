package check

import (
	"context"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/report"
)

// A grant's opaque access token is introspected with the client secret, as
// after a browser flow (oidc-provider's client_credentials token is opaque:
// without introspection nothing in the report vouched for it).
func TestGrantIntrospectsOpaqueAccessToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Clients: []demo.Client{
		{ID: demo.ConfidentialClientID, Secret: demo.ConfidentialClientSecret, OpaqueAccessTokens: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tests := []struct {
		name   string
		g      Grant
		expect []string
	}{
		{"client_credentials", Grant{Type: flow.GrantClientCredentials}, nil},
		{"password", Grant{Type: flow.GrantPassword, Username: "alice", Password: "alice-demo"}, []string{"IT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := grantConfig(p.Issuer(), tt.g, true, tt.expect...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := run(ctx, c)
			if r.Error != nil || !r.OK {
				t.Fatalf("want a passing run: error %+v, checks %+v", r.Error, r.Checks)
			}
			at := r.Tokens[report.AccessToken]
			if at == nil || at.Verified {
				t.Fatalf("want an opaque, unverified access token, got %+v", at)
			}
			in := r.Tokens[report.Introspection]
			if in == nil || !in.Verified || in.Claims["active"] != true {
				t.Fatalf("the opaque access token was not introspected: %+v", in)
			}
			found := false
			for _, ch := range r.Checks {
				if ch.Name == "access_token introspected" && ch.OK {
					found = true
				}
			}
			if !found {
				t.Errorf("no passing introspection check: %+v", r.Checks)
			}
		})
	}
}
