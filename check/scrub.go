package check

import (
	"context"

	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

// withScrubber gives c the run's Scrubber, which knows every secret the run
// sends: the client secret and the grant's secrets (a token exchange's
// subject and actor tokens too) from the start, the
// code and the PKCE verifier, a device code, Okta's session token and the
// access token as they are sent. finish scrubs the whole report with it,
// and the callbacks that print warnings see scrubbed errors: a provider
// that echoes a request (an error_description with the form body, a
// WWW-Authenticate with the bearer token) cannot put them into any output.
// flow scrubs its own requests' errors too; this catches what the others
// send and what a later answer repeats.
func (c Config) withScrubber() Config {
	if c.secrets != nil {
		return c
	}
	sc := &scrub.Scrubber{}
	sc.AddBasic(c.ClientID, c.ClientSecret)
	sc.Add(scrub.RefreshToken, c.Grant.RefreshToken)
	sc.Add(scrub.Password, c.Grant.Password)
	sc.Add(scrub.SubjectToken, c.Grant.Exchange.SubjectToken)
	sc.Add(scrub.ActorToken, c.Grant.Exchange.ActorToken)
	if c.Okta != nil {
		sc.Add(scrub.Password, c.Okta.Password)
	}
	c.secrets = sc
	if f := c.OnIgnored; f != nil {
		c.OnIgnored = func(err error) { f(sc.Error(err)) }
	}
	if f := c.OpenerError; f != nil {
		c.OpenerError = func(err error) { f(sc.Error(err)) }
	}
	if show := c.Grant.DeviceShow; show != nil {
		c.Grant.DeviceShow = func(ctx context.Context, da *flow.DeviceAuthorization) error {
			// Sent with every poll that follows.
			sc.Add(scrub.DeviceCode, da.DeviceCode)
			return sc.Error(show(ctx, da))
		}
	}
	return c
}
