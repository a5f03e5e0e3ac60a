// Package okta runs, on loopback, an OpenID Provider shaped like an
// Okta org as claimcheck meets it: the org authorization server and custom
// authorization servers side by side on one host, Okta's URL layout and
// metadata, its token shapes (thin and fat ID tokens, a custom groups claim,
// api://default), org access tokens signed with a key it does not publish,
// introspection, the Authentication API with its session tokens, the limit
// of 100 groups in a claim, exact redirect URI matching, and the app
// settings that require DPoP, PAR or a "Public key / Private key"
// (private_key_jwt) client authentication.
//
// It is a test double for claimcheck's own tests and docs, built on
// github.com/zitadel/oidc/v3/pkg/op like internal/op/demo. BEHAVIOURS.md
// next to this file lists each imitated behaviour with the Okta page it
// comes from.
package okta

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// Statuses of a user at the Authentication API (POST /api/v1/authn).
const (
	StatusSuccess         = "SUCCESS"
	StatusMFARequired     = "MFA_REQUIRED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
)

// Token kinds a custom authorization server claim is included in.
const (
	InAccessToken = "access_token"
	InIDToken     = "id_token"
)

// GroupsLimit is the most groups Okta puts in one groups claim.
const GroupsLimit = 100

// TooManyGroups is the error_description Okta answers when a groups claim
// matches more than GroupsLimit groups in a flow that cannot omit it.
const TooManyGroups = "The 'groups' claim matched too many groups and must be configured to match fewer groups."

// The clients of DefaultClients.
const (
	// PublicClientID is an OIDC native app: no secret, PKCE required.
	PublicClientID = "0oaclaimcheckpublic"
	// WebClientID is an OIDC web app with WebClientSecret.
	WebClientID = "0oaclaimcheckweb"
	// WebClientSecret is the secret of WebClientID.
	WebClientSecret = "claimcheck-okta-secret"
	// DPoPClientID is a native app with "Require Demonstrating Proof of
	// Possession (DPoP) header in token requests".
	DPoPClientID = "0oaclaimcheckdpop"
	// PARClientID is a native app with "Require Pushed Authorization
	// Request".
	PARClientID = "0oaclaimcheckpar"
	// JWTClientID is the id tests give a web app whose client
	// authentication is "Public key / Private key" (private_key_jwt).
	JWTClientID = "0oaclaimcheckjwt"
	// RedirectURI is the one sign-in redirect URI the default clients
	// have registered; Okta matches it exactly, port included.
	RedirectURI = "http://127.0.0.1:8765/callback"
)

// User is a person in the org. Status is the Authentication API's answer
// to a correct password: StatusSuccess when empty.
type User struct {
	demo.User
	Status string
}

// Client is an OIDC app integration.
type Client struct {
	ID string
	// Secret is empty for a public client (PKCE required).
	Secret string
	// RedirectURIs are matched exactly.
	RedirectURIs []string
	// Keys are the public keys of a "Public key / Private key" app, each
	// with its kid: the client authenticates with private_key_jwt only.
	Keys []jose.JSONWebKey
	// RequireDPoP: token requests need a DPoP proof, and the tokens are
	// bound to its key.
	RequireDPoP bool
	// RequirePAR: authorize requests must come through /v1/par.
	RequirePAR bool
}

// Claim is a claim of a custom authorization server with value type
// Groups and filter "Matches regex .*": all of the user's groups.
type Claim struct {
	Name string
	// In is InAccessToken or InIDToken ("Include in token type").
	In string
}

// CustomServer is a custom authorization server.
type CustomServer struct {
	// ID is its path segment: the issuer is {org}/oauth2/{ID}.
	ID string
	// Audience is the aud of its access tokens; "api://default" when empty.
	Audience string
	Claims   []Claim
}

// Options configures Start; the zero value is DefaultUsers, DefaultClients
// and DefaultServers on a random port of 127.0.0.1.
type Options struct {
	Addr    string
	Users   []User
	Clients []Client
	// Servers are the custom authorization servers.
	Servers []CustomServer
	// OrgGroupsClaim is the name of the org server's ID-token groups claim
	// (the app's "Groups claim filter"), issued with the groups scope;
	// "groups" when empty, "-" for none configured.
	OrgGroupsClaim string
}

// DefaultUsers: alice (alice-okta; Everyone, IT), bob (bob-okta; Everyone),
// carol in 120 groups, and dave, erin and frank whose correct password
// yields MFA_REQUIRED, LOCKED_OUT and PASSWORD_EXPIRED.
func DefaultUsers() []User {
	many := []string{"Everyone", "IT"}
	for i := 1; len(many) < 120; i++ {
		many = append(many, fmt.Sprintf("Team %03d", i))
	}
	u := func(name, status string, groups ...string) User {
		return User{Status: status, User: demo.User{
			Username: name, Password: name + "-okta", Subject: "00u" + name,
			Name: name, Email: name + "@example.com", Groups: groups,
		}}
	}
	return []User{
		u("alice", "", "Everyone", "IT"),
		u("bob", "", "Everyone"),
		u("carol", "", many...),
		u("dave", StatusMFARequired, "Everyone"),
		u("erin", StatusLockedOut, "Everyone"),
		u("frank", StatusPasswordExpired, "Everyone"),
	}
}

// DefaultClients are PublicClientID, WebClientID, DPoPClientID and
// PARClientID, all with RedirectURI.
func DefaultClients() []Client {
	return []Client{
		{ID: PublicClientID, RedirectURIs: []string{RedirectURI}},
		{ID: WebClientID, Secret: WebClientSecret, RedirectURIs: []string{RedirectURI}},
		{ID: DPoPClientID, RedirectURIs: []string{RedirectURI}, RequireDPoP: true},
		{ID: PARClientID, RedirectURIs: []string{RedirectURI}, RequirePAR: true},
	}
}

// DefaultServers is the default custom authorization server with the
// guide's claim: GroupsClaim in the access token.
func DefaultServers() []CustomServer {
	return []CustomServer{{ID: "default", Claims: []Claim{{Name: "GroupsClaim", In: InAccessToken}}}}
}

// Provider is a running Okta-shaped provider.
type Provider struct {
	org       string
	counts    *counter
	srv       *http.Server
	served    chan struct{}
	closeOnce sync.Once
}

// Start serves the provider until Close; ctx bounds only the start.
func Start(ctx context.Context, o Options) (*Provider, error) {
	const what = "okta provider"
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, failure.New(failure.Usage, what, "address %q is not a loopback address", o.Addr)
	}
	if len(o.Users) == 0 {
		o.Users = DefaultUsers()
	}
	if len(o.Clients) == 0 {
		o.Clients = DefaultClients()
	}
	if len(o.Servers) == 0 {
		o.Servers = DefaultServers()
	}
	if o.OrgGroupsClaim == "" {
		o.OrgGroupsClaim = "groups"
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, failure.New(failure.Usage, what, "listen on %s: %w", o.Addr, err)
	}
	org := "http://" + ln.Addr().String()
	h, err := newOrg(org, o)
	counts := &counter{n: map[string]int64{}}
	if err != nil {
		_ = ln.Close()
		return nil, failure.Wrap(failure.Usage, what, err)
	}
	p := &Provider{
		org:    org,
		counts: counts,
		served: make(chan struct{}),
		srv: &http.Server{
			Handler: counts.wrap(h), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: log.New(io.Discard, "", 0),
		},
	}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Domain is the org's host and port, what --okta-domain takes.
func (p *Provider) Domain() string { return p.org[len("http://"):] }

// OrgIssuer is the org authorization server's issuer, http://127.0.0.1:PORT.
func (p *Provider) OrgIssuer() string { return p.org }

// Issuer is the issuer of the custom authorization server id.
func (p *Provider) Issuer(id string) string { return p.org + "/oauth2/" + id }

// Requests is how many requests have reached path, for example
// "/oauth2/default/v1/token".
func (p *Provider) Requests(path string) int64 {
	p.counts.mu.Lock()
	defer p.counts.mu.Unlock()
	return p.counts.n[path]
}

// counter counts requests by path.
type counter struct {
	mu sync.Mutex
	n  map[string]int64
}

func (c *counter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.n[r.URL.Path]++
		c.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Close stops the provider and frees its port.
func (p *Provider) Close() error {
	var err error
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if e := p.srv.Shutdown(ctx); e != nil {
			err = p.srv.Close()
		}
		<-p.served
	})
	return err
}
