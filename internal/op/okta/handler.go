package okta

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/claimcheck/claimcheck/internal/op/store"
)

const (
	signInPath = "/signin"
	authnPath  = "/api/v1/authn"
)

var responseTypes = []oidc.ResponseType{
	oidc.ResponseTypeCode, oidc.ResponseTypeIDTokenOnly, responseTypeToken, oidc.ResponseTypeIDToken,
}

const responseTypeToken oidc.ResponseType = "token"

var orgScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, scopeGroups}
var customScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}

// authorizer is op's provider with our checks of authorization requests.
type authorizer struct {
	*op.Provider
	srv *server
}

func (a authorizer) GrantTypeJWTAuthorizationSupported() bool            { return false }
func (a authorizer) IntrospectionAuthMethodPrivateKeyJWTSupported() bool { return false }
func (a authorizer) RevocationAuthMethodPrivateKeyJWTSupported() bool    { return false }

// ValidateAuthRequest: redirect URIs match a registered one exactly; a
// custom server refuses scopes it does not define.
func (a authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, st op.Storage, verifier *op.IDTokenHintVerifier) (string, error) {
	c, err := st.GetClientByClientID(ctx, req.ClientID)
	if err != nil {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("The client_id is not valid.")
	}
	if !slices.Contains(c.RedirectURIs(), req.RedirectURI) {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("The 'redirect_uri' parameter must be a Login redirect URI in the client app settings: %s", req.RedirectURI)
	}
	if !slices.Contains(responseTypes, req.ResponseType) {
		return "", &oidc.Error{ErrorType: "unsupported_response_type", Description: "The response type is not supported by the authorization server. Configured response types: [code, id_token, token]."}
	}
	if req.ResponseMode == "" && req.ResponseType != oidc.ResponseTypeCode {
		req.ResponseMode = oidc.ResponseModeFragment
	}
	if req.ResponseType != oidc.ResponseTypeCode && req.ResponseMode == oidc.ResponseModeQuery {
		return "", oidc.ErrInvalidRequest().WithDescription("The response mode 'query' is not allowed for this response type.")
	}
	known := orgScopes
	if !a.srv.org() {
		known = customScopes
	}
	for _, sc := range req.Scopes {
		if !slices.Contains(known, sc) && sc != oidc.ScopeOfflineAccess {
			return "", oidc.ErrInvalidScope().WithDescription("One or more scopes are not configured for the authorization server resource.")
		}
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) && req.ResponseType != responseTypeToken {
		return "", oidc.ErrInvalidScope().WithDescription("The 'openid' scope is required.")
	}
	if req.ResponseType != oidc.ResponseTypeCode && req.ResponseType != responseTypeToken && req.Nonce == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("The request must include a 'nonce' parameter.")
	}
	if pushed, _ := ctx.Value(pushedKey).(bool); !pushed && a.srv.dir.clients[req.ClientID].RequirePAR {
		return "", oidc.ErrInvalidRequest().WithDescription("%s", descPARRequired)
	}
	if req.ResponseType == oidc.ResponseTypeCode && c.AuthMethod() == oidc.AuthMethodNone && req.CodeChallenge == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("PKCE code challenge is required when the token endpoint authentication method is 'NONE'.")
	}
	return "", nil
}

// newOrg builds the handler of the whole org.
func newOrg(orgIssuer string, o Options) (http.Handler, error) {
	dir, err := newDirectory(o)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	servers := map[string]*server{}
	orgClaims := []Claim{}
	if o.OrgGroupsClaim != "-" {
		orgClaims = []Claim{{Name: o.OrgGroupsClaim, In: InIDToken}}
	}
	org, err := mount(mux, dir, "", orgIssuer, orgIssuer, orgClaims)
	if err != nil {
		return nil, err
	}
	servers[""] = org
	for _, cs := range o.Servers {
		if cs.ID == "" || strings.ContainsAny(cs.ID, "/?#") || servers[cs.ID] != nil {
			return nil, errors.New("a custom server needs a unique id without / ? #")
		}
		aud := cs.Audience
		if aud == "" {
			aud = "api://default"
		}
		for _, c := range cs.Claims {
			if c.Name == "" || (c.In != InAccessToken && c.In != InIDToken) {
				return nil, errors.New("a claim needs a name and a token kind")
			}
		}
		s, err := mount(mux, dir, cs.ID, orgIssuer+"/oauth2/"+cs.ID, aud, cs.Claims)
		if err != nil {
			return nil, err
		}
		servers[cs.ID] = s
	}
	mux.Handle(signInPath, &signIn{dir: dir, servers: servers})
	mux.Handle(authnPath, &authn{dir: dir})
	return mux, nil
}

// mount adds one authorization server to mux. The org server has its
// endpoints at /oauth2/v1/..., a custom server id at /oauth2/{id}/v1/...;
// both serve both well-known documents under their issuer.
func mount(mux *http.ServeMux, dir *directory, id, issuer, accessAud string, claims []Claim) (*server, error) {
	idKey, err := store.NewSigningKey()
	if err != nil {
		return nil, err
	}
	accessKey := idKey
	if id == "" {
		if accessKey, err = store.NewSigningKey(); err != nil {
			return nil, err
		}
	}
	s := &server{
		dir: dir, id: id, issuer: issuer, claims: claims, accessAudience: accessAud,
		idKey: idKey, accessKey: accessKey,
		Requests: store.NewRequests[*authRequest](authRequestLifetime, 0, minting),
		tokens:   map[string]*accessToken{},
		bound:    newBinding(),
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, err
	}
	prefix, base := "", "/oauth2/v1"
	if id != "" {
		prefix, base = "/oauth2/"+id, "/v1"
	}
	ep := func(p string) *op.Endpoint { return op.NewEndpoint(base + p) }
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true},
		s, op.StaticIssuer(issuer), op.WithAllowInsecure(),
		op.WithCustomAuthEndpoint(ep("/authorize")), op.WithCustomTokenEndpoint(ep("/token")),
		op.WithCustomIntrospectionEndpoint(ep("/introspect")), op.WithCustomUserinfoEndpoint(ep("/userinfo")),
		op.WithCustomRevocationEndpoint(ep("/revoke")), op.WithCustomEndSessionEndpoint(ep("/logout")),
		op.WithCustomKeysEndpoint(ep("/keys")), op.WithCustomDeviceAuthorizationEndpoint(ep("/device/authorize")),
	)
	if err != nil {
		return nil, err
	}
	a := authorizer{Provider: provider, srv: s}
	router := op.CreateRouter(a)
	sub := http.NewServeMux()
	sub.Handle("/", router)
	disc := discovery(issuer, a, s)
	sub.Handle(oidc.DiscoveryEndpoint, disc)
	sub.Handle("/.well-known/oauth-authorization-server", disc)
	sub.Handle(base+"/keys", publishing(router))
	sub.Handle(base+"/authorize", s.unpush(withSessionToken(router)))
	sub.Handle(base+"/token", s.token(router))
	sub.Handle(base+"/userinfo", s.userinfo(router))
	sub.HandleFunc(base+"/par", s.par)
	sub.Handle(base+"/authorize/callback", &tokenOnly{a: a, next: router})
	sub.Handle(base+"/logout", http.NotFoundHandler())
	sub.Handle(base+"/device/authorize", http.NotFoundHandler())
	var h http.Handler = withMint(sub)
	if prefix != "" {
		mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
	} else {
		mux.Handle("/", h)
	}
	return s, nil
}

func withMint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), mintKey, &mint{})))
	})
}

func publishing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), publishKey, true)))
	})
}

// withSessionToken hands the sessionToken parameter of /authorize to
// CreateAuthRequest, which op calls with this request's context.
func withSessionToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			if tok := r.Form.Get("sessionToken"); tok != "" {
				r = r.WithContext(context.WithValue(r.Context(), sessionTokenKey, tok))
			}
		}
		next.ServeHTTP(w, r)
	})
}

func discovery(issuer string, a authorizer, s *server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := op.ContextWithIssuer(r.Context(), issuer)
		doc := op.CreateDiscoveryConfig(ctx, a, s)
		doc.EndSessionEndpoint, doc.DeviceAuthorizationEndpoint, doc.CheckSessionIframe = "", "", ""
		doc.ResponseTypesSupported = []string{"code", "id_token", "token", "id_token token"}
		doc.ResponseModesSupported = []string{"query", "fragment", "form_post"}
		doc.ScopesSupported = orgScopes
		if !s.org() {
			doc.ScopesSupported = customScopes
		}
		doc.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeImplicit}
		doc.TokenEndpointAuthMethodsSupported = nil
		for _, m := range authMethods {
			doc.TokenEndpointAuthMethodsSupported = append(doc.TokenEndpointAuthMethodsSupported, oidc.AuthMethod(m))
		}
		doc.TokenEndpointAuthSigningAlgValuesSupported = algNames(assertionAlgs)
		// op's document has no field for PAR or DPoP.
		raw, err := json.Marshal(doc)
		var m map[string]any
		if err == nil {
			err = json.Unmarshal(raw, &m)
		}
		if err != nil {
			http.Error(w, "discovery", http.StatusInternalServerError)
			return
		}
		m["pushed_authorization_request_endpoint"] = s.endpoint("/par")
		m["dpop_signing_alg_values_supported"] = algNames(dpopAlgs)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
}

// tokenOnly answers response_type=token itself: op would add an ID token.
type tokenOnly struct {
	a    authorizer
	next http.Handler
}

func (t *tokenOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ar, ok := t.a.srv.Requests.Get(r.URL.Query().Get("id"))
	if !ok || ar.ResponseType != responseTypeToken || !ar.SignedIn {
		t.next.ServeHTTP(w, r)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), t.a.srv.issuer)
	ar.mint = mintOf(ctx)
	c, err := t.a.srv.GetClientByClientID(ctx, ar.ClientID)
	if err != nil {
		op.AuthRequestError(w, r, ar, err, t.a)
		return
	}
	tok, _, validity, err := op.CreateAccessToken(ctx, ar, op.AccessTokenTypeJWT, t.a, c, "")
	if err != nil {
		op.AuthRequestError(w, r, ar, err, t.a)
		return
	}
	_ = t.a.srv.DeleteAuthRequest(ctx, ar.ID)
	resp := &oidc.AccessTokenResponse{
		AccessToken: tok, TokenType: oidc.BearerToken, ExpiresIn: uint64(validity.Seconds()),
		State: ar.State, Scope: ar.Scopes,
	}
	if ar.ResponseMode == oidc.ResponseModeFormPost {
		if err := op.AuthResponseFormPost(w, ar.RedirectURI, resp, t.a.Encoder()); err != nil {
			op.AuthRequestError(w, r, ar, err, t.a)
		}
		return
	}
	u, err := op.AuthResponseURL(ar.RedirectURI, ar.ResponseType, ar.ResponseMode, resp, t.a.Encoder())
	if err != nil {
		op.AuthRequestError(w, r, ar, err, t.a)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// signIn is the hosted sign-in page. A request already signed in (by a
// sessionToken) goes straight on to op's callback.
type signIn struct {
	dir     *directory
	servers map[string]*server
}

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign In</title></head>
<body><main><h1>Sign In</h1>{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/signin">
<input type="hidden" name="as" value="{{.AS}}"><input type="hidden" name="id" value="{{.ID}}">
<label>Username <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign In</button></form></main></body></html>
`))

func (h *signIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s, ok := h.servers[r.Form.Get("as")]
	id := r.Form.Get("id")
	var ar *authRequest
	if ok {
		ar, ok = s.Requests.Get(id)
	}
	if !ok {
		http.Error(w, "This sign-in request is unknown or expired.", http.StatusBadRequest)
		return
	}
	callback := s.issuer + s.authorizeBase() + "/authorize/callback?id=" + url.QueryEscape(id)
	page := struct{ AS, ID, Error string }{AS: s.id, ID: id}
	switch {
	case ar.SignedIn:
		http.Redirect(w, r, callback, http.StatusFound)
		return
	case r.Method == http.MethodPost:
		u, ok := h.dir.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
		if ok && (u.Status == "" || u.Status == StatusSuccess) && s.Requests.SignIn(id, u.Subject) {
			http.Redirect(w, r, callback, http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		page.Error = "Unable to sign in"
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	_ = signInPage.Execute(w, page)
}

// authorizeBase is the path of the authorize endpoint below the issuer.
func (s *server) authorizeBase() string {
	if s.org() {
		return "/oauth2/v1"
	}
	return "/v1"
}

// authn is the Authentication API's primary authentication.
type authn struct{ dir *directory }

func (h *authn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		apiError(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method")
		return
	}
	var in struct{ Username, Password string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return
	}
	u, ok := h.dir.checkPassword(in.Username, in.Password)
	if !ok {
		apiError(w, http.StatusUnauthorized, "E0000004", "Authentication failed")
		return
	}
	user := map[string]any{"id": u.Subject, "profile": map[string]any{"login": u.Username}}
	out := map[string]any{"status": u.Status, "_embedded": map[string]any{"user": user}}
	switch u.Status {
	case "", StatusSuccess:
		tok, exp, err := h.dir.newSessionToken(u.Subject)
		if err != nil {
			apiError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
			return
		}
		out["status"], out["sessionToken"], out["expiresAt"] = StatusSuccess, tok, exp.UTC().Format(time.RFC3339)
	case StatusLockedOut:
		delete(out, "_embedded")
	default:
		st, _ := store.NewID()
		out["stateToken"] = "00" + st
		out["expiresAt"] = time.Now().Add(sessionTokenLifetime).UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func apiError(w http.ResponseWriter, status int, code, summary string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oae-claimcheck", "errorCauses": []any{},
	})
}
