// Package demo runs a small OpenID Provider on loopback so that
// claimcheck can show a whole flow working with no account anywhere, and so
// that the tests of flow and verify have a real provider to talk to.
//
// It is built on github.com/zitadel/oidc/v3/pkg/op with an in-memory storage of
// its own. What it offers, and what its discovery document says:
//
//   - response types code, id_token and "id_token token"; response modes
//     query, fragment and form_post (query is refused for the types that
//     return tokens). op implements no hybrid type and no "token" alone.
//   - PKCE with S256 only; required for the public client.
//   - token endpoint authentication none (public client), client_secret_basic
//     and client_secret_post (confidential client), and private_key_jwt
//     (RS256, for a client registered with a public key; the assertion's aud
//     must be the issuer, as op requires) at the token, device authorization
//     and introspection endpoints. A refused assertion is answered
//     invalid_client (op itself would answer server_error).
//   - scopes openid, profile, email, groups and offline_access; with groups,
//     a "groups" array in the ID token, the access token and userinfo.
//   - access tokens are JWTs signed, like ID tokens, with an RSA-2048 key
//     (RS256) generated at Start; their aud is the client id.
//   - grants authorization_code, implicit, refresh_token (rotated on use),
//     client_credentials (confidential client; an access token about the
//     client, without groups), the device authorization grant of RFC 8628
//     (verification page at /device; ApproveDevice drives it over HTTP), and
//     the resource owner password grant, which op lacks: the provider
//     answers grant_type=password in front of op's token endpoint and has op
//     mint the tokens, so they are signed and shaped like every other;
//     and token exchange (RFC 8693, confidential clients) of its own access,
//     ID and refresh tokens about a user, for an access token (the default)
//     or an ID token, with an audience among its clients (else
//     invalid_target), at most the subject token's scopes, and act naming
//     the actor token's subject.
//   - no RFC 9207 iss parameter in authorization responses (op sends none), so
//     authorization_response_iss_parameter_supported is not advertised.
//
// Redirect URIs are not registered: every client accepts any http loopback
// redirect URI (127.0.0.1, [::1] or localhost, any port, any path), as RFC
// 8252 §7.3 asks of native apps, and nothing else.
//
// op v3 logs refused requests through the process-wide slog.Default (its
// WithLogger option has no effect). This package never changes that default;
// a program that wants the demo silent also on errors sets it itself.
package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/claimcheck/claimcheck/internal/op/store"

	"github.com/claimcheck/claimcheck/failure"
)

// The demo clients. They are public knowledge on purpose: the provider only
// ever runs on loopback for a demonstration or a test.
const (
	// PublicClientID is a public client: no secret, token endpoint
	// authentication "none", PKCE with S256 required.
	PublicClientID = "claimcheck-public"
	// ConfidentialClientID authenticates at the token endpoint with
	// ConfidentialClientSecret, by client_secret_basic or client_secret_post.
	ConfidentialClientID = "claimcheck-confidential"
	// ConfidentialClientSecret is the secret of ConfidentialClientID.
	ConfidentialClientSecret = "claimcheck-demo-secret"
	// JWTClientID is the conventional id of a private_key_jwt client; it
	// is not among DefaultClients, since its key is a test's own (see
	// Client.Key).
	JWTClientID = "claimcheck-jwt"
)

// DefaultTokenLifetime is the lifetime of ID and access tokens when
// Options.TokenLifetime is zero.
const DefaultTokenLifetime = 10 * time.Minute

// User is an account that can sign in on the provider's sign-in page.
type User struct {
	Username string
	Password string
	// Subject is the "sub" claim; Username when empty.
	Subject string
	Name    string
	Email   string
	// Groups is the "groups" claim issued with the groups scope.
	Groups []string
	// ClaimSource, when set, issues Groups as a distributed or aggregated
	// claim instead (see ClaimSourceUsers).
	ClaimSource *ClaimSource
}

// Client is a registered OAuth client. Every client may use the code flow,
// the implicit flow and refresh tokens, with any loopback redirect URI.
type Client struct {
	ID string
	// Secret is empty for a public client, which must use PKCE (S256) and
	// authenticates with "none"; otherwise the client authenticates with
	// client_secret_basic or client_secret_post.
	Secret string
	// OpaqueAccessTokens makes its access tokens opaque (not JWTs), as many
	// providers' are: only introspection can vouch for them.
	OpaqueAccessTokens bool
	// Key, when set, is the RSA public key the client signs its
	// private_key_jwt assertions with (Secret must then be empty), and
	// KeyID its kid (empty: any kid, or none, names it).
	Key   *rsa.PublicKey
	KeyID string
}

// Options configures Start. The zero value serves the default users and
// clients on a random port of 127.0.0.1.
type Options struct {
	// Addr is the address to listen on; "127.0.0.1:0" when empty. The host
	// must be a loopback address or "localhost" (which means 127.0.0.1).
	Addr string
	// Users is DefaultUsers() when empty.
	Users []User
	// Clients is DefaultClients() when empty.
	Clients []Client
	// TokenLifetime is the lifetime of ID and access tokens;
	// DefaultTokenLifetime when zero.
	TokenLifetime time.Duration
	// Wrap, when set, wraps the provider's handler: a test or benchmark
	// counts or delays requests with it.
	Wrap func(http.Handler) http.Handler
	// GroupsShape is how every user's groups are issued, as the provider
	// it names issues them (one of Shapes; ShapeGroups when empty). A
	// user's ClaimSource takes precedence.
	GroupsShape string
}

// DefaultUsers returns the demo accounts: alice (password "alice-demo",
// groups Everyone and IT) and bob (password "bob-demo", group Everyone).
func DefaultUsers() []User {
	return []User{
		{
			Username: "alice",
			Password: "alice-demo",
			Subject:  "user-alice",
			Name:     "Alice Example",
			Email:    "alice@example.com",
			Groups:   []string{"Everyone", "IT"},
		},
		{
			Username: "bob",
			Password: "bob-demo",
			Subject:  "user-bob",
			Name:     "Bob Example",
			Email:    "bob@example.com",
			Groups:   []string{"Everyone"},
		},
	}
}

// DefaultClients returns the public client PublicClientID and the
// confidential client ConfidentialClientID.
func DefaultClients() []Client {
	return []Client{
		{ID: PublicClientID},
		{ID: ConfidentialClientID, Secret: ConfidentialClientSecret},
	}
}

// Provider is a running demo OpenID Provider.
type Provider struct {
	issuer    string
	srv       *http.Server
	served    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Start listens on o.Addr and serves the provider over plain http until
// Close. ctx bounds only the start. Errors carry a failure class: a bad
// option or an address that cannot be bound is failure.Usage.
func Start(ctx context.Context, o Options) (*Provider, error) {
	const what = "demo provider"
	addr, err := loopbackAddr(o.Addr)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, what, err)
	}
	users := o.Users
	if len(users) == 0 {
		users = DefaultUsers()
	}
	clients := o.Clients
	if len(clients) == 0 {
		clients = DefaultClients()
	}
	lifetime := o.TokenLifetime
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	if lifetime < 0 {
		return nil, failure.New(failure.Usage, what, "negative token lifetime %s", lifetime)
	}
	if !knownShape(o.GroupsShape) {
		return nil, failure.New(failure.Usage, what, "unknown groups shape %q (want one of %s)", o.GroupsShape, strings.Join(Shapes(), ", "))
	}
	key, err := store.NewSigningKey()
	if err != nil {
		return nil, failure.Wrap(failure.Provider, what, err)
	}
	st, err := newStorage(users, clients, key, lifetime)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, what, err)
	}
	st.shape = o.GroupsShape
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, failure.New(failure.Provider, what, "crypto key: %w", err)
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, failure.New(failure.Usage, what, "listen on %s: %w", addr, err)
	}
	issuer := "http://" + ln.Addr().String()
	st.issuer = issuer
	handler, err := newHandler(issuer, st, cryptoKey)
	if err != nil {
		_ = ln.Close()
		return nil, failure.Wrap(failure.Provider, what, err)
	}
	if o.Wrap != nil {
		handler = o.Wrap(handler)
	}
	p := &Provider{
		issuer: issuer,
		srv: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			// Keep the process's stderr clean: a demo has no operator to read it.
			ErrorLog: log.New(io.Discard, "", 0),
		},
		served: make(chan struct{}),
	}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Issuer returns the issuer URL, http://127.0.0.1:PORT (or http://[::1]:PORT).
func (p *Provider) Issuer() string { return p.issuer }

// Close stops the provider: the port is free and its goroutines are gone
// when it returns. Calling it again returns the first result.
func (p *Provider) Close() error {
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := p.srv.Shutdown(ctx); err != nil {
			// A client holding a request open must not keep the port.
			err = p.srv.Close()
			if err != nil {
				p.closeErr = failure.New(failure.Provider, "demo provider", "close: %w", err)
			}
		}
		<-p.served
	})
	return p.closeErr
}

func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("address %q is not a loopback address", addr)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// authorizer wraps op's provider to put the authorization request checks in
// our hands (op.AuthorizeValidator) and to switch off what the storage does
// not offer, so that the discovery document built from it is true.
type authorizer struct {
	*op.Provider
}

// GrantTypeJWTAuthorizationSupported is true in op whatever the storage can
// do; the demo has no client keys, so the grant could never succeed.
func (a authorizer) GrantTypeJWTAuthorizationSupported() bool { return false }

// IntrospectionAuthMethodPrivateKeyJWTSupported: clients with a Key
// authenticate by private_key_jwt there as at the token endpoint.
func (a authorizer) IntrospectionAuthMethodPrivateKeyJWTSupported() bool { return true }

// RevocationAuthMethodPrivateKeyJWTSupported: likewise.
func (a authorizer) RevocationAuthMethodPrivateKeyJWTSupported() bool { return true }

var supportedResponseTypes = []oidc.ResponseType{
	oidc.ResponseTypeCode,
	oidc.ResponseTypeIDTokenOnly,
	oidc.ResponseTypeIDToken, // "id_token token" in op's naming
}

// ValidateAuthRequest replaces op's own checks, which know only registered
// redirect URIs (or globs, too lax to express "loopback only"), accept PKCE
// "plain", and let response_mode=query carry tokens.
func (a authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, st op.Storage, verifier *op.IDTokenHintVerifier) (string, error) {
	client, err := st.GetClientByClientID(ctx, req.ClientID)
	if err != nil {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client_id").WithParent(err)
	}
	// Until the redirect URI is known good, every error is shown to the
	// browser instead of being redirected (invalid_request_redirect_uri).
	if err := checkRedirectURI(req.RedirectURI); err != nil {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri refused: %s", err)
	}
	if req.ResponseMode == "" && req.ResponseType != oidc.ResponseTypeCode {
		// op would answer an error for a hybrid or unknown type in the query;
		// OAuth 2.0 Multiple Response Types makes fragment their default.
		req.ResponseMode = oidc.ResponseModeFragment
	}
	if !slices.Contains(supportedResponseTypes, req.ResponseType) {
		return "", &oidc.Error{ErrorType: "unsupported_response_type", Description: "supported: code, id_token, id_token token"}
	}
	code := req.ResponseType == oidc.ResponseTypeCode
	switch req.ResponseMode {
	case "", oidc.ResponseModeFragment, oidc.ResponseModeFormPost:
	case oidc.ResponseModeQuery:
		if !code {
			return "", oidc.ErrInvalidRequest().WithDescription("response_mode query must not carry tokens")
		}
	default:
		return "", oidc.ErrInvalidRequest().WithDescription("unsupported response_mode")
	}
	if req.MaxAge, err = op.ValidateAuthReqPrompt(req.Prompt, req.MaxAge); err != nil {
		return "", err
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		// There are no sessions: every request needs the sign-in page.
		return "", oidc.ErrLoginRequired()
	}
	if req.Scopes, err = op.ValidateAuthReqScopes(client, req.Scopes); err != nil {
		return "", err
	}
	// op keeps phone and address whatever the client; nothing here backs
	// them, so they go the way op sends other unknown scopes: dropped.
	req.Scopes = slices.DeleteFunc(req.Scopes, func(s string) bool { return !slices.Contains(supportedScopes, s) })
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return "", oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	if !code && req.Nonce == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("nonce is required with response_type %s", req.ResponseType)
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return "", oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if code && client.AuthMethod() == oidc.AuthMethodNone && req.CodeChallenge == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("PKCE (S256) is required for public clients")
	}
	return op.ValidateAuthReqIDTokenHint(ctx, req.IDTokenHint, verifier)
}

// checkRedirectURI accepts exactly the loopback redirect URIs of RFC 8252
// §7.3: http, host 127.0.0.1, [::1] or localhost, any port, any path.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http":
		return errors.New("scheme must be http")
	case u.Opaque != "":
		return errors.New("not a hierarchical URL")
	case u.User != nil:
		// http://127.0.0.1:80@evil.example/ has the host evil.example.
		return errors.New("user information is not allowed")
	case strings.Contains(raw, "#"):
		return errors.New("a fragment is not allowed")
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return nil
	}
	return errors.New("host must be 127.0.0.1, [::1] or localhost")
}
