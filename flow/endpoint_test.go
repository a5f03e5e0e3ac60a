package flow

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
)

// TestEndpointIsCallerInput: an endpoint in a Config (or DeviceOptions)
// that is not an absolute http(s) URL without a fragment is the caller's
// input, and every entry point refuses it as failure.Usage in one line
// naming the endpoint, before anything is sent. (A discovered endpoint
// never gets here unchecked: verify.Discover refuses it as
// failure.Verification, which cmd/claimcheck's TestBadMetadataNotUsage
// and check's hostile tests hold.)
func TestEndpointIsCallerInput(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		http.Error(w, "not here", http.StatusTeapot)
	}))
	defer srv.Close()
	// With a fragment, the one bad URL a request could still be sent to.
	withFragment := srv.URL + "/endpoint#x"
	ctx := context.Background()
	good := baseConfig()
	good.AuthorizationEndpoint, good.TokenEndpoint = srv.URL+"/authorize", srv.URL+"/token"
	with := func(f func(c *Config)) Config {
		c := good
		f(&c)
		return c
	}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"Validate: authorization endpoint javascript:", func() error {
			return with(func(c *Config) { c.AuthorizationEndpoint = "javascript:alert(1)" }).Validate()
		}, `authorization endpoint: "javascript:alert(1)" is not an absolute http(s) URL without a fragment`},
		{"Validate: authorization endpoint relative", func() error {
			return with(func(c *Config) { c.AuthorizationEndpoint = "/authorize" }).Validate()
		}, `authorization endpoint: "/authorize" is not an absolute http(s) URL without a fragment`},
		{"NewRequest: token endpoint file:", func() error {
			_, err := NewRequest(with(func(c *Config) { c.TokenEndpoint = "file:///etc/passwd" }))
			return err
		}, `token endpoint: "file:///etc/passwd" is not an absolute http(s) URL without a fragment`},
		{"Validate: pushed authorization request endpoint ftp:", func() error {
			return with(func(c *Config) {
				c.PushAuthorizationRequest, c.PushedAuthorizationRequestEndpoint = true, "ftp://127.0.0.1/par"
			}).Validate()
		}, `pushed authorization request: "ftp://127.0.0.1/par" is not an absolute http(s) URL without a fragment`},
		{"Exchange: token endpoint with a fragment", func() error {
			req, err := NewRequest(good)
			if err != nil {
				return err
			}
			_, err = Exchange(ctx, with(func(c *Config) { c.TokenEndpoint = withFragment }), req, "code")
			return err
		}, `token endpoint: "` + withFragment + `" is not an absolute http(s) URL without a fragment`},
		{"Push: endpoint with a fragment", func() error {
			req, err := NewRequest(good)
			if err != nil {
				return err
			}
			return Push(ctx, with(func(c *Config) { c.PushedAuthorizationRequestEndpoint = withFragment }), req)
		}, `pushed authorization request: "` + withFragment + `" is not an absolute http(s) URL without a fragment`},
		{"Refresh: token endpoint javascript:", func() error {
			_, err := Refresh(ctx, with(func(c *Config) { c.TokenEndpoint = "javascript:alert(1)" }), "rt")
			return err
		}, `token endpoint: "javascript:alert(1)" is not an absolute http(s) URL without a fragment`},
		{"ClientCredentials: token endpoint with a fragment", func() error {
			_, err := ClientCredentials(ctx, with(func(c *Config) { c.TokenEndpoint, c.ClientSecret = withFragment, "s" }))
			return err
		}, `token endpoint: "` + withFragment + `" is not an absolute http(s) URL without a fragment`},
		{"ExchangeToken: token endpoint file:", func() error {
			_, err := ExchangeToken(ctx, with(func(c *Config) { c.TokenEndpoint = "file:///etc/passwd" }),
				TokenExchange{SubjectToken: "subject-token-0123456789", SubjectTokenType: TokenTypeAccessToken})
			return err
		}, `token endpoint: "file:///etc/passwd" is not an absolute http(s) URL without a fragment`},
		{"DeviceCode: device endpoint with a fragment", func() error {
			_, err := DeviceCode(ctx, good, DeviceOptions{Endpoint: withFragment})
			return err
		}, `device authorization endpoint: "` + withFragment + `" is not an absolute http(s) URL without a fragment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent.Store(0)
			err := tt.run()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if c := failure.ClassOf(err); c != failure.Usage {
				t.Errorf("class %q, want usage: the endpoint is the caller's input", c)
			}
			if n := sent.Load(); n != 0 {
				t.Errorf("%d request(s) sent", n)
			}
		})
	}
}
