package oktaprovider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	authRequestLifetime = 10 * time.Minute
	codeLifetime        = 5 * time.Minute
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
		d.clients[c.ID] = &c
	}
	return d, nil
}

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
	tok, err := newID()
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

func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// mint is put in each request's context by the server's handler. op signs
// access and ID tokens through the one Storage.SigningKey and takes both
// audiences from the one AuthRequest.GetAudience; it always asks the
// storage for an access token (CreateAccessToken) right before it builds
// and signs that token, and builds the ID token after. So CreateAccessToken
// raises access, GetAudience and SigningKey read it, and SigningKey lowers
// it: the access token gets its own audience and (at the org server) its
// own, unpublished key.
type mint struct{ access bool }

type ctxKey int

const (
	mintKey ctxKey = iota
	publishKey
	sessionTokenKey
)

func mintOf(ctx context.Context) *mint {
	m, _ := ctx.Value(mintKey).(*mint)
	return m
}

// server is one authorization server's op.Storage.
type server struct {
	dir *directory
	// id is "" for the org server.
	id     string
	issuer string
	// claims: the org server's one ID-token groups claim (with the groups
	// scope), or a custom server's claims.
	claims         []Claim
	accessAudience string
	idKey          *signingKey
	// accessKey equals idKey at a custom server; the org server's is not
	// published.
	accessKey *signingKey

	mu           sync.Mutex
	authRequests map[string]*authRequest
	codes        map[string]string
	tokens       map[string]*accessToken
}

func (s *server) org() bool { return s.id == "" }

type accessToken struct {
	id, clientID, subject string
	scopes                []string
	audience              []string
	issued, expires       time.Time
}

type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state, nonce string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge
	done         bool
	subject      string
	authTime     time.Time
	accessAud    []string

	// mint is the one of the request op is handling with this clone.
	mint *mint
}

func (a *authRequest) clone(m *mint) *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	c.mint = m
	return &c
}

func (a *authRequest) GetID() string  { return a.id }
func (a *authRequest) GetACR() string { return "" }
func (a *authRequest) GetAudience() []string {
	if a.mint != nil && a.mint.access {
		return a.accessAud
	}
	return []string{a.clientID}
}
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}

// implicit: the tokens travel through the browser.
func (a *authRequest) implicit() bool { return a.responseType != oidc.ResponseTypeCode }

func (s *server) live(id string) (*authRequest, bool) {
	ar, ok := s.authRequests[id]
	if !ok || time.Since(ar.created) > authRequestLifetime {
		return nil, false
	}
	return ar, true
}

func (s *server) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	ar := &authRequest{
		id: id, created: time.Now(), clientID: req.ClientID, redirectURI: req.RedirectURI,
		state: req.State, nonce: req.Nonce, scopes: slices.Clone([]string(req.Scopes)),
		responseType: req.ResponseType, responseMode: req.ResponseMode,
		accessAud: []string{s.accessAudience},
	}
	if req.CodeChallenge != "" {
		ar.challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	// /authorize with a sessionToken from the Authentication API skips the
	// sign-in page.
	if tok, _ := ctx.Value(sessionTokenKey).(string); tok != "" {
		if sub, ok := s.dir.redeemSessionToken(tok); ok {
			ar.done, ar.subject, ar.authTime = true, sub, time.Now()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authRequests[id] = ar
	return ar.clone(mintOf(ctx)), nil
}

func (s *server) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.live(id)
	if !ok {
		return nil, fmt.Errorf("auth request: %w", errUnknown)
	}
	return ar.clone(mintOf(ctx)), nil
}

func (s *server) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	delete(s.codes, code)
	if !ok {
		return nil, fmt.Errorf("code: %w", errUnknown)
	}
	ar, ok := s.live(id)
	if !ok || !ar.done {
		return nil, fmt.Errorf("code: %w", errUnknown)
	}
	return ar.clone(mintOf(ctx)), nil
}

func (s *server) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ar, ok := s.live(id); !ok || !ar.done {
		return fmt.Errorf("auth request: %w", errUnknown)
	}
	s.codes[code] = id
	return nil
}

func (s *server) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	return nil
}

// signIn completes a pending request for the user.
func (s *server) signIn(id string, u *User) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.live(id)
	if !ok || ar.done {
		return false
	}
	ar.done, ar.subject, ar.authTime = true, u.Subject, time.Now()
	return true
}

// pending returns a copy of a live request.
func (s *server) pending(id string) (*authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.live(id)
	if !ok {
		return nil, false
	}
	return ar.clone(nil), true
}

func (s *server) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, err := newID()
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
		at.clientID = ar.clientID
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

func (s *server) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet is the published JWKS when the keys endpoint asks; op's own
// verification of access tokens (userinfo, introspection) also knows the
// org server's unpublished access-token key.
func (s *server) KeySet(ctx context.Context) ([]op.Key, error) {
	keys := []op.Key{publicKey{s.idKey}}
	if published, _ := ctx.Value(publishKey).(bool); !published && s.accessKey != s.idKey {
		keys = append(keys, publicKey{s.accessKey})
	}
	return keys, nil
}

func (s *server) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.dir.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", id, errUnknown)
	}
	return &client{Client: c, srv: s}, nil
}

func (s *server) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.dir.clients[id]
	want := ""
	if ok {
		want = c.Secret
	}
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
	if !ok || c.Secret == "" || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return errors.New("invalid client credentials")
	}
	return nil
}

func (s *server) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token. At the org server an ID token
// that comes with an access token is thin: op already leaves out profile
// and email then, and the groups claim stays out too.
func (s *server) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, ok := s.dir.subjects[req.GetSubject()]
	if !ok {
		return fmt.Errorf("subject: %w", errUnknown)
	}
	setProfile(ui, u, scopes)
	ar, _ := req.(*authRequest)
	implicit := ar != nil && ar.implicit()
	if s.org() {
		thin := ar == nil || ar.responseType != oidc.ResponseTypeIDTokenOnly
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
		return fmt.Errorf("subject: %w", errUnknown)
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
	resp.Expiration = oidc.FromTime(at.expires)
	resp.IssuedAt = oidc.FromTime(at.issued)
	resp.Audience = at.audience
	resp.Issuer = s.issuer
	resp.Subject = subject
	resp.JWTID = at.id
	if u != nil {
		resp.Username = u.Username
		resp.Claims = map[string]any{"uid": u.Subject}
	}
	return nil
}

// accessClaims are Okta's access-token claims beyond op's: ver, cid, uid,
// scp, and at a custom server its access-token claims.
func (s *server) accessClaims(req op.TokenRequest, scopes []string) (map[string]any, error) {
	u, ok := s.dir.subjects[req.GetSubject()]
	if !ok {
		return nil, fmt.Errorf("subject: %w", errUnknown)
	}
	ar, _ := req.(*authRequest)
	cid := ""
	if ar != nil {
		cid = ar.clientID
	}
	claims := map[string]any{"ver": 1, "cid": cid, "uid": u.Subject, "scp": scopes}
	err := s.addGroups(func(k string, v any) { claims[k] = v }, u, InAccessToken, ar != nil && ar.implicit())
	return claims, err
}

func (s *server) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, errors.New("unused: GetPrivateClaimsFromRequest answers")
}

func (s *server) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	return s.accessClaims(req, req.GetScopes())
}

func (s *server) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("no client keys")
}

func (s *server) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("no client keys")
}

func (s *server) Health(context.Context) error { return nil }

// client is an app as one server sees it.
type client struct {
	*Client
	srv *server
}

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return nil }
func (c *client) ApplicationType() op.ApplicationType {
	if c.Secret == "" {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType { return responseTypes }
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeImplicit}
}
func (c *client) LoginURL(id string) string {
	return signInPath + "?" + url.Values{"as": {c.srv.id}, "id": {id}}.Encode()
}
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return tokenLifetime }
func (c *client) DevMode() bool                        { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IsScopeAllowed(s string) bool         { return s == scopeGroups && c.srv.org() }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

var (
	_ op.Storage                        = (*server)(nil)
	_ op.CanSetUserinfoFromRequest      = (*server)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*server)(nil)
	_ op.AuthRequest                    = (*authRequest)(nil)
	_ op.Client                         = (*client)(nil)
)
