package harness

import "fmt"

// User is a test account, configured the same way at every provider.
type User struct {
	// Login is the account's name at oidc-provider (its sign-in form's
	// "login" and the ID token's sub).
	Login string
	// Email is the account's e-mail address, which is also what Dex's
	// password sign-in form asks for.
	Email    string
	Name     string
	Password string
	Groups   []string
}

// The test users. Alice is in the groups that the tests expect; Bob lacks IT.
var (
	Alice = User{
		Login:    "alice",
		Email:    "alice@example.com",
		Name:     "Alice Admin",
		Password: "alice-e2e-password",
		Groups:   []string{"IT", "Everyone"},
	}
	Bob = User{
		Login:    "bob",
		Email:    "bob@example.com",
		Name:     "Bob Builder",
		Password: "bob-e2e-password",
		Groups:   []string{"Everyone"},
	}
)

// Users lists every test user.
var Users = []User{Alice, Bob}

// Client is a client registered at the providers.
type Client struct {
	ID string
	// Secret is empty for a public client.
	Secret string
	// AuthMethod is the token endpoint authentication method: none,
	// client_secret_basic or client_secret_post. oidc-provider holds a
	// client to its registered method; Dex accepts a confidential client's
	// secret either way.
	AuthMethod string
	// RequirePAR registers the client (at oidc-provider) with
	// require_pushed_authorization_requests (RFC 9126).
	RequirePAR bool
	// RequireSignedRequestObject registers the client (at oidc-provider)
	// with require_signed_request_object and request_object_signing_alg
	// RS256 (RFC 9101), and with the jwks of
	// OIDCProviderOptions.ClientJWK.
	RequireSignedRequestObject bool
	// GroupsShape (oidc-provider only) is how the groups are issued to
	// the client: see ShapeClients.
	GroupsShape string
	// DPoPBound registers the client (at oidc-provider) with
	// dpop_bound_access_tokens (RFC 9449): a token request without a
	// DPoP proof is refused.
	DPoPBound bool
	// JARM registers the client (at oidc-provider) with
	// authorization_signed_response_alg RS256: its authorization
	// responses in the JARM response modes are signed JWTs.
	JARM bool
	// TLSClientAuthSubjectDN registers the client (at an oidc-provider
	// with OIDCProviderOptions.PKI) with tls_client_auth_subject_dn (RFC
	// 8705 §2.1.2): the subject its certificate must have.
	TLSClientAuthSubjectDN string
	// CertificateBound registers the client (at an oidc-provider with
	// OIDCProviderOptions.PKI) with
	// tls_client_certificate_bound_access_tokens (RFC 8705 §3), and its
	// access tokens are JWTs for APIResource, so that their cnf shows.
	CertificateBound bool
}

// The test clients. Each may use every response type that its provider
// supports (code, id_token, id_token token, and the hybrids).
var (
	// PublicClient has no secret and must use PKCE (S256).
	PublicClient = Client{ID: "cc-public", AuthMethod: "none"}
	// BasicClient authenticates with HTTP Basic.
	BasicClient = Client{ID: "cc-basic", Secret: "cc-basic-e2e-secret", AuthMethod: "client_secret_basic"}
	// PostClient authenticates with the secret in the form body.
	PostClient = Client{ID: "cc-post", Secret: "cc-post-e2e-secret", AuthMethod: "client_secret_post"}
	// APIClient (oidc-provider only) is public; its access tokens are JWTs
	// for the resource APIResource that carry the user's groups in the claim
	// APIGroupsClaim, as an Okta custom authorization server's do.
	APIClient = Client{ID: "cc-api", AuthMethod: "none"}
	// PARClient (oidc-provider only) authenticates with HTTP Basic and is
	// registered with require_pushed_authorization_requests: an
	// authorization request that was not pushed is refused.
	PARClient = Client{ID: "cc-par", Secret: "cc-par-e2e-secret", AuthMethod: "client_secret_basic", RequirePAR: true}
	// JARClient (oidc-provider only, registered when
	// OIDCProviderOptions.ClientJWK is set) authenticates with
	// private_key_jwt and takes only signed request objects (RFC 9101),
	// both with the key of ClientJWK.
	JARClient = Client{ID: "cc-jar", AuthMethod: "private_key_jwt", RequireSignedRequestObject: true}
	// JWTClient (oidc-provider only, registered when
	// OIDCProviderOptions.ClientJWK is set) authenticates with
	// private_key_jwt (RFC 7523) with the key of ClientJWK, and takes
	// plain authorization requests.
	JWTClient = Client{ID: "cc-jwt", AuthMethod: "private_key_jwt"}
	// SecretJWTClient (oidc-provider only) authenticates with
	// client_secret_jwt: an HS256 assertion keyed by its secret.
	SecretJWTClient = Client{ID: "cc-secret-jwt", Secret: "cc-secret-jwt-e2e-secret-of-32-bytes-or-more", AuthMethod: "client_secret_jwt"}
	// DPoPClient (oidc-provider only) is a public client registered with
	// dpop_bound_access_tokens: its tokens are DPoP-bound, and a token
	// request without a proof is refused.
	DPoPClient = Client{ID: "cc-dpop", AuthMethod: "none", DPoPBound: true}
	// JARMClient (oidc-provider only) is a public client registered for
	// JWT secured authorization responses (JARM), signed RS256.
	JARMClient = Client{ID: "cc-jarm", AuthMethod: "none", JARM: true}
	// MTLSClient (oidc-provider with OIDCProviderOptions.PKI only)
	// authenticates with a certificate the test CA issued for
	// MTLSClientSubjectDN (tls_client_auth), and its access tokens are
	// bound to that certificate.
	MTLSClient = Client{ID: "cc-mtls", AuthMethod: "tls_client_auth", TLSClientAuthSubjectDN: MTLSClientSubjectDN, CertificateBound: true}
	// SelfSignedMTLSClient (oidc-provider with OIDCProviderOptions.PKI
	// and SelfSignedCert only) authenticates with the self-signed
	// certificate of its jwks (self_signed_tls_client_auth), and its access
	// tokens are bound to it.
	SelfSignedMTLSClient = Client{ID: "cc-mtls-self", AuthMethod: "self_signed_tls_client_auth", CertificateBound: true}
)

// ShapeClients (oidc-provider only) are public clients whose users' groups
// come as another provider's do, each read with its own --groups-claim:
// Keycloak's realm roles (realm_access.roles, nested), an Auth0 Action's
// namespaced claim (NamespacedGroupsClaim), ZITADEL's roles object
// (ZitadelRolesClaim), and OpenID Connect Core 5.6.2's aggregated claims
// (a JWT the provider signs) and distributed claims (an endpoint of the
// provider's that answers for the source's access_token), both named
// "groups" in _claim_names.
var ShapeClients = []Client{
	{ID: "cc-keycloak", AuthMethod: "none", GroupsShape: "keycloak"},
	{ID: "cc-namespaced", AuthMethod: "none", GroupsShape: "namespaced"},
	{ID: "cc-zitadel", AuthMethod: "none", GroupsShape: "zitadel"},
	{ID: "cc-aggregated", AuthMethod: "none", GroupsShape: "aggregated"},
	{ID: "cc-distributed", AuthMethod: "none", GroupsShape: "distributed"},
}

// The claims of ShapeClients' namespaced and ZITADEL shapes.
const (
	NamespacedGroupsClaim = "https://claimcheck.example/groups"
	ZitadelRolesClaim     = "urn:zitadel:iam:org:project:roles"
)

// Clients lists the clients registered at both providers (APIClient only
// at oidc-provider).
var Clients = []Client{PublicClient, BasicClient, PostClient}

const (
	// APIResource is the resource indicator (and access token audience) of
	// APIClient's access tokens at oidc-provider.
	APIResource = "api://claimcheck"
	// APIGroupsClaim names the groups claim in those access tokens.
	APIGroupsClaim = "GroupsClaim"
	// APIScope is the scope of the resource server APIResource; "groups" is
	// one of its scopes too.
	APIScope = "api"
	// MTLSClientSubjectDN is MTLSClient's registered subject, as RFC 4514
	// writes CN=MTLSClientCN, O=MTLSOrganization.
	MTLSClientSubjectDN = "CN=" + MTLSClientCN + ",O=" + MTLSOrganization
	// MTLSClientCN and MTLSOrganization make the subject of MTLSClient's
	// certificate (PKI.IssueClient).
	MTLSClientCN     = "cc-mtls"
	MTLSOrganization = "claimcheck e2e"
)

// RedirectURI returns the loopback redirect URI on port, with the path
// /callback (claimcheck's default shape).
func RedirectURI(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/callback", port)
}
