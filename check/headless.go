package check

import (
	"context"
	"net/http"

	"github.com/claimcheck/claimcheck/internal/app/standin"
)

// HeadlessBrowser is an Opener that signs in without a browser: it fetches
// the authorize URL, fills in the provider's HTML sign-in form (the one
// with a password field) as Username with Password, follows redirects and
// consent forms, and delivers the redirect to the run's loopback listener
// the way a browser would — a form_post page's auto-submit and the fragment
// relay included. It runs no JavaScript, so it suits providers whose
// sign-in is a plain HTML form, such as claimcheck's demo provider and
// Okta-shaped test provider, not single-page sign-in apps or multi-factor
// prompts.
type HeadlessBrowser struct {
	Username, Password string
	// Client makes the requests; its redirect policy is ignored. Nil means
	// a client with a 10-second timeout per request.
	Client *http.Client
	// RedirectURI is where the response is delivered when the authorize
	// URL does not say, as a pushed request's does not (RFC 9126 §4).
	// Run sets it, on its own copy, to the listener's when it is empty.
	RedirectURI string
}

// Open signs in at authorizeURL and returns once the listener has answered
// the delivery of the authorization response.
func (b *HeadlessBrowser) Open(ctx context.Context, authorizeURL string) error {
	sb := &standin.Browser{Client: b.Client, Username: b.Username, Password: b.Password, RedirectURI: b.RedirectURI}
	return sb.Open(ctx, authorizeURL)
}
