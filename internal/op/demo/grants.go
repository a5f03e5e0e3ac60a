package demo

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/claimcheck/claimcheck/internal/op/store"
)

// devicePath is the verification URI of the device authorization grant.
const devicePath = "/device"

// deviceLifetime is how long a device code stays valid.
const deviceLifetime = 5 * time.Minute

// devicePollInterval is the interval the device authorization response
// states (whole seconds, as RFC 8628 has it).
const devicePollInterval = time.Second

// grantPassword is the resource owner password credentials grant (RFC 6749
// §4.3), which op does not implement; the demo provider answers it itself
// in front of op's token endpoint and has op mint the tokens.
const grantPassword = "password"

// --- client credentials (op.ClientCredentialsStorage) ---

// ClientCredentials authenticates a confidential client for the
// client_credentials grant.
func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, clientID, clientSecret); err != nil {
		return nil, err
	}
	return s.clients[clientID], nil
}

// ClientCredentialsTokenRequest is the token request of a client acting on
// its own behalf: its subject is the client id.
func (s *storage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	scopes = slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return !slices.Contains(supportedScopes, sc) })
	return &clientCredentialsRequest{clientID: clientID, scopes: scopes}, nil
}

type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (r *clientCredentialsRequest) GetSubject() string    { return r.clientID }
func (r *clientCredentialsRequest) GetAudience() []string { return []string{r.clientID} }
func (r *clientCredentialsRequest) GetScopes() []string   { return r.scopes }

// --- device authorization (op.DeviceAuthorizationStorage) ---

type deviceRecord struct {
	clientID string
	userCode string
	scopes   []string
	expires  time.Time
	done     bool
	denied   bool
	subject  string
	authTime time.Time
}

// StoreDeviceAuthorization keeps a new device authorization request.
func (s *storage) StoreDeviceAuthorization(_ context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepDevices(time.Now())
	if _, ok := s.userCodes[userCode]; ok {
		return op.ErrDuplicateUserCode
	}
	s.devices[deviceCode] = &deviceRecord{clientID: clientID, userCode: userCode, scopes: slices.Clone(scopes), expires: expires}
	s.userCodes[userCode] = deviceCode
	return nil
}

// GetDeviceAuthorizatonState answers op's polls. A completed
// authorization is handed out once: the device code is spent.
func (s *storage) GetDeviceAuthorizatonState(_ context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[deviceCode]
	if !ok || d.clientID != clientID {
		return nil, errors.New("device code: " + store.ErrUnknown.Error())
	}
	st := &op.DeviceAuthorizationState{
		ClientID: d.clientID, Audience: []string{d.clientID}, Scopes: slices.Clone(d.scopes),
		Expires: d.expires, Done: d.done, Denied: d.denied,
		Subject: d.subject, AMR: []string{"pwd"}, AuthTime: d.authTime,
	}
	if d.done || d.denied {
		delete(s.devices, deviceCode)
		delete(s.userCodes, d.userCode)
	}
	return st, nil
}

// approveDevice records the user's answer for userCode; false when the code
// is unknown, expired or already answered.
func (s *storage) approveDevice(userCode string, u *userRecord, deny bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCodes[normalizeUserCode(userCode)]]
	if !ok || d.done || d.denied || time.Now().After(d.expires) {
		return false
	}
	if deny {
		d.denied = true
		return true
	}
	d.done, d.subject, d.authTime = true, u.Subject, time.Now()
	return true
}

// Called with mu held.
func (s *storage) sweepDevices(now time.Time) {
	for code, d := range s.devices {
		if now.After(d.expires) {
			delete(s.devices, code)
			delete(s.userCodes, d.userCode)
		}
	}
}

// normalizeUserCode accepts what a person types: any case, with or without
// the dash.
func normalizeUserCode(c string) string {
	c = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), "-", ""))
	if len(c) == 8 {
		return c[:4] + "-" + c[4:]
	}
	return c
}

// deviceHandler is the verification page: the user enters the user code,
// signs in, and approves or denies the device.
type deviceHandler struct {
	storage *storage
}

type devicePage struct {
	UserCode, Username, Error, Done string
	Accounts                        []User
}

var deviceTemplate = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Connect a device · claimcheck demo provider</title></head>
<body>
<main>
<h1>Connect a device</h1>
{{if .Done}}<p role="status">{{.Done}}</p>{{else}}
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/device">
<label for="user_code">Code shown on the device</label>
<input type="text" id="user_code" name="user_code" value="{{.UserCode}}" required>
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
<p>Demo accounts (username / password):{{range $i, $a := .Accounts}}{{if $i}},{{end}} <code>{{$a.Username}}</code> / <code>{{$a.Password}}</code>{{end}}</p>
{{end}}
</main>
</body>
</html>
`))

func (h *deviceHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.render(w, http.StatusOK, devicePage{UserCode: r.URL.Query().Get("user_code")})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			h.render(w, http.StatusBadRequest, devicePage{Error: "The form could not be read."})
			return
		}
		code, username := r.PostForm.Get("user_code"), r.PostForm.Get("username")
		u, ok := h.storage.checkPassword(username, r.PostForm.Get("password"))
		if !ok {
			h.render(w, http.StatusUnauthorized, devicePage{UserCode: code, Username: username, Error: "Wrong username or password."})
			return
		}
		deny := r.PostForm.Get("action") == "deny"
		if !h.storage.approveDevice(code, u, deny) {
			h.render(w, http.StatusBadRequest, devicePage{Username: username, Error: "This code is unknown, used or expired."})
			return
		}
		if deny {
			h.render(w, http.StatusOK, devicePage{Done: "The device was denied."})
			return
		}
		h.render(w, http.StatusOK, devicePage{Done: "The device is connected; you may close this page."})
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *deviceHandler) render(w http.ResponseWriter, status int, page devicePage) {
	if page.Done == "" {
		page.Accounts = h.storage.accounts
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	w.WriteHeader(status)
	_ = deviceTemplate.Execute(w, page)
}

// ApproveDevice approves (or, with deny, refuses) the device authorization
// pending under userCode as the given user, through the provider's own
// verification form over HTTP, as a person would. It is for tests and for
// the demo's stand-in browser.
func ApproveDevice(ctx context.Context, client *http.Client, verificationURI, userCode, username, password string, deny bool) error {
	action := "approve"
	if deny {
		action = "deny"
	}
	form := url.Values{"user_code": {userCode}, "username": {username}, "password": {password}, "action": {action}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, verificationURI, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("device verification form: " + resp.Status)
	}
	return nil
}

// --- password grant ---

// passwordRequest is the token request of the password grant.
type passwordRequest struct {
	clientID string
	subject  string
	scopes   []string
	authTime time.Time
}

func (r *passwordRequest) GetAMR() []string       { return []string{"pwd"} }
func (r *passwordRequest) GetAudience() []string  { return []string{r.clientID} }
func (r *passwordRequest) GetAuthTime() time.Time { return r.authTime }
func (r *passwordRequest) GetClientID() string    { return r.clientID }
func (r *passwordRequest) GetScopes() []string    { return r.scopes }
func (r *passwordRequest) GetSubject() string     { return r.subject }

// passwordGrant answers grant_type=password at the token endpoint and hands
// every other request to op.
type passwordGrant struct {
	next    http.Handler
	path    string
	issuer  string
	storage *storage
	creator op.TokenCreator
}

func (g *passwordGrant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != g.path || r.Method != http.MethodPost {
		g.next.ServeHTTP(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("error parsing form"), nil)
		return
	}
	if r.PostForm.Get("grant_type") != grantPassword {
		g.next.ServeHTTP(w, r)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), g.issuer)
	c, err := g.client(ctx, r)
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	u, ok := g.storage.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		op.RequestError(w, r, oidc.ErrInvalidGrant().WithDescription("wrong username or password"), nil)
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID}
	}
	scopes = slices.DeleteFunc(scopes, func(sc string) bool { return !slices.Contains(supportedScopes, sc) })
	req := &passwordRequest{clientID: c.GetID(), subject: u.Subject, scopes: scopes, authTime: time.Now()}
	resp, err := op.CreateTokenResponse(ctx, req, c, g.creator, true, "", "")
	if err != nil {
		op.RequestError(w, r, oidc.ErrServerError().WithParent(err), nil)
		return
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		resp.IDToken = ""
	}
	httphelper.MarshalJSON(w, resp)
}

// client authenticates the client of a password grant request: a public
// client by its id, a confidential one by client_secret_basic or
// client_secret_post.
func (g *passwordGrant) client(ctx context.Context, r *http.Request) (op.Client, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return nil, oidc.ErrInvalidClient().WithDescription("invalid basic auth header")
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return nil, oidc.ErrInvalidClient().WithDescription("invalid basic auth header")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, ok := g.storage.clients[id]
	if !ok {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if c.public {
		if secret != "" || basic {
			return nil, oidc.ErrInvalidClient().WithDescription("a public client sends no secret")
		}
		return c, nil
	}
	if err := g.storage.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("invalid client credentials")
	}
	return c, nil
}

var (
	_ op.ClientCredentialsStorage   = (*storage)(nil)
	_ op.DeviceAuthorizationStorage = (*storage)(nil)
	_ op.IDTokenRequest             = (*passwordRequest)(nil)
	_ op.TokenRequest               = (*clientCredentialsRequest)(nil)
)

// --- token exchange (op.TokenExchangeStorage, RFC 8693) ---

// ValidateTokenExchangeRequest decides what a token exchange may issue. op
// has verified the subject (and actor) token, when it is one of this
// provider's access, ID or refresh tokens, before it asks. The demo
// exchanges tokens about its users only; it issues an access token (the
// default) or an ID token, for audiences that are its registered clients
// (anything else is invalid_target), with at most the scopes the subject
// token was granted.
func (s *storage) ValidateTokenExchangeRequest(_ context.Context, req op.TokenExchangeRequest) error {
	switch req.GetRequestedTokenType() {
	case "":
		req.SetRequestedTokenType(oidc.AccessTokenType)
	case oidc.AccessTokenType, oidc.IDTokenType:
	default:
		return oidc.ErrInvalidRequest().WithDescription("requested_token_type %s: the demo issues access tokens and ID tokens", req.GetRequestedTokenType())
	}
	if _, ok := s.subjects[req.GetExchangeSubject()]; !ok {
		return oidc.ErrInvalidRequest().WithDescription("the subject token is about no user of this provider")
	}
	for _, a := range req.GetAudience() {
		if _, ok := s.clients[a]; !ok {
			return &oidc.Error{ErrorType: "invalid_target", Description: fmt.Sprintf("audience %q is not a client of this provider", a)}
		}
	}
	allowed := s.exchangeScopes(req)
	scopes := req.GetScopes()
	if len(scopes) == 0 {
		scopes = allowed
	}
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			return oidc.ErrInvalidScope().WithDescription("scope %q was not granted to the subject token", sc)
		}
	}
	req.SetCurrentScopes(slices.Clone(scopes))
	return nil
}

// exchangeScopes are the scopes the subject token was granted: a JWT
// access token's scope claim, an opaque one's record, and for an ID token
// (which carries no scope) what an ID token can be about.
func (s *storage) exchangeScopes(req op.TokenExchangeRequest) []string {
	var scopes []string
	switch req.GetExchangeSubjectTokenType() {
	case oidc.AccessTokenType:
		if sc, ok := req.GetExchangeSubjectTokenClaims()["scope"].(string); ok {
			scopes = strings.Fields(sc)
		} else {
			s.mu.Lock()
			if at, ok := s.accessTokens[req.GetExchangeSubjectTokenIDOrToken()]; ok {
				scopes = slices.Clone(at.scopes)
			}
			s.mu.Unlock()
		}
	case oidc.RefreshTokenType:
		s.mu.Lock()
		if rt, ok := s.refreshTokens[req.GetExchangeSubjectTokenIDOrToken()]; ok {
			scopes = slices.Clone(rt.scopes)
		}
		s.mu.Unlock()
	default:
		scopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, scopeGroups}
	}
	return slices.DeleteFunc(scopes, func(sc string) bool { return !slices.Contains(supportedScopes, sc) || sc == oidc.ScopeOfflineAccess })
}

// CreateTokenExchangeRequest keeps nothing: op does not ask for the
// request again, and the tokens it leads to are recorded as they are made.
func (s *storage) CreateTokenExchangeRequest(context.Context, op.TokenExchangeRequest) error {
	return nil
}

// GetPrivateClaimsFromTokenExchangeRequest are an exchanged access token's
// claims: those of any access token for the subject and scopes, and act
// (RFC 8693 §4.1) when an actor token named who acts.
func (s *storage) GetPrivateClaimsFromTokenExchangeRequest(_ context.Context, req op.TokenExchangeRequest) (map[string]any, error) {
	claims, err := s.accessTokenClaims(req.GetSubject(), req.GetClientID(), req.GetScopes())
	if err != nil {
		return nil, err
	}
	if act := actClaim(req); act != nil {
		claims["act"] = act
	}
	return claims, nil
}

// SetUserinfoFromTokenExchangeRequest fills an exchanged ID token's user
// claims as for a sign-in with the same scopes, and act.
func (s *storage) SetUserinfoFromTokenExchangeRequest(_ context.Context, ui *oidc.UserInfo, req op.TokenExchangeRequest) error {
	if err := s.setUserinfo(ui, req.GetSubject(), req.GetClientID(), req.GetScopes(), true); err != nil {
		return err
	}
	if act := actClaim(req); act != nil {
		ui.AppendClaims("act", act)
	}
	return nil
}

// actClaim is the act claim of RFC 8693 §4.1 for an exchange with an
// actor token: the actor's sub, and the actor token's own act nested, so
// that a chain of delegation stays visible.
func actClaim(req op.TokenExchangeRequest) map[string]any {
	if req.GetExchangeActor() == "" {
		return nil
	}
	act := map[string]any{"sub": req.GetExchangeActor()}
	if prior, ok := req.GetExchangeActorTokenClaims()["act"]; ok {
		act["act"] = prior
	}
	return act
}

var _ op.TokenExchangeStorage = (*storage)(nil)
