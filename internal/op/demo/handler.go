package demo

import (
	"context"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const loginPath = "/login"

var supportedScopes = []string{
	oidc.ScopeOpenID,
	oidc.ScopeProfile,
	oidc.ScopeEmail,
	scopeGroups,
	oidc.ScopeOfflineAccess,
}

// supportedClaims lists what the tokens and userinfo can actually carry; op's
// default list names phone and locale claims this provider never issues.
var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "amr", "azp",
	"at_hash", "c_hash", "client_id", "jti", "scope",
	"name", "preferred_username", "email", "email_verified", claimGroups,
}

// newHandler puts our own mux in front of op's router: the sign-in page lives
// beside op, the discovery document is rebuilt to say only what is true, and
// the endpoints this provider does not offer are answered 404.
func newHandler(issuer string, st *storage, cryptoKey [32]byte) (http.Handler, error) {
	cfg := &op.Config{
		CryptoKey:      cryptoKey,
		CodeMethodS256: true,
		AuthMethodPost: true,
		// op checks the assertion's signature with the key
		// storage.GetKeyByIDAndClientID finds, and wants aud = the issuer.
		AuthMethodPrivateKeyJWT: true,
		GrantTypeRefreshToken:   true,
		SupportedScopes:         supportedScopes,
		SupportedClaims:         supportedClaims,
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     deviceLifetime,
			PollInterval: devicePollInterval,
			UserFormPath: devicePath,
			UserCode:     op.UserCodeBase20,
		},
	}
	provider, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, err
	}
	a := authorizer{Provider: provider}
	// op's own router would hand its handlers the bare *op.Provider and so
	// bypass ValidateAuthRequest; this one is built from the wrapper.
	router := op.CreateRouter(a)

	mux := http.NewServeMux()
	mux.Handle("/", &assertionCheck{issuer: issuer, verifier: a, next: &passwordGrant{
		next: router, path: provider.TokenEndpoint().Relative(), issuer: issuer, storage: st, creator: a,
	}})
	mux.Handle(devicePath, &deviceHandler{storage: st})
	mux.Handle(claimsPath, &claimsHandler{storage: st})
	mux.Handle(oidc.DiscoveryEndpoint, discoveryHandler(issuer, a, st))
	mux.Handle(loginPath, &loginHandler{
		storage:  st,
		callback: op.AuthCallbackURL(a),
		issuer:   issuer,
	})
	// End session needs sessions and post-logout redirect URIs: the demo
	// has neither.
	mux.Handle(provider.EndSessionEndpoint().Relative(), http.NotFoundHandler())
	return securityHeaders(mux), nil
}

func discoveryHandler(issuer string, a authorizer, st *storage) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx := op.ContextWithIssuer(r.Context(), issuer)
		doc := discovery(ctx, a, st)
		op.Discover(w, doc)
	})
}

func discovery(ctx context.Context, a authorizer, st *storage) *oidc.DiscoveryConfiguration {
	doc := op.CreateDiscoveryConfig(ctx, a, st)
	doc.EndSessionEndpoint = ""
	// op knows nothing of the password grant the demo answers itself.
	doc.GrantTypesSupported = append(doc.GrantTypesSupported, grantPassword)
	doc.CheckSessionIframe = ""
	// op leaves response_modes_supported out, which means query and fragment
	// only, though it does implement form_post.
	doc.ResponseModesSupported = []string{
		string(oidc.ResponseModeQuery),
		string(oidc.ResponseModeFragment),
		string(oidc.ResponseModeFormPost),
	}
	// op.Scopes and op.SupportedClaims read the config only from a bare
	// *op.Provider, not from the wrapper.
	doc.ScopesSupported = supportedScopes
	doc.ClaimsSupported = supportedClaims
	return doc
}

// assertionCheck verifies a client assertion (private_key_jwt) before op
// sees the request: op answers a bad signature, audience or expiry with
// server_error and status 500, where RFC 6749 §5.2 has invalid_client, and
// a client would take a provider fault for what is its own configuration.
type assertionCheck struct {
	issuer   string
	verifier interface {
		JWTProfileVerifier(context.Context) *op.JWTProfileVerifier
	}
	next http.Handler
}

func (h *assertionCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.ParseForm() == nil && r.PostForm.Get("client_assertion") != "" &&
		r.PostForm.Get("client_assertion_type") == oidc.ClientAssertionTypeJWTAssertion {
		ctx := op.ContextWithIssuer(r.Context(), h.issuer)
		a, err := op.VerifyJWTAssertion(ctx, r.PostForm.Get("client_assertion"), h.verifier.JWTProfileVerifier(ctx))
		if err != nil {
			op.RequestError(w, r, oidc.ErrInvalidClient().WithDescription("client assertion refused: %v", err), nil)
			return
		}
		// op's client_credentials grant and the demo's password grant know
		// only secrets: they ask the storage, which finds this.
		r = r.WithContext(context.WithValue(r.Context(), assertedClient{}, a.Issuer))
	}
	h.next.ServeHTTP(w, r)
}

// assertedClient is the context key of the client id a verified client
// assertion named.
type assertedClient struct{}

// securityHeaders are the ones that fit every response, op's included: op's
// form_post page submits itself with an inline handler, so a
// Content-Security-Policy is set only on our own pages.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// Pages here can have a code or a request id in their URL.
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
