package okta

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/claimcheck/claimcheck/internal/op/store"
)

const (
	authRequestLifetime = 10 * time.Minute
	tokenLifetime       = time.Hour
	// sessionTokenLifetime: a sessionToken is one-time and short-lived.
	sessionTokenLifetime = 5 * time.Minute
	scopeGroups          = "groups"
)

// directory is what the servers of one org share: people, apps and the
// session tokens of the Authentication API.
type directory struct {
	users    map[string]*User // by username
	subjects map[string]*User
	clients  map[string]*Client

	// internal is the secret op knows a client by once this package has
	// authenticated it with an assertion.
	internal map[string]string

	mu       sync.Mutex
	sessions map[string]sessionToken
}

type sessionToken struct {
	subject string
	expires time.Time
}

func newDirectory(o Options) (*directory, error) {
	d := &directory{
		users: map[string]*User{}, subjects: map[string]*User{},
		clients: map[string]*Client{}, sessions: map[string]sessionToken{},
		internal: map[string]string{},
	}
	for _, u := range o.Users {
		u := u
		if u.Username == "" || u.Password == "" || u.Subject == "" {
			return nil, errors.New("a user needs a username, a password and a subject")
		}
		switch u.Status {
		case "", StatusSuccess, StatusMFARequired, StatusLockedOut, StatusPasswordExpired:
		default:
			return nil, fmt.Errorf("user %q: unknown status %q", u.Username, u.Status)
		}
		d.users[u.Username], d.subjects[u.Subject] = &u, &u
	}
	for _, c := range o.Clients {
		c := c
		if c.ID == "" || len(c.RedirectURIs) == 0 {
			return nil, errors.New("a client needs an id and a redirect URI")
		}
		if len(c.Keys) > 0 && c.Secret != "" {
			return nil, fmt.Errorf("client %q: a Public key / Private key app has no secret", c.ID)
		}
		for _, k := range c.Keys {
			if k.KeyID == "" || !k.IsPublic() || !k.Valid() {
				return nil, fmt.Errorf("client %q: each key needs a kid and must be public", c.ID)
			}
		}
		d.clients[c.ID] = &c
		d.internal[c.ID] = c.Secret
		if c.Secret == "" && len(c.Keys) > 0 {
			d.internal[c.ID] = randomString(32)
		}
	}
	return d, nil
}

// internalSecret is the secret op checks for client id.
func (d *directory) internalSecret(id string) string { return d.internal[id] }

// checkPassword compares in constant time.
func (d *directory) checkPassword(username, password string) (*User, bool) {
	u := d.users[username]
	want := ""
	if u != nil {
		want = u.Password
	}
	a, b := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(want))
	if u == nil || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return nil, false
	}
	return u, true
}

func (d *directory) newSessionToken(subject string) (string, time.Time, error) {
	tok, err := store.NewID()
	if err != nil {
		return "", time.Time{}, err
	}
	exp := time.Now().Add(sessionTokenLifetime)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sessions[tok] = sessionToken{subject: subject, expires: exp}
	return tok, exp, nil
}

// redeemSessionToken spends a session token: it works once.
func (d *directory) redeemSessionToken(tok string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[tok]
	delete(d.sessions, tok)
	if !ok || time.Now().After(s.expires) {
		return "", false
	}
	return s.subject, true
}

// mint is put in each request's context by the server's handler. op signs
// access and ID tokens through the one Storage.SigningKey and takes both
// audiences from the one AuthRequest.GetAudience; it always asks the
// storage for an access token (CreateAccessToken) right before it builds
// and signs that token, and builds the ID token after. So CreateAccessToken
// raises access, GetAudience and SigningKey read it, and SigningKey lowers
// it: the access token gets its own audience and (at the org server) its
// own, unpublished key.
// jkt, set by the token endpoint for a DPoP-bound request, is the
// thumbprint the access token's cnf names.
type mint struct {
	access bool
	jkt    string
}

type ctxKey int

const (
	mintKey ctxKey = iota
	publishKey
	sessionTokenKey
	pushedKey
)

func mintOf(ctx context.Context) *mint {
	m, _ := ctx.Value(mintKey).(*mint)
	return m
}

// server is one authorization server's op.Storage.
type server struct {
	store.Storage
	dir *directory
	// id is "" for the org server.
	id     string
	issuer string
	// claims: the org server's one ID-token groups claim (with the groups
	// scope), or a custom server's claims.
	claims         []Claim
	accessAudience string
	idKey          *store.SigningKey
	// accessKey equals idKey at a custom server; the org server's is not
	// published.
	accessKey *store.SigningKey

	// Requests answers op for the auth requests and their codes; each copy
	// handed to op carries the mint of its request.
	*store.Requests[*authRequest]

	mu     sync.Mutex
	tokens map[string]*accessToken
	bound  *binding
}

func (s *server) org() bool { return s.id == "" }

type accessToken struct {
	id, clientID, subject string
	scopes                []string
	audience              []string
	issued, expires       time.Time
	// jkt is the DPoP key's thumbprint of a bound token.
	jkt string
}

// authRequest adds to the protocol's request the access token's audience
// and the mint of the request op is handling with this clone.
type authRequest struct {
	store.AuthRequest
	accessAud []string
	mint      *mint
}

// Clone is a deep copy without the mint: each handler sets its own.
func (a *authRequest) Clone() *authRequest {
	c := *a
	c.AuthRequest = a.AuthRequest.Copy()
	c.accessAud = slices.Clone(a.accessAud)
	c.mint = nil
	return &c
}

// minting gives a copy handed to op the mint of the handler of ctx.
func minting(ctx context.Context, a *authRequest) { a.mint = mintOf(ctx) }

// GetAudience is the access token's audience while op mints one, the
// client otherwise.
func (a *authRequest) GetAudience() []string {
	if a.mint != nil && a.mint.access {
		return a.accessAud
	}
	return a.AuthRequest.GetAudience()
}

// implicit: the tokens travel through the browser.
func (a *authRequest) implicit() bool { return a.ResponseType != oidc.ResponseTypeCode }

func (s *server) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	base, err := store.NewAuthRequest(req)
	if err != nil {
		return nil, err
	}
	ar := &authRequest{AuthRequest: base, accessAud: []string{s.accessAudience}}
	// /authorize with a sessionToken from the Authentication API skips the
	// sign-in page.
	if tok, _ := ctx.Value(sessionTokenKey).(string); tok != "" {
		if sub, ok := s.dir.redeemSessionToken(tok); ok {
			ar.SignIn(sub)
		}
	}
	return s.Requests.Add(ctx, ar), nil
}

func (s *server) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, err := store.NewID()
	if err != nil {
		return "", time.Time{}, err
	}
	id = "AT." + id
	now := time.Now()
	at := &accessToken{
		id: id, subject: req.GetSubject(), scopes: slices.Clone(req.GetScopes()),
		audience: []string{s.accessAudience}, issued: now, expires: now.Add(tokenLifetime),
	}
	if ar, ok := req.(*authRequest); ok {
		at.clientID = ar.ClientID
	}
	if m := mintOf(ctx); m != nil {
		at.jkt = m.jkt
	}
	s.mu.Lock()
	s.tokens[id] = at
	s.mu.Unlock()
	if m := mintOf(ctx); m != nil {
		m.access = true
	}
	return id, at.expires, nil
}

func (s *server) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh tokens are not offered here")
}

func (s *server) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *server) TerminateSession(context.Context, string, string) error { return nil }

func (s *server) RevokeToken(_ context.Context, token, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.tokens[token]; ok && at.clientID == clientID {
		delete(s.tokens, token)
	}
	return nil
}

func (s *server) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *server) SigningKey(ctx context.Context) (op.SigningKey, error) {
	if m := mintOf(ctx); m != nil && m.access {
		m.access = false
		return s.accessKey, nil
	}
	return s.idKey, nil
}

// KeySet is the published JWKS when the keys endpoint asks; op's own
// verification of access tokens (userinfo, introspection) also knows the
// org server's unpublished access-token key.
func (s *server) KeySet(ctx context.Context) ([]op.Key, error) {
	keys := []op.Key{s.idKey.Public()}
	if published, _ := ctx.Value(publishKey).(bool); !published && s.accessKey != s.idKey {
		keys = append(keys, s.accessKey.Public())
	}
	return keys, nil
}

func (s *server) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.dir.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", id, store.ErrUnknown)
	}
	return s.client(c), nil
}

func (s *server) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	_, ok := s.dir.clients[id]
	want := s.dir.internalSecret(id)
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
	if !ok || want == "" || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromRequest fills the ID token. At the org server an ID token
// that comes with an access token is thin: op already leaves out profile
// and email then, and the groups claim stays out too.
func (s *server) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, ok := s.dir.subjects[req.GetSubject()]
	if !ok {
		return fmt.Errorf("subject: %w", store.ErrUnknown)
	}
	setProfile(ui, u, scopes)
	ar, _ := req.(*authRequest)
	implicit := ar != nil && ar.implicit()
	if s.org() {
		thin := ar == nil || ar.ResponseType != oidc.ResponseTypeIDTokenOnly
		if thin || !slices.Contains(scopes, scopeGroups) {
			return nil
		}
	}
	return s.addGroups(ui.AppendClaims, u, InIDToken, implicit)
}

// addGroups adds the claims configured for the token kind, honouring the
// 100-group limit: an error in the implicit flow, no claim otherwise.
func (s *server) addGroups(add func(string, any), u *User, kind string, implicit bool) error {
	for _, c := range s.claims {
		if c.In != kind {
			continue
		}
		if len(u.Groups) > GroupsLimit {
			if implicit {
				return oidc.ErrServerError().WithDescription("%s", strings.Replace(TooManyGroups, "'groups'", "'"+c.Name+"'", 1))
			}
			continue
		}
		add(c.Name, groupsOf(u))
	}
	return nil
}

func groupsOf(u *User) []string {
	if u.Groups == nil {
		return []string{}
	}
	return slices.Clone(u.Groups)
}

func setProfile(ui *oidc.UserInfo, u *User, scopes []string) {
	ui.Subject = u.Subject
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			ui.Name, ui.PreferredUsername = u.Name, u.Username
		case oidc.ScopeEmail:
			ui.Email, ui.EmailVerified = u.Email, true
		}
	}
}

// SetUserinfoFromToken answers /userinfo: profile claims by scope and the
// groups (all of them: the limit is a token's) by the groups scope at the
// org server, or the ID-token claims at a custom server.
func (s *server) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	at, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || at.subject != subject || time.Now().After(at.expires) {
		return oidc.ErrAccessDenied().WithDescription("invalid access token")
	}
	u, ok := s.dir.subjects[subject]
	if !ok {
		return fmt.Errorf("subject: %w", store.ErrUnknown)
	}
	setProfile(ui, u, at.scopes)
	for _, c := range s.claims {
		if c.In == InIDToken && (!s.org() || slices.Contains(at.scopes, scopeGroups)) {
			ui.AppendClaims(c.Name, groupsOf(u))
		}
	}
	return nil
}

// SetIntrospectionFromToken answers for tokens of the asking client.
func (s *server) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	at, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || at.subject != subject || at.clientID != clientID || time.Now().After(at.expires) {
		return errors.New("inactive")
	}
	u := s.dir.subjects[subject]
	resp.Scope = at.scopes
	resp.ClientID = at.clientID
	resp.TokenType = oidc.BearerToken
	if at.jkt != "" {
		resp.TokenType = "DPoP"
		resp.Claims = map[string]any{"cnf": map[string]any{"jkt": at.jkt}}
	}
	resp.Expiration = oidc.FromTime(at.expires)
	resp.IssuedAt = oidc.FromTime(at.issued)
	resp.Audience = at.audience
	resp.Issuer = s.issuer
	resp.Subject = subject
	resp.JWTID = at.id
	if u != nil {
		resp.Username = u.Username
		if resp.Claims == nil {
			resp.Claims = map[string]any{}
		}
		resp.Claims["uid"] = u.Subject
	}
	return nil
}

// accessClaims are Okta's access-token claims beyond op's: ver, cid, uid,
// scp, and at a custom server its access-token claims.
func (s *server) accessClaims(ctx context.Context, req op.TokenRequest, scopes []string) (map[string]any, error) {
	u, ok := s.dir.subjects[req.GetSubject()]
	if !ok {
		return nil, fmt.Errorf("subject: %w", store.ErrUnknown)
	}
	ar, _ := req.(*authRequest)
	cid := ""
	if ar != nil {
		cid = ar.ClientID
	}
	claims := map[string]any{"ver": 1, "cid": cid, "uid": u.Subject, "scp": scopes}
	if m := mintOf(ctx); m != nil && m.jkt != "" {
		claims["cnf"] = map[string]any{"jkt": m.jkt}
	}
	err := s.addGroups(func(k string, v any) { claims[k] = v }, u, InAccessToken, ar != nil && ar.implicit())
	return claims, err
}

func (s *server) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, errors.New("unused: GetPrivateClaimsFromRequest answers")
}

func (s *server) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	return s.accessClaims(ctx, req, req.GetScopes())
}

// client is an app as this server sees it.
func (s *server) client(c *Client) *store.Client {
	return store.NewClient(store.ClientConfig{
		ID:              c.ID,
		Public:          c.Secret == "" && len(c.Keys) == 0,
		RedirectURIs:    c.RedirectURIs,
		ResponseTypes:   responseTypes,
		GrantTypes:      []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeImplicit},
		IDTokenLifetime: tokenLifetime,
		LoginURL: func(id string) string {
			return signInPath + "?" + url.Values{"as": {s.id}, "id": {id}}.Encode()
		},
		AllowScope: func(scope string) bool { return scope == scopeGroups && s.org() },
	})
}

var (
	_ op.Storage                        = (*server)(nil)
	_ op.CanSetUserinfoFromRequest      = (*server)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*server)(nil)
	_ op.AuthRequest                    = (*authRequest)(nil)
)
