package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/claimcheck/claimcheck/internal/op/store"
)

const (
	scopeGroups = "groups"
	claimGroups = "groups"

	// authRequestLifetime is how long a person has to sign in.
	authRequestLifetime = 10 * time.Minute
	// codeLifetime: a code is redeemed by a program at once; RFC 6749 §4.1.2
	// recommends ten minutes at most.
	codeLifetime         = time.Minute
	refreshTokenLifetime = 8 * time.Hour
)

// storage is the in-memory op.Storage. Users, clients and the key are fixed at
// Start; auth requests and tokens live under mu.
type storage struct {
	store.Storage
	key *store.SigningKey
	// issuer is the provider's issuer, set by Start; sourceKey derives
	// the access tokens of distributed claim sources (sourceToken).
	issuer    string
	sourceKey [32]byte
	lifetime  time.Duration
	// shape is Options.GroupsShape (groupClaims).
	shape    string
	users    map[string]*userRecord // by username
	subjects map[string]*userRecord
	clients  map[string]*client
	// accounts are shown on the sign-in page, in the order of Options.Users:
	// this provider's passwords are demo passwords by design.
	accounts []User
	// dummyDigest is compared against when the username is unknown, so that
	// a wrong username costs the same time as a wrong password.
	dummyDigest [sha256.Size]byte

	// Requests answers op for the auth requests and their codes.
	*store.Requests[*authRequest]

	mu            sync.Mutex
	accessTokens  map[string]*accessToken
	refreshTokens map[string]*refreshToken
	devices       map[string]*deviceRecord // by device code
	userCodes     map[string]string        // user code -> device code
}

type userRecord struct {
	User
	passwordDigest [sha256.Size]byte
}

func newStorage(users []User, clients []Client, key *store.SigningKey, lifetime time.Duration) (*storage, error) {
	s := &storage{
		key:           key,
		lifetime:      lifetime,
		users:         make(map[string]*userRecord),
		subjects:      make(map[string]*userRecord),
		clients:       make(map[string]*client),
		Requests:      store.NewRequests[*authRequest](authRequestLifetime, codeLifetime, nil),
		accessTokens:  make(map[string]*accessToken),
		refreshTokens: make(map[string]*refreshToken),
		devices:       make(map[string]*deviceRecord),
		userCodes:     make(map[string]string),
	}
	if _, err := rand.Read(s.dummyDigest[:]); err != nil {
		return nil, err
	}
	var err error
	if s.sourceKey, err = newSourceKey(); err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Username == "" || u.Password == "" {
			return nil, errors.New("a user needs a username and a password")
		}
		if u.Subject == "" {
			u.Subject = u.Username
		}
		if s.users[u.Username] != nil || s.subjects[u.Subject] != nil {
			return nil, fmt.Errorf("user %q or subject %q given twice", u.Username, u.Subject)
		}
		u.Groups = slices.Clone(u.Groups)
		rec := &userRecord{User: u, passwordDigest: sha256.Sum256([]byte(u.Password))}
		s.users[u.Username] = rec
		s.subjects[u.Subject] = rec
		s.accounts = append(s.accounts, User{Username: u.Username, Password: u.Password})
	}
	for _, c := range clients {
		if c.ID == "" {
			return nil, errors.New("a client needs an id")
		}
		if c.Secret != "" && c.Key != nil {
			return nil, fmt.Errorf("client %q has a secret and a key: it authenticates with one", c.ID)
		}
		if s.clients[c.ID] != nil {
			return nil, fmt.Errorf("client %q given twice", c.ID)
		}
		s.clients[c.ID] = newClient(c, lifetime)
	}
	return s, nil
}

// checkPassword compares in constant time and always does the same work, so
// that neither the username nor the password leaks through timing.
func (s *storage) checkPassword(username, password string) (*userRecord, bool) {
	u := s.users[username]
	want := s.dummyDigest
	if u != nil {
		want = u.passwordDigest
	}
	got := sha256.Sum256([]byte(password))
	ok := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if u == nil || !ok {
		return nil, false
	}
	return u, true
}

// sweep drops what has expired, so a long-running demo does not grow.
// Called with mu held.
func (s *storage) sweep(now time.Time) {
	for id, at := range s.accessTokens {
		if now.After(at.expiration) {
			delete(s.accessTokens, id)
		}
	}
	for id, rt := range s.refreshTokens {
		if now.After(rt.expiration) {
			delete(s.refreshTokens, id)
		}
	}
}

// loginRequest returns what the sign-in page shows for a pending request.
func (s *storage) loginRequest(id string) (clientID, loginHint string, ok bool) {
	ar, ok := s.Requests.Get(id)
	if !ok || ar.SignedIn {
		return "", "", false
	}
	return ar.ClientID, ar.loginHint, true
}

// completeLogin marks a pending request as signed in by the user.
func (s *storage) completeLogin(id string, u *userRecord) bool {
	return s.Requests.SignIn(id, u.Subject)
}

// --- op.AuthStorage ---

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	base, err := store.NewAuthRequest(req)
	if err != nil {
		return nil, err
	}
	ar := s.Requests.Add(ctx, &authRequest{AuthRequest: base, loginHint: req.LoginHint})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(ar.Created)
	return ar, nil
}

// grant is what a token request carries over from the sign-in: op hands back
// either one of our auth requests or one of our refresh token requests.
type grant struct {
	clientID string
	subject  string
	audience []string
	scopes   []string
	amr      []string
	authTime time.Time
}

func grantOf(req op.TokenRequest) (grant, error) {
	switch r := req.(type) {
	case *authRequest:
		return grant{r.ClientID, r.Subject, r.GetAudience(), r.Scopes, r.GetAMR(), r.AuthTime}, nil
	case *refreshTokenRequest:
		return grant{r.clientID, r.subject, r.audience, r.scopes, r.amr, r.authTime}, nil
	case *passwordRequest:
		return grant{r.clientID, r.subject, r.GetAudience(), r.scopes, r.GetAMR(), r.authTime}, nil
	case *clientCredentialsRequest:
		return grant{r.clientID, r.clientID, r.GetAudience(), r.scopes, nil, time.Time{}}, nil
	case *op.DeviceAuthorizationState:
		return grant{r.ClientID, r.Subject, r.GetAudience(), r.Scopes, r.AMR, r.AuthTime}, nil
	case op.TokenExchangeRequest:
		return grant{r.GetClientID(), r.GetSubject(), r.GetAudience(), r.GetScopes(), r.GetAMR(), r.GetAuthTime()}, nil
	}
	return grant{}, fmt.Errorf("token request of type %T not supported", req)
}

// Called with mu held.
func (s *storage) newAccessToken(g grant, refreshID string, now time.Time) (*accessToken, error) {
	id, err := store.NewID()
	if err != nil {
		return nil, err
	}
	at := &accessToken{
		id:         id,
		clientID:   g.clientID,
		subject:    g.subject,
		audience:   slices.Clone(g.audience),
		scopes:     slices.Clone(g.scopes),
		expiration: now.Add(s.lifetime),
		issuedAt:   now,
		refreshID:  refreshID,
	}
	s.accessTokens[id] = at
	return at, nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, err := s.newAccessToken(g, "", time.Now())
	if err != nil {
		return "", time.Time{}, err
	}
	return at.id, at.expiration, nil
}

// CreateAccessAndRefreshTokens rotates: the refresh token presented is spent
// and a new one comes with the new access token.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The new refresh token keeps the scope first granted even when this
	// request narrowed the scope of its access token (RFC 6749 §6).
	rtScopes := g.scopes
	if current != "" {
		old, ok := s.refreshTokens[current]
		if !ok || old.clientID != g.clientID {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token unknown or already used")
		}
		rtScopes = old.scopes
		delete(s.refreshTokens, current)
	}
	rtID, err := store.NewID()
	if err != nil {
		return "", "", time.Time{}, err
	}
	at, err := s.newAccessToken(g, rtID, now)
	if err != nil {
		return "", "", time.Time{}, err
	}
	s.refreshTokens[rtID] = &refreshToken{
		id:         rtID,
		clientID:   g.clientID,
		subject:    g.subject,
		audience:   slices.Clone(g.audience),
		scopes:     slices.Clone(rtScopes),
		amr:        slices.Clone(g.amr),
		authTime:   g.authTime,
		expiration: now.Add(refreshTokenLifetime),
	}
	return at.id, rtID, at.expiration, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || time.Now().After(rt.expiration) {
		return nil, fmt.Errorf("refresh token: %w", store.ErrUnknown)
	}
	return &refreshTokenRequest{
		clientID: rt.clientID,
		subject:  rt.subject,
		audience: slices.Clone(rt.audience),
		scopes:   slices.Clone(rt.scopes),
		amr:      slices.Clone(rt.amr),
		authTime: rt.authTime,
	}, nil
}

// TerminateSession is what signing out means here, as there are no browser
// sessions: the tokens the client holds for the user stop working.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, at := range s.accessTokens {
		if at.subject == userID && at.clientID == clientID {
			delete(s.accessTokens, id)
		}
	}
	for id, rt := range s.refreshTokens {
		if rt.subject == userID && rt.clientID == clientID {
			delete(s.refreshTokens, id)
		}
	}
	return nil
}

// RevokeToken follows RFC 7009: an unknown token is not an error, a token of
// another client is refused, and revoking a refresh token also revokes the
// access tokens issued with it.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.accessTokens[tokenOrID]; ok {
		if at.clientID != clientID {
			return oidc.ErrInvalidRequest().WithDescription("token was issued to another client")
		}
		delete(s.accessTokens, tokenOrID)
		return nil
	}
	if rt, ok := s.refreshTokens[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidRequest().WithDescription("token was issued to another client")
		}
		delete(s.refreshTokens, tokenOrID)
		for id, at := range s.accessTokens {
			if at.refreshID == tokenOrID {
				delete(s.accessTokens, id)
			}
		}
	}
	return nil
}

// GetRefreshTokenInfo: refresh tokens are opaque ids of their own record, so
// the token and its id are the same string.
func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.subject, rt.id, nil
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{s.key.Public()}, nil
}

// --- op.OPStorage ---

func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", clientID, store.ErrUnknown)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	c, ok := s.clients[clientID]
	if ok && c.key != nil {
		if id, _ := ctx.Value(assertedClient{}).(string); id != clientID || secret != "" {
			return errors.New("invalid client credentials: the client authenticates with private_key_jwt")
		}
		return nil
	}
	got := sha256.Sum256([]byte(secret))
	want := s.dummyDigest
	if ok && !c.public {
		want = c.secretDigest
	}
	// A key client has no secret: the digest of "" must not let it in.
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok || c.public || c.key != nil {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(ui, req.GetSubject(), req.GetClientID(), scopes, true)
}

// SetUserinfoFromToken answers the userinfo endpoint for one of our access
// tokens, with the scopes it was issued for.
func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	at, ok := s.accessTokens[tokenID]
	var scopes []string
	var clientID string
	if ok {
		scopes, clientID = slices.Clone(at.scopes), at.clientID
	}
	s.mu.Unlock()
	if !ok || at.subject != subject || time.Now().After(at.expiration) {
		return oidc.ErrAccessDenied().WithDescription("access token unknown, expired or revoked")
	}
	return s.setUserinfo(ui, subject, clientID, scopes, false)
}

// SetIntrospectionFromToken lets a client introspect only tokens issued for
// it (it must be in the audience), which RFC 7662 §4 leaves to the server.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	at, ok := s.accessTokens[tokenID]
	var copied accessToken
	if ok {
		copied = *at
	}
	s.mu.Unlock()
	if !ok || copied.subject != subject || time.Now().After(copied.expiration) || !slices.Contains(copied.audience, clientID) {
		return errors.New("token not active for this client")
	}
	if copied.subject == copied.clientID {
		// A client_credentials token is about the client, not a user.
		resp.Subject = subject
	} else {
		ui := new(oidc.UserInfo)
		if err := s.setUserinfo(ui, subject, copied.clientID, copied.scopes, false); err != nil {
			return err
		}
		resp.SetUserInfo(ui)
	}
	resp.Scope = copied.scopes
	resp.ClientID = copied.clientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(copied.expiration)
	resp.IssuedAt = oidc.FromTime(copied.issuedAt)
	resp.NotBefore = oidc.FromTime(copied.issuedAt)
	resp.Audience = copied.audience
	resp.JWTID = copied.id
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	return s.accessTokenClaims(userID, clientID, scopes)
}

// GetPrivateClaimsFromRequest is what op uses for JWT access tokens when the
// storage offers it.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, scopes []string) (map[string]any, error) {
	clientID := ""
	if c, ok := req.(interface{ GetClientID() string }); ok {
		clientID = c.GetClientID()
	}
	claims, err := s.accessTokenClaims(req.GetSubject(), clientID, scopes)
	if err != nil {
		return nil, err
	}
	// op hands over the scopes without profile, email, phone and address
	// (claims of those go to userinfo, not into the token), but the token
	// is granted them all: its scope claim says so (RFC 9068 §2.2.3).
	claims["scope"] = strings.Join(req.GetScopes(), " ")
	return claims, nil
}

// accessTokenClaims are the claims beyond op's (iss, sub, aud, exp, iat, nbf,
// jti, client_id): scope as RFC 9068 has it, and groups in the provider's
// shape.
func (s *storage) accessTokenClaims(subject, clientID string, scopes []string) (map[string]any, error) {
	u, ok := s.subjects[subject]
	if !ok {
		if _, isClient := s.clients[subject]; isClient {
			// client_credentials: the client acts for itself; no groups.
			return map[string]any{"scope": strings.Join(scopes, " ")}, nil
		}
		return nil, fmt.Errorf("subject: %w", store.ErrUnknown)
	}
	claims := map[string]any{"scope": strings.Join(scopes, " ")}
	if slices.Contains(scopes, scopeGroups) && u.ClaimSource == nil {
		maps.Copy(claims, s.groupClaims(u, clientID))
	}
	return claims, nil
}

// setUserinfo fills the user's claims for the ID token (idToken) or the
// userinfo and introspection answers, of a token for clientID.
func (s *storage) setUserinfo(ui *oidc.UserInfo, subject, clientID string, scopes []string, idToken bool) error {
	u, ok := s.subjects[subject]
	if !ok {
		return fmt.Errorf("subject: %w", store.ErrUnknown)
	}
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeOpenID:
			ui.Subject = u.Subject
		case oidc.ScopeProfile:
			ui.Name = u.Name
			ui.PreferredUsername = u.Username
		case oidc.ScopeEmail:
			if u.Email != "" {
				ui.Email = u.Email
				// The demo vouches for its own made-up addresses.
				ui.EmailVerified = true
			}
		case scopeGroups:
			if cs := u.ClaimSource; cs != nil {
				if cs.UserinfoOnly && idToken {
					continue
				}
				if err := s.appendClaimSource(ui, u); err != nil {
					return err
				}
				continue
			}
			for name, v := range s.groupClaims(u, clientID) {
				ui.AppendClaims(name, v)
			}
		}
	}
	return nil
}

// groupsClaim is never null: a user in no group gets an empty array, which a
// checker can tell apart from a missing claim.
func groupsClaim(u *userRecord) []string {
	if u.Groups == nil {
		return []string{}
	}
	return slices.Clone(u.Groups)
}

// client is a demo client: op's view of it, and its secret's digest or
// its public key.
type client struct {
	*store.Client
	public       bool
	secretDigest [sha256.Size]byte
	opaque       bool
	key          *rsa.PublicKey
	keyID        string
}

// AuthMethod is private_key_jwt for a client with a key.
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.key != nil {
		return oidc.AuthMethodPrivateKeyJWT
	}
	return c.Client.AuthMethod()
}

// GetKeyByIDAndClientID is the public key a client's assertions are
// checked with (op.JWTProfileKeyStorage).
func (s *storage) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	c, ok := s.clients[clientID]
	if !ok || c.key == nil || (c.keyID != "" && keyID != c.keyID) {
		return nil, fmt.Errorf("client %q key %q: %w", clientID, keyID, store.ErrUnknown)
	}
	return &jose.JSONWebKey{Key: c.key, KeyID: c.keyID, Algorithm: string(jose.RS256), Use: "sig"}, nil
}

// newClient: the confidential client's AuthMethod is basic, yet op's token
// endpoint takes the secret from the header or the body alike (and
// advertises post because op.Config.AuthMethodPost is set). RedirectURIs is
// empty: ValidateAuthRequest accepts any loopback redirect URI itself, and
// op consults the list only in the checks it replaces.
func newClient(c Client, idTokenLifetime time.Duration) *client {
	public := c.Secret == "" && c.Key == nil
	grants := []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeImplicit, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode, grantPassword}
	if !public {
		grants = append(grants, oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange)
	}
	return &client{
		Client: store.NewClient(store.ClientConfig{
			ID:              c.ID,
			Public:          public,
			ResponseTypes:   supportedResponseTypes,
			GrantTypes:      grants,
			IDTokenLifetime: idTokenLifetime,
			LoginURL: func(authRequestID string) string {
				return loginPath + "?id=" + url.QueryEscape(authRequestID)
			},
			AllowScope: func(scope string) bool { return scope == scopeGroups },
		}),
		public:       public,
		secretDigest: sha256.Sum256([]byte(c.Secret)),
		opaque:       c.OpaqueAccessTokens,
		key:          c.Key,
		keyID:        c.KeyID,
	}
}

// AccessTokenType: opaque access tokens for clients that ask for them, so
// that tests see what many providers issue (and introspection vouches for).
func (c *client) AccessTokenType() op.AccessTokenType {
	if c.opaque {
		return op.AccessTokenTypeBearer
	}
	return op.AccessTokenTypeJWT
}

// authRequest implements op.AuthRequest. op only ever sees clones, so the
// sign-in page can complete the stored one under the storage's lock.
type authRequest struct {
	store.AuthRequest
	loginHint string
}

// Clone is a deep copy.
func (a *authRequest) Clone() *authRequest {
	c := *a
	c.AuthRequest = a.AuthRequest.Copy()
	return &c
}

type accessToken struct {
	id         string
	clientID   string
	subject    string
	audience   []string
	scopes     []string
	expiration time.Time
	issuedAt   time.Time
	refreshID  string
}

type refreshToken struct {
	id         string
	clientID   string
	subject    string
	audience   []string
	scopes     []string
	amr        []string
	authTime   time.Time
	expiration time.Time
}

// refreshTokenRequest implements op.RefreshTokenRequest.
type refreshTokenRequest struct {
	clientID string
	subject  string
	audience []string
	scopes   []string
	amr      []string
	authTime time.Time
}

func (r *refreshTokenRequest) GetAMR() []string            { return r.amr }
func (r *refreshTokenRequest) GetAudience() []string       { return r.audience }
func (r *refreshTokenRequest) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshTokenRequest) GetClientID() string         { return r.clientID }
func (r *refreshTokenRequest) GetScopes() []string         { return r.scopes }
func (r *refreshTokenRequest) GetSubject() string          { return r.subject }
func (r *refreshTokenRequest) SetCurrentScopes(s []string) { r.scopes = s }

// op finds the optional interfaces by type assertion; a changed signature
// would silently drop the groups claim instead of failing to compile.
var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.AuthorizeValidator             = authorizer{}
	_ op.OpenIDProvider                 = authorizer{}
	_ op.AuthRequest                    = (*authRequest)(nil)
	_ op.RefreshTokenRequest            = (*refreshTokenRequest)(nil)
	_ op.Client                         = (*client)(nil)
)
